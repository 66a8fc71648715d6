// Package frameworktest runs a real permd service in-process on a real
// socket and SQLite file, for tests outside package framework (permctl,
// the e2e runner). Its core is the harness subpackage, which framework's
// in-package tests share (see harness for why).
package frameworktest

import (
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"permd/framework"
	"permd/framework/client"
	"permd/framework/frameworktest/harness"
)

// Roles is a host permd.json: no SELinux, so roles by uid.
const Roles = `{
  "version": 1,
  "roles": ` + harness.HostRoles + `
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
	run       *harness.Running
}

// Start runs a service until the test ends.
func Start(t testing.TB, o Options) *Daemon {
	t.Helper()
	if o.Log == nil {
		o.Log = io.Discard
	}
	files := map[string]string{framework.MainFile: Roles}
	for k, v := range o.Config {
		files[k] = v
	}
	dirs := harness.NewDirs(t, t.TempDir(), o.Root, o.Data, files)
	d := &Daemon{Socket: dirs.Socket, ConfigDir: dirs.Config, DataDir: dirs.Data, Root: dirs.Root}
	svc, err := framework.New(framework.Options{
		Root: d.Root, DataDir: d.DataDir, ConfigDir: d.ConfigDir, SocketPath: d.Socket,
		Version: "test", Now: o.Now, Logger: slog.New(slog.NewTextHandler(o.Log, nil)),
	})
	if err != nil {
		t.Fatalf("start permd: %v", err)
	}
	// The socket exists once the daemon listens: clients connect from
	// then on.
	d.run = harness.Run(t, svc.Run, func() bool {
		_, err := os.Stat(d.Socket)
		return err == nil
	})
	return d
}

// Stop shuts the service down (idempotent).
func (d *Daemon) Stop(t testing.TB) { d.run.Stop(t) }

// Dial connects a client to the daemon, closed when the test ends.
func (d *Daemon) Dial(t testing.TB) *client.Client {
	t.Helper()
	return harness.Dial(t, d.Socket)
}
