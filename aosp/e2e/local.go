package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"permd/aosp/etc"
	"permd/framework/client"
)

// Local runs a host-mode permd as a child process against a fixture tree
// in a temp dir, with the default config except that the runner's own uid
// gets the framework role (on a device only system_server has it).
type Local struct {
	Permd string // permd binary; "" builds ./cmd/permd with the go command
	Keep  bool   // keep the temp dir (logs, database) for inspection

	dir    string
	socket string
	cmd    *exec.Cmd
	exited chan error
	c      *client.Client
}

// Fixture apps, as in the fixture's packages.list.
var localApps = []App{{10123, "com.example.camera"}, {10124, "com.example.notes"}}

// Name implements Transport.
func (l *Local) Name() string { return "local (host-mode permd child process)" }

// Dir is the temp dir (valid after Start).
func (l *Local) Dir() string { return l.dir }

// Start implements Transport.
func (l *Local) Start(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "permd-e2e-")
	if err != nil {
		return err
	}
	l.dir = dir
	bin := l.Permd
	if bin == "" {
		bin = filepath.Join(dir, "permd")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "permd/cmd/permd")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build permd: %v\n%s", err, out)
		}
	}
	root := filepath.Join(dir, "root")
	if err := writeFixture(root); err != nil {
		return err
	}
	conf := filepath.Join(dir, "config")
	if err := writeConfig(conf, os.Getuid()); err != nil {
		return err
	}
	l.socket = filepath.Join(dir, "permd.sock")
	logf, err := os.Create(filepath.Join(dir, "permd.log"))
	if err != nil {
		return err
	}
	l.cmd = exec.Command(bin, "--socket", l.socket, "--root", root,
		"--data-dir", filepath.Join(dir, "data"), "--config-dir", conf, "--log-level", "debug")
	l.cmd.Stdout, l.cmd.Stderr = logf, logf
	if err := l.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start permd: %w", err)
	}
	l.exited = make(chan error, 1)
	go func() { l.exited <- l.cmd.Wait(); logf.Close() }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := client.Dial(ctx, l.socket)
		if err == nil {
			l.c = c
			return nil
		}
		select {
		case err := <-l.exited:
			l.exited <- err
			return fmt.Errorf("permd exited during startup (%v); log:\n%s", err, l.logTail())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("permd did not answer on %s within 30 s; log:\n%s", l.socket, l.logTail())
		}
	}
}

func (l *Local) logTail() string {
	b, _ := os.ReadFile(filepath.Join(l.dir, "permd.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Call implements Transport.
func (l *Local) Call(ctx context.Context, method string, params, result any) error {
	err := l.c.Call(ctx, method, params, result)
	var re *client.RPCError
	if errors.As(err, &re) {
		return &RPCError{Code: re.Code, Message: re.Message}
	}
	return err
}

// Apps implements Transport.
func (l *Local) Apps(context.Context) ([]App, error) { return localApps, nil }

// Stop implements Transport: SIGTERM, then the daemon must exit 0 within
// 15 s and remove its socket.
func (l *Local) Stop(ctx context.Context) error {
	if l.cmd == nil {
		return nil
	}
	if !l.Keep {
		defer os.RemoveAll(l.dir)
	}
	if l.c != nil {
		l.c.Close()
	}
	l.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-l.exited:
		if err != nil {
			return fmt.Errorf("permd exited with %v after SIGTERM; log:\n%s", err, l.logTail())
		}
	case <-time.After(15 * time.Second):
		l.cmd.Process.Kill()
		return fmt.Errorf("permd still running 15 s after SIGTERM")
	}
	if _, err := os.Lstat(l.socket); err == nil {
		return fmt.Errorf("permd left its socket %s behind", l.socket)
	}
	return nil
}

// writeFixture lays out the files permd reads through --root.
func writeFixture(root string) error {
	files := map[string]string{
		"proc/stat":                  "cpu  1 0 1 100 0 0 0 0 0 0\nbtime 1764000000\n",
		"proc/1/stat":                "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n",
		"proc/1/status":              "Name:\tinit\nUid:\t0\t0\t0\t0\n",
		"system/app/.keep":           "",
		"system_ext/etc/permd/.keep": "",
	}
	var pl bytes.Buffer
	for _, a := range localApps {
		fmt.Fprintf(&pl, "%s %d 0 /data/user/0/%s default:targetSdkVersion=34 none 0 1 1 @system\n", a.Package, a.UID, a.Package)
	}
	files["data/system/packages.list"] = pl.String()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeConfig copies the default config to dir and gives uid the
// framework role ahead of the default rules.
func writeConfig(dir string, uid int) error {
	if err := os.CopyFS(dir, etc.Default()); err != nil {
		return fmt.Errorf("copy default config: %w", err)
	}
	p := filepath.Join(dir, "permd.json")
	os.Chmod(dir, 0o755)
	os.Chmod(p, 0o644)
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	var main map[string]json.RawMessage
	if err := json.Unmarshal(b, &main); err != nil {
		return fmt.Errorf("default permd.json: %w", err)
	}
	var roles []map[string]any
	if err := json.Unmarshal(main["roles"], &roles); err != nil {
		return fmt.Errorf("default permd.json roles: %w", err)
	}
	roles = append([]map[string]any{{"uid": uid, "role": "framework"}}, roles...)
	main["roles"], _ = json.Marshal(roles)
	out, err := json.MarshalIndent(main, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(p, out, 0o644)
}
