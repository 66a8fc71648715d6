package framework

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"permd/framework/client"
	"permd/framework/frameworktest/harness"
)

// Test uids and the roles the test config gives them. On a host there is
// no SELinux, so roles come from uids alone.
const (
	uidFramework = 1000
	uidPermUI    = 1010
	uidSettings  = 1011
	uidSystemUI  = 1012
	uidShell     = 2000
	uidApp       = 10123
)

// testRolesJSON is the permd.json used by tests unless one overrides it:
// the host roles, and short limits for the timeout tests.
var testRolesJSON = `{
  "version": 1,
  "roles": ` + harness.HostRoles + `,
  "limits": {"read_timeout": "300ms", "idle_timeout": "30s"}
}`

// testOptions configures startTestService.
type testOptions struct {
	TraceArrival  func(method string, at time.Time) // Options.TraceArrival
	OnProcessDied func(uid, pid int)                // Options.OnProcessDied

	Root   string            // fixture root; default an empty temp dir
	Config map[string]string // files in the config dir, by relative path; permd.json defaults to testRolesJSON
	Now    func() time.Time
	Data   string // data dir; default a temp dir (set it to restart on the same data)
	Zone   string // Options.TimeZone: the device's zone at start
}

// testService is a daemon running in this process on a real socket with a
// real SQLite file. It is this package's layer over the one test harness
// (framework/frameworktest/harness, shared with frameworktest): it adds
// the test roles, the logs, and access to the *Service itself, which
// only an in-package test has (see the harness's doc for why the tests
// stay in the package).
type testService struct {
	svc       *Service
	socket    string
	configDir string
	dataDir   string
	run       *harness.Running
	logs      *harness.Buffer
}

func startTestService(t testing.TB, o testOptions) *testService {
	t.Helper()
	return startPrepared(t, o, nil)
}

// startPrepared is startTestService with prep run on the service before
// it starts, to set hooks (package list, app states) as the parts that
// own them would.
func startPrepared(t testing.TB, o testOptions, prep func(*Service)) *testService {
	t.Helper()
	files := map[string]string{MainFile: testRolesJSON}
	for k, v := range o.Config {
		files[k] = v
	}
	// Other-uid test clients must reach the socket.
	dirs := harness.NewDirs(t, harness.TempDir(t), o.Root, o.Data, files)
	logs := &harness.Buffer{}
	ts := &testService{socket: dirs.Socket, configDir: dirs.Config, dataDir: dirs.Data, logs: logs}
	svc, err := New(Options{
		TraceArrival: o.TraceArrival, OnProcessDied: o.OnProcessDied,
		Root: dirs.Root, DataDir: dirs.Data, ConfigDir: dirs.Config, SocketPath: dirs.Socket,
		Version: "test", Now: o.Now, TimeZone: o.Zone,
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(logs, testLogWriter{t}), &slog.HandlerOptions{Level: logLevel(t)})),
	})
	if err != nil {
		t.Fatalf("start service: %v", err)
	}
	if prep != nil {
		prep(svc)
	}
	ts.svc = svc
	ts.run = harness.Run(t, svc.Run, svc.ready.Load)
	return ts
}

// stop shuts the service down and reports a non-nil Run error.
func (ts *testService) stop(t testing.TB) { ts.run.Stop(t) }

// dial connects a client as this (root) process.
func (ts *testService) dial(t testing.TB) *client.Client {
	t.Helper()
	return harness.Dial(t, ts.socket)
}

// call makes one call on a fresh connection.
func (ts *testService) call(t testing.TB, method string, params, result any) error {
	t.Helper()
	c := ts.dial(t)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Call(ctx, method, params, result)
}

// rpcCode returns the JSON-RPC error code of err, or 0.
func rpcCode(err error) int {
	var re *client.RPCError
	if errors.As(err, &re) {
		return re.Code
	}
	return 0
}

// writeConfig replaces a config file atomically (write + rename, like
// editors and OTA do).
func (ts *testService) writeConfig(t testing.TB, name, body string) {
	t.Helper()
	p := filepath.Join(ts.configDir, filepath.FromSlash(name))
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

// testLogWriter sends daemon logs to the test log, shown on failure.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	defer func() { recover() }() // a log after the test ended must not panic
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// logLevel keeps benchmark output to the figures: a benchmark prints
// whatever it logs, a test only on failure.
func logLevel(t testing.TB) slog.Level {
	if _, ok := t.(*testing.B); ok {
		return slog.LevelError
	}
	return slog.LevelDebug
}
