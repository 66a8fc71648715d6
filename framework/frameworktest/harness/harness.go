// Package harness is the core of the one test harness that runs a permd
// service in-process on a real socket and SQLite file: the directories,
// the config files, running the service until it is ready, and stopping
// it. frameworktest (for every package outside framework) and
// framework's own in-package tests are thin layers over it, each adding
// only how it builds the service.
//
// It does not import framework, and that is the point: an in-package
// test of framework cannot import a package that imports framework, and
// framework's tests reach into the service (its parts, hooks set before
// start) where a package_test could not. Moving those tests out would
// have meant exporting internals for tests; sharing this core instead
// keeps one harness with no second copy of its logic.
package harness

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"permd/aosp/wait"
	"permd/framework/client"
)

// HostRoles is the roles table of a host permd.json, shared by every
// test daemon: with no SELinux on a host, roles come from uids alone
// (0 root, 1000 framework, 1010 permission UI, 1011 settings, 1012
// systemui, 2000 shell).
const HostRoles = `[
    {"uid": 0, "role": "root"},
    {"uid": 1000, "role": "framework"},
    {"uid": 1010, "role": "permission_ui"},
    {"uid": 1011, "role": "settings"},
    {"uid": 1012, "role": "systemui"},
    {"uid": 2000, "role": "shell"}
  ]`

// TempDir is t.TempDir readable by other uids: tests that connect to the
// daemon as another uid (setpriv) must reach its socket.
func TempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o755)
	return dir
}

// Dirs are where a test daemon keeps its files.
type Dirs struct {
	Root   string // the fixture root (Options.Root)
	Config string // the config dir
	Data   string // the data dir
	Socket string // the socket path
}

// NewDirs lays out a daemon's files under base: root and data as given,
// or root an empty directory and data a fresh path; the config dir with
// files (by slash-separated relative path) written in it; the socket.
func NewDirs(t testing.TB, base, root, data string, files map[string]string) Dirs {
	t.Helper()
	d := Dirs{Root: root, Config: filepath.Join(base, "config"), Data: data, Socket: filepath.Join(base, "permd.sock")}
	if d.Root == "" {
		d.Root = filepath.Join(base, "root")
		if err := os.MkdirAll(d.Root, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if d.Data == "" {
		d.Data = filepath.Join(base, "data")
	}
	WriteFiles(t, d.Config, files)
	return d
}

// WriteFiles writes files (by slash-separated relative path) under dir.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Dial connects a client to the daemon listening on socket, closed when
// the test ends.
func Dial(t testing.TB, socket string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, socket)
	if err != nil {
		t.Fatalf("dial %s: %v", socket, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// stopTimeout bounds a stop: the daemon exits within 2 s of a stop by
// design, and a loaded machine running -race gets room on top.
const stopTimeout = 10 * time.Second

// Running is a service running in a goroutine of the test.
type Running struct {
	cancel context.CancelFunc
	done   chan error
}

// Run runs run until the test ends (or Stop), and returns once ready
// reports true. The test fails if run returns first (with its error) or
// ready does not hold within wait.Timeout.
func Run(t testing.TB, run func(context.Context) error, ready func() bool) *Running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx) }()
	t.Cleanup(func() { r.Stop(t) })
	wait.Until(t, "the service to start serving", func() bool {
		select {
		case err := <-r.done:
			r.cancel = nil
			cancel()
			t.Fatalf("service exited during start: %v", err)
		default:
		}
		return ready()
	})
	return r
}

// Stop ends the service and fails the test if it returned an error or
// did not stop. Stopping twice is a no-op.
func (r *Running) Stop(t testing.TB) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("service Run returned %v", err)
		}
	case <-time.After(stopTimeout):
		t.Error("service did not stop")
	}
}
