package framework

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"permd/aosp/wait"
	"permd/framework/client"
	"permd/framework/frameworktest/harness"
)

// daemonProc is the test binary running as a real daemon process.
type daemonProc struct {
	cmd    *exec.Cmd
	socket string
	stderr *harness.Buffer
	exited chan error
}

func startDaemonProc(t testing.TB, dir string) *daemonProc {
	t.Helper()
	cfg := filepath.Join(dir, "config")
	if _, err := os.Stat(cfg); errors.Is(err, os.ErrNotExist) {
		os.MkdirAll(cfg, 0o755)
		os.WriteFile(filepath.Join(cfg, MainFile), []byte(testRolesJSON), 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "root"), 0o755)
	d := &daemonProc{socket: filepath.Join(dir, "permd.sock"), stderr: &harness.Buffer{}, exited: make(chan error, 1)}
	exe, _ := os.Executable()
	d.cmd = exec.Command(exe)
	d.cmd.Env = append(os.Environ(), envChild+"=daemon", envSocket+"="+d.socket,
		"PERMD_TEST_ROOT="+filepath.Join(dir, "root"), "PERMD_TEST_DATA="+filepath.Join(dir, "data"), "PERMD_TEST_CONFIG="+cfg)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.exited <- d.cmd.Wait() }()
	t.Cleanup(func() { d.cmd.Process.Kill() })
	harness.WaitListening(t, d.socket, wait.Timeout, d.stderr)
	return d
}

// kill ends the daemon with SIGKILL, as a crash would, and returns once
// it is gone.
func (d *daemonProc) kill() {
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exited
}

func (d *daemonProc) dial(t testing.TB) *client.Client {
	t.Helper()
	return harness.Dial(t, d.socket)
}

// TestDaemonSignals: SIGHUP reloads, SIGTERM stops with exit 0 after
// answering the request in flight, and a restart on the same data dir
// serves again.
func TestDaemonSignals(t *testing.T) {
	dir := t.TempDir()
	d := startDaemonProc(t, dir)
	c := d.dial(t)
	var h Health
	if err := c.Call(context.Background(), "sys.health", nil, &h); err != nil {
		t.Fatal(err)
	}
	if h.You.Role != RoleRoot {
		t.Fatalf("role %s, want root", h.You.Role)
	}

	// Disable the file watch's effect by changing the file, then prove
	// SIGHUP alone reloads: the watcher would also catch it, so check
	// the trigger named in the log.
	os.WriteFile(filepath.Join(dir, "config", MainFile), []byte(strings.Replace(testRolesJSON, `"role": "root"`, `"role": "shell"`, 1)), 0o644)
	d.cmd.Process.Signal(syscall.SIGHUP)
	wait.Until(t, "reload applied", func() bool {
		var h Health
		return d.dial(t).Call(context.Background(), "sys.health", nil, &h) == nil && h.You.Role == RoleShell
	})

	start := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.exited:
		if err != nil {
			t.Fatalf("daemon exit after SIGTERM: %v\n%s", err, d.stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not exit after SIGTERM")
	}
	t.Logf("SIGTERM to exit: %v", time.Since(start))
	if _, err := os.Stat(d.socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file left behind after clean exit: %v", err)
	}
	logs := d.stderr.String()
	if !strings.Contains(logs, "trigger=SIGHUP") && !strings.Contains(logs, `trigger="file change"`) {
		t.Errorf("no reload logged:\n%s", logs)
	}

	// Restart on the same data dir.
	d2 := startDaemonProc(t, dir)
	if err := d2.dial(t).Call(context.Background(), "sys.health", nil, &h); err != nil || h.Status != "ok" {
		t.Fatalf("restarted daemon: %v %+v", err, h)
	}
	d2.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-d2.exited; err != nil {
		t.Fatalf("second daemon exit: %v", err)
	}
}

// TestBindSocket: a live daemon's socket is never taken over, a stale one
// is replaced, a non-socket is never removed.
func TestBindSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.sock")
	ln, cleanup, err := BindSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := BindSocket(path); !errors.Is(err, ErrDaemonRunning) {
		t.Fatalf("second bind while first is live: %v, want ErrDaemonRunning", err)
	}
	ln.Close()
	cleanup()

	// Stale: a socket file nobody listens on (a crashed daemon).
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	ln, cleanup, err = BindSocket(path)
	if err != nil {
		t.Fatalf("bind over stale socket: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o660 {
		t.Errorf("mode %o, want 660", fi.Mode().Perm())
	}
	ln.Close()
	cleanup()

	// A regular file at the path is someone else's: refuse.
	os.WriteFile(path, []byte("data"), 0o644)
	if _, _, err := BindSocket(path); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("bind over regular file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "data" {
		t.Fatal("regular file was touched")
	}
}

// TestInheritedListener follows init's convention: a bound (not yet
// listening) socket whose fd number is in ANDROID_SOCKET_permd.
func TestInheritedListener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "permd")
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(AndroidSocketEnv, strconv.Itoa(fd))
	ln, err := InheritedListener()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("hi\n"))
			c.Close()
		}
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial inherited socket: %v", err)
	}
	buf := make([]byte, 3)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(buf); err != nil || string(buf) != "hi\n" {
		t.Fatalf("read from inherited listener: %q %v", buf, err)
	}
	c.Close()

	t.Setenv(AndroidSocketEnv, "not-a-number")
	if _, err := InheritedListener(); err == nil || !strings.Contains(err.Error(), AndroidSocketEnv) {
		t.Fatalf("bad env value: %v", err)
	}
}
