package adb_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"permd/aosp/adb"
	"permd/aosp/adb/adbtest"
)

// realADB is Debian's adb with its own HOME and server port, so a test
// never talks to, or kills, anyone else's adb server.
type realADB struct {
	t    testing.TB
	bin  string
	env  []string
	home string
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startADB starts a private adb server; extraEnv is added to its
// environment (e.g. ADB_VENDOR_KEYS).
func startADB(t testing.TB, extraEnv ...string) *realADB {
	t.Helper()
	bin, err := exec.LookPath("adb")
	if err != nil {
		t.Skipf("SKIP: Debian package adb is not installed (make test installs it): %v", err)
	}
	home := t.TempDir()
	a := &realADB{t: t, bin: bin, home: home}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "ANDROID_SDK_HOME", "ANDROID_USER_HOME", "ADB_VENDOR_KEYS", "ANDROID_SERIAL", "ANDROID_ADB_SERVER_PORT", "ADB_TRACE":
			continue
		}
		a.env = append(a.env, kv)
	}
	a.env = append(a.env, "HOME="+home, "ANDROID_ADB_SERVER_PORT="+strconv.Itoa(freePort(t)))
	a.env = append(a.env, extraEnv...)
	t.Cleanup(func() { a.run(10*time.Second, "kill-server") })
	if out, err := a.run(30*time.Second, "start-server"); err != nil {
		t.Fatalf("adb start-server: %v\n%s", err, out)
	}
	return a
}

func (a *realADB) run(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.bin, args...)
	cmd.Env = a.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// key is the key adb made for itself when its server started.
func (a *realADB) key() *adb.Key {
	a.t.Helper()
	k, err := adb.LoadKey(filepath.Join(a.home, ".android", "adbkey"))
	if err != nil {
		a.t.Fatalf("adb's own private key: %v", err)
	}
	return k
}

func (a *realADB) publicKey() *rsa.PublicKey {
	a.t.Helper()
	b, err := os.ReadFile(filepath.Join(a.home, ".android", "adbkey.pub"))
	if err != nil {
		a.t.Fatalf("adb's own public key: %v", err)
	}
	pub, _, err := adb.ParsePublicKey(string(b))
	if err != nil {
		a.t.Fatalf("parse adb's adbkey.pub: %v", err)
	}
	return pub
}

// connect runs adb connect and waits until adb devices reports want as
// the serial's state. adb connect itself only returns once the device is
// usable or adb gives up on it, so it runs in the background.
func (a *realADB) connect(serial, want string) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, a.bin, "connect", serial)
	cmd.Env = a.env
	var cout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &cout, &cout
	if err := cmd.Start(); err != nil {
		cancel()
		a.t.Fatalf("adb connect: %v", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	a.t.Cleanup(func() { cancel(); <-waited })
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _ := a.run(10*time.Second, "devices")
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) == 2 && f[0] == serial && f[1] == want {
				return
			}
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("adb devices: %s never became %q:\n%s\nadb connect said: %s", serial, want, out, cout.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func startDevice(t testing.TB, keys ...*rsa.PublicKey) *adbtest.Device {
	t.Helper()
	return adbtest.Start(t, &adbtest.Device{Keys: keys, Model: "permd_test_model"})
}

func randomFile(t testing.TB, dir string, size int) (string, []byte) {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	p := filepath.Join(dir, "payload.bin")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

// TestRealADBShellAndPull: the real adb connects to the test device,
// passes its AUTH with adb's own key, and runs shell and pull.
func TestRealADBShellAndPull(t *testing.T) {
	a := startADB(t)
	d := startDevice(t, a.publicKey())
	serial := d.Addr()
	a.connect(serial, "device")

	out, err := a.run(30*time.Second, "-s", serial, "shell", "echo", "hello from the test device")
	if err != nil || strings.TrimSpace(out) != "hello from the test device" {
		t.Errorf("adb shell echo: want %q, got %q (err %v)", "hello from the test device", out, err)
	}
	// adb uses shell protocol v2 (the banner has shell_v2): the exit
	// status comes through.
	out, err = a.run(30*time.Second, "-s", serial, "shell", "echo to-stderr >&2; exit 7")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 || !strings.Contains(out, "to-stderr") {
		t.Errorf("adb shell 'exit 7': want exit 7 with stderr, got %v %q", err, out)
	}
	out, err = a.run(30*time.Second, "-s", serial, "exec-out", "printf 'a\\nb'")
	if err != nil || out != "a\nb" {
		t.Errorf("adb exec-out: want %q, got %q (err %v)", "a\nb", out, err)
	}

	dir := t.TempDir()
	src, want := randomFile(t, dir, 3<<20+12345)
	dst := filepath.Join(dir, "pulled.bin")
	if out, err := a.run(60*time.Second, "-s", serial, "pull", src, dst); err != nil {
		t.Fatalf("adb pull: %v\n%s", err, out)
	}
	got, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("adb pull: %d bytes differ from the %d-byte source (err %v)", len(got), len(want), err)
	}
	pushed := filepath.Join(dir, "pushed.bin")
	if out, err := a.run(60*time.Second, "-s", serial, "push", src, pushed); err != nil {
		t.Fatalf("adb push: %v\n%s", err, out)
	}
	if got, err := os.ReadFile(pushed); err != nil || !bytes.Equal(got, want) {
		t.Errorf("adb push: the device file differs from the source (err %v)", err)
	}

	// The host side authenticates with the same key adb made.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := adb.DialTCP(ctx, serial, adb.HostOptions{Keys: []*adb.Key{a.key()}})
	if err != nil {
		t.Fatalf("dial with adb's key: %v", err)
	}
	defer c.Close()
	if b, err := c.Shell(ctx, "echo ok"); err != nil || string(b) != "ok\n" {
		t.Errorf("shell with adb's key: %q %v", b, err)
	}
}

// TestRealADBUsesOurKeyFormat: a key written by GenerateKey, given to adb
// through ADB_VENDOR_KEYS, is read by adb and its signature verifies on
// the device, which authorises only that key.
func TestRealADBUsesOurKeyFormat(t *testing.T) {
	kdir := t.TempDir()
	k, err := adb.GenerateKey(filepath.Join(kdir, "ours.adb_key"))
	if err != nil {
		t.Fatal(err)
	}
	pubText, err := os.ReadFile(filepath.Join(kdir, "ours.adb_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := adb.ParsePublicKey(string(pubText))
	if err != nil || pub.N.Cmp(k.Private.N) != 0 {
		t.Fatalf("our adbkey.pub does not round-trip: %v", err)
	}
	a := startADB(t, "ADB_VENDOR_KEYS="+kdir)
	d := startDevice(t, pub)
	a.connect(d.Addr(), "device")
	out, err := a.run(30*time.Second, "-s", d.Addr(), "shell", "echo", "vendor key ok")
	if err != nil || strings.TrimSpace(out) != "vendor key ok" {
		t.Errorf("adb shell with our key: %q %v", out, err)
	}
}

// TestRealADBUnknownKeyIsUnauthorized: a device that knows none of adb's
// keys leaves adb unauthorized, and our host side gets ErrUnauthorized.
func TestRealADBUnknownKeyIsUnauthorized(t *testing.T) {
	other, err := adb.GenerateKey(filepath.Join(t.TempDir(), "adbkey"))
	if err != nil {
		t.Fatal(err)
	}
	a := startADB(t)
	d := startDevice(t, &other.Private.PublicKey)
	a.connect(d.Addr(), "unauthorized")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = adb.DialTCP(ctx, d.Addr(), adb.HostOptions{Keys: []*adb.Key{a.key()}})
	if !errors.Is(err, adb.ErrUnauthorized) {
		t.Errorf("dial with a key the device does not know: want ErrUnauthorized, got %v", err)
	}
}
