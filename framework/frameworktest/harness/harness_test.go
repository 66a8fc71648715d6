package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"permd/aosp/wait"
)

// recorder is a testing.TB whose failures are recorded instead of
// failing the real test, so that the harness's own failures can be
// checked.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) failures() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.failed, "; ")
}

// inTest runs f with r in a goroutine of its own, as the testing package
// would, so that Fatalf ends f and not the caller.
func inTest(r *recorder, f func()) {
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	<-done
}

// TestRunFailsWhenTheServiceExitsDuringStart: a service that returns
// before it is ready fails the test with its error, at once.
func TestRunFailsWhenTheServiceExitsDuringStart(t *testing.T) {
	r := &recorder{TB: t}
	inTest(r, func() {
		Run(r, func(context.Context) error { return errors.New("no data dir") }, func() bool { return false })
	})
	if got := r.failures(); !strings.Contains(got, "service exited during start: no data dir") {
		t.Errorf("failures %q, want the service's error", got)
	}
}

// TestRunStopsTheServiceOnce: Run returns once ready holds; Stop
// cancels the service's context and waits for it; a second Stop is a
// no-op; an error the service returns at stop fails the test.
func TestRunStopsTheServiceOnce(t *testing.T) {
	ready := make(chan struct{})
	stopped := 0
	run := func(ctx context.Context) error {
		close(ready)
		<-ctx.Done()
		stopped++
		return errors.New("flush failed")
	}
	r := &recorder{TB: t}
	inTest(r, func() {
		rn := Run(r, run, func() bool {
			select {
			case <-ready:
				return true
			default:
				return false
			}
		})
		rn.Stop(r)
		rn.Stop(r)
	})
	if stopped != 1 {
		t.Errorf("service stopped %d times, want once", stopped)
	}
	if got := r.failures(); got != "service Run returned flush failed" {
		t.Errorf("failures %q, want the error the service returned at stop", got)
	}
}

// TestNewDirsWritesTheConfig: the config files land under the config
// dir by relative path; root and data default under base.
func TestNewDirsWritesTheConfig(t *testing.T) {
	base := TempDir(t)
	d := NewDirs(t, base, "", "", map[string]string{"permd.json": "{}", "preinstall/a.json": "[]"})
	if d.Root != filepath.Join(base, "root") || d.Data != filepath.Join(base, "data") || d.Socket != filepath.Join(base, "permd.sock") {
		t.Errorf("dirs %+v, want root, data and the socket under %s", d, base)
	}
	if fi, err := os.Stat(d.Root); err != nil || !fi.IsDir() {
		t.Errorf("root: %v, want a directory", err)
	}
	if b, err := os.ReadFile(filepath.Join(d.Config, "preinstall", "a.json")); err != nil || string(b) != "[]" {
		t.Errorf("preinstall/a.json: %q %v", b, err)
	}
	if fi, err := os.Stat(base); err != nil || fi.Mode().Perm()&0o005 != 0o005 {
		t.Errorf("base dir mode %v (%v): other uids must reach the socket", fi.Mode(), err)
	}
}

// TestWaitListeningReturnsOnceSomethingAccepts: a socket that starts
// listening while WaitListening polls ends the wait.
func TestWaitListeningReturnsOnceSomethingAccepts(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "d.sock")
	var out Buffer
	fmt.Fprint(&out, "starting")
	go func() {
		time.Sleep(50 * time.Millisecond)
		ln, err := net.Listen("unix", socket)
		if err != nil {
			return // WaitListening then fails the test, showing why
		}
		t.Cleanup(func() { ln.Close() })
	}()
	WaitListening(t, socket, wait.Timeout, &out)
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatalf("after WaitListening the socket refuses: %v", err)
	}
	c.Close()
}
