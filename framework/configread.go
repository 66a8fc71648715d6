package framework

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// configReadTimeout bounds reading one config file. A regular file on a
// local filesystem never comes near it; it is there so that a file on a
// stuck filesystem cannot wedge the start or the watcher.
const configReadTimeout = 5 * time.Second

// errUnsafeFile marks a config file that was refused without being read
// whole: not a regular file, over the size cap, or too slow to read.
var errUnsafeFile = errors.New("config file refused")

// safeDirFS is the config dir as an fs.FS whose ReadFile reads only
// regular files (after following a symlink), at most maxConfigFile bytes,
// within configReadTimeout. A symlink to /dev/zero, a named pipe or a
// huge file is refused instead of exhausting memory or blocking forever.
type safeDirFS struct {
	dir  string
	root fs.FS
}

func (f safeDirFS) Open(name string) (fs.File, error) { return f.root.Open(name) }

// ReadFile implements fs.ReadFileFS; fs.ReadFile uses it.
func (f safeDirFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := readRegular(filepath.Join(f.dir, filepath.FromSlash(name)), maxConfigFile)
		ch <- result{b, err}
	}()
	t := time.NewTimer(configReadTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-t.C:
		// The reader goroutine is left blocked in the kernel; that costs
		// one goroutine, not the daemon.
		return nil, fmt.Errorf("%w: not read within %s", errUnsafeFile, configReadTimeout)
	}
}

// readRegular reads path if it is a regular file of at most max bytes.
// O_NONBLOCK makes opening a named pipe return at once instead of
// waiting for a writer; fstat then refuses it.
func readRegular(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: not a regular file (%s); only regular files are read", errUnsafeFile, fileKind(fi.Mode()))
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%w: file is %d bytes, the limit is %d", errUnsafeFile, fi.Size(), max)
	}
	// The file may grow after fstat: read one byte past the cap to see.
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: file grew past the limit of %d bytes while read", errUnsafeFile, max)
	}
	return b, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m.IsDir():
		return "directory"
	}
	return m.Type().String()
}
