// Package frameworktest runs a real permd service in-process on a real
// socket and SQLite file, for tests outside package framework (permctl,
// the e2e runner).
package frameworktest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"permd/framework"
)

// Roles is a host permd.json: no SELinux, so roles by uid.
const Roles = `{
  "version": 1,
  "roles": [
    {"uid": 0, "role": "root"},
    {"uid": 1000, "role": "framework"},
    {"uid": 1010, "role": "permission_ui"},
    {"uid": 1011, "role": "settings"},
    {"uid": 1012, "role": "systemui"},
    {"uid": 2000, "role": "shell"}
  ]
}`

// Options configures Start.
type Options struct {
	Root   string            // fixture root; default an empty temp dir
	Config map[string]string // config files by relative path; permd.json defaults to Roles
	Data   string            // data dir; default a temp dir
	Now    func() time.Time
	Log    io.Writer // daemon logs; default discarded
}

// Daemon is a running service.
type Daemon struct {
	Socket    string
	ConfigDir string
	DataDir   string
	Root      string
	cancel    context.CancelFunc
	done      chan error
}

// Start runs a service until the test ends.
func Start(t testing.TB, o Options) *Daemon {
	t.Helper()
	dir := t.TempDir()
	if o.Root == "" {
		o.Root = filepath.Join(dir, "root")
		os.MkdirAll(o.Root, 0o755)
	}
	if o.Data == "" {
		o.Data = filepath.Join(dir, "data")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	d := &Daemon{Socket: filepath.Join(dir, "permd.sock"), ConfigDir: filepath.Join(dir, "config"), DataDir: o.Data, Root: o.Root, done: make(chan error, 1)}
	files := map[string]string{framework.MainFile: Roles}
	for k, v := range o.Config {
		files[k] = v
	}
	for name, body := range files {
		p := filepath.Join(d.ConfigDir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := framework.New(framework.Options{
		Root: o.Root, DataDir: o.Data, ConfigDir: d.ConfigDir, SocketPath: d.Socket,
		Version: "test", Now: o.Now, Logger: slog.New(slog.NewTextHandler(o.Log, nil)),
	})
	if err != nil {
		t.Fatalf("start permd: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() { d.done <- svc.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(d.Socket); err == nil {
			break
		}
		select {
		case err := <-d.done:
			t.Fatalf("permd exited during start: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("permd did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Cleanup(func() { d.Stop(t) })
	return d
}

// Stop shuts the service down (idempotent).
func (d *Daemon) Stop(t testing.TB) {
	if d.cancel == nil {
		return
	}
	d.cancel()
	d.cancel = nil
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("permd Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("permd did not stop")
	}
}
