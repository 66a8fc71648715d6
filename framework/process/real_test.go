package process

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"permd/aosp/wait"
)

// testAppUID is an app uid no other test runs as: go test runs packages
// in parallel, and another package's processes under the same uid (the
// role tests run as 10123) would make this app look already running.
const testAppUID = 19871

// startAsApp runs sleep under an app uid, so that its parent (this test,
// another uid) makes it a start and not the app's own child.
func startAsApp(t *testing.T) *exec.Cmd {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("SKIP (not a pass): starting a process under an app uid needs root")
	}
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: testAppUID, Gid: testAppUID}}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep as uid %d: %v", testAppUID, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

type realRun struct {
	mu     sync.Mutex
	starts []Start
	exits  []Proc
}

func (r *realRun) startOf(pid int) (Start, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.starts {
		if s.PID == pid {
			return s, true
		}
	}
	return Start{}, false
}

func (r *realRun) exited(pid int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.exits {
		if p.PID == pid {
			return true
		}
	}
	return false
}

func runRealTracker(t *testing.T, mode string) {
	rr := &realRun{}
	cfg := DefaultConfig()
	cfg.Mode, cfg.PollInterval, cfg.Window = mode, 50*time.Millisecond, 200*time.Millisecond
	tr, err := NewTracker(Options{
		Mount: "/proc", Config: cfg,
		IsApp:  func(uid int) bool { return uid == testAppUID },
		Emit:   func(s Start) { rr.mu.Lock(); rr.starts = append(rr.starts, s); rr.mu.Unlock() },
		OnExit: func(p Proc) { rr.mu.Lock(); rr.exits = append(rr.exits, p); rr.mu.Unlock() },
		Log:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		if mode == ModeNetlink {
			t.Skipf("SKIP (not a pass): netlink mode unavailable here: %v", err)
		}
		t.Fatal(err)
	}
	if tr.Mode() != mode {
		t.Fatalf("mode %q in effect, want %q", tr.Mode(), mode)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	cmd := startAsApp(t)
	pid := cmd.Process.Pid
	wait.Within(t, 5*time.Second, "the start of the test process", func() bool { _, ok := rr.startOf(pid); return ok })
	s, _ := rr.startOf(pid)
	if s.UID != testAppUID || s.StartTick == 0 || s.Kind == "" || s.AppState != "not_running" || len(s.Sources) != 1 || s.Sources[0] != SourceProcfs {
		t.Errorf("start of pid %d: %+v; want uid %d, a start time, a kind, app state not_running, source procfs", pid, s, testAppUID)
	}
	if p, ok := tr.Table().Get(pid); !ok || p.Name != "sleep" {
		t.Errorf("table entry for %d: %+v %v, want name sleep", pid, p, ok)
	}
	if st := tr.AppState(testAppUID); st == "not_running" {
		t.Errorf("AppState while running = %q", st)
	}
	cmd.Process.Kill()
	cmd.Wait()
	wait.Within(t, 5*time.Second, "the exit of the test process", func() bool { return rr.exited(pid) })
	if _, ok := tr.Table().Get(pid); ok {
		t.Error("exited process still in the table")
	}
	wait.Within(t, 2*time.Second, "not_running after exit", func() bool { return tr.AppState(testAppUID) == "not_running" })
}

func TestRealProcNetlink(t *testing.T) { runRealTracker(t, ModeNetlink) }
func TestRealProcPolling(t *testing.T) { runRealTracker(t, ModePoll) }
