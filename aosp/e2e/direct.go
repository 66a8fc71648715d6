package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"permd/aosp/adb"
)

// direct carries the adb transport's few adb commands (get-state, root,
// wait-for-device, push, shell) over package adb's own connection, TCP
// or USB, instead of the adb binary and its server: test stations with
// many phones then have no shared server to lose.
type direct struct {
	via    string // tcp or usb
	serial string

	mu   sync.Mutex
	conn *adb.Conn
}

func (d *direct) dial(ctx context.Context) (*adb.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil && d.conn.Err() == nil {
		return d.conn, nil
	}
	keys, err := adb.HostKeys(os.Getenv)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	opts := adb.HostOptions{Keys: keys, SendPublicKey: true}
	var c *adb.Conn
	if d.via == "usb" {
		c, err = adb.DialUSB(dctx, d.serial, opts)
	} else {
		c, err = adb.DialTCP(dctx, d.serial, opts)
	}
	if err != nil {
		return nil, err
	}
	d.conn = c
	return c, nil
}

func (d *direct) drop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		d.conn.Close()
		d.conn = nil
	}
}

// run answers one adb command line the way the adb binary would: stdout,
// stderr and exit status.
func (d *direct) run(ctx context.Context, args ...string) (string, string, int, error) {
	if len(args) == 0 {
		return "", "", -1, fmt.Errorf("%s transport: no command", d.via)
	}
	switch args[0] {
	case "get-state":
		c, err := d.dial(ctx)
		if err != nil {
			return "", err.Error(), 1, nil
		}
		return c.State() + "\n", "", 0, nil
	case "root":
		c, err := d.dial(ctx)
		if err != nil {
			return "", err.Error(), 1, nil
		}
		s, err := c.Open(ctx, "root:")
		if err != nil {
			return "", err.Error(), 1, nil
		}
		var b bytes.Buffer
		b.ReadFrom(s)
		s.Close()
		// adbd restarts as root unless it already is; either way the
		// next command dials again.
		d.drop()
		return b.String(), "", 0, nil
	case "wait-for-device":
		deadline := time.Now().Add(60 * time.Second)
		for {
			_, err := d.dial(ctx)
			if err == nil {
				return "", "", 0, nil
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return "", err.Error(), 1, nil
			}
			time.Sleep(500 * time.Millisecond)
		}
	case "push":
		if len(args) != 3 {
			return "", "", -1, fmt.Errorf("%s transport: push LOCAL REMOTE, got %q", d.via, args)
		}
		return d.push(ctx, args[1], args[2])
	case "shell":
		c, err := d.dial(ctx)
		if err != nil {
			return "", "", -1, err
		}
		var out, errb bytes.Buffer
		code, err := c.Run(ctx, strings.Join(args[1:], " "), &out, &errb)
		if err != nil {
			return "", "", -1, err
		}
		return out.String(), errb.String(), code, nil
	}
	return "", "", -1, fmt.Errorf("%s transport: adb %s is not supported", d.via, args[0])
}

func (d *direct) push(ctx context.Context, local, remote string) (string, string, int, error) {
	c, err := d.dial(ctx)
	if err != nil {
		return "", "", -1, err
	}
	y, err := c.Sync(ctx)
	if err != nil {
		return "", "", -1, err
	}
	defer y.Close()
	// Like adb push, a folder is copied whole; adbd makes the parents.
	n := 0
	err = filepath.WalkDir(local, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(local, p)
		if err != nil {
			return err
		}
		dst := remote
		if rel != "." {
			dst = path.Join(remote, filepath.ToSlash(rel))
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		n++
		return y.Push(f, dst, st.Mode(), st.ModTime())
	})
	if err != nil {
		return "", err.Error(), 1, nil
	}
	return fmt.Sprintf("%s: %d files pushed\n", local, n), "", 0, nil
}
