package process

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"permd/aosp/packages"
)

// refreshesPerOp keeps `-benchtime 1x` (make bench) meaningful.
const refreshesPerOp = 20

// fixture500 builds a /proc tree of 500 app-like processes.
func fixture500(b *testing.B) string {
	root := filepath.Join(b.TempDir(), "proc")
	for i := 0; i < 500; i++ {
		pid := 2000 + i
		writeProc(b, root, fixtureProc{pid, 610, 10000 + i%200, uint64(10000 + i), fmt.Sprintf("app%d", i), fmt.Sprintf("com.example.app%d:svc", i), 900 - i%10*100})
	}
	return root
}

// BenchmarkTableFullRead500 is one refresh of a table that knows no
// process yet: every process read in full (stat, status, cmdline,
// oom_score_adj).
func BenchmarkTableFullRead500(b *testing.B) {
	r, _ := NewReader(fixture500(b))
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N*refreshesPerOp; i++ {
		tab := NewTable(r, nil, nil)
		if _, err := tab.Refresh(); err != nil || tab.Len() != 500 {
			b.Fatalf("refresh: %v, %d processes", err, tab.Len())
		}
	}
	reportRefresh(b, c0)
}

// BenchmarkTableRescan500 is the steady-state poll: known processes
// re-read only stat (for pid reuse) and oom_score_adj.
func BenchmarkTableRescan500(b *testing.B) {
	r, _ := NewReader(fixture500(b))
	tab := NewTable(r, nil, nil)
	tab.Refresh()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N*refreshesPerOp; i++ {
		if _, err := tab.Refresh(); err != nil {
			b.Fatal(err)
		}
	}
	reportRefresh(b, c0)
}

// reportRefresh reports wall and CPU time per refresh and per process:
// on a loaded machine the wall time includes waiting for the disk.
func reportRefresh(b *testing.B, c0 time.Duration) {
	n := float64(b.N * refreshesPerOp)
	per := float64(b.Elapsed().Microseconds()) / n
	cpu := float64((cpuTime() - c0).Microseconds()) / n
	b.ReportMetric(per/1000, "ms/refresh")
	b.ReportMetric(per/500, "us/proc")
	b.ReportMetric(cpu/1000, "cpu-ms/refresh")
	b.ReportMetric(cpu/500, "cpu-us/proc")
}

// BenchmarkTableRescanFast500 is poll mode's usual pass on a phone-like
// mix: 150 app processes (re-read) and 350 native ones (presence only).
func BenchmarkTableRescanFast500(b *testing.B) {
	root := filepath.Join(b.TempDir(), "proc")
	writeProc(b, root, fixtureProc{610, 1, 0, 500, "main", "zygote64", -1000})
	for i := 0; i < 499; i++ {
		uid := 0
		if i < 150 {
			uid = 10000 + i
		}
		writeProc(b, root, fixtureProc{2000 + i, 1, uid, uint64(10000 + i), fmt.Sprintf("p%d", i), fmt.Sprintf("proc%d", i), 900})
	}
	r, _ := NewReader(root)
	tab := NewTable(r, packages.IsApp, nil)
	tab.Refresh()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N*refreshesPerOp; i++ {
		if _, err := tab.RefreshFast(); err != nil {
			b.Fatal(err)
		}
	}
	reportRefresh(b, c0)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// idleCPU runs a tracker on this machine's /proc with the default
// intervals for a period and extrapolates the CPU it used to an hour.
// "Idle" means no app activity: the machine's own processes still come
// and go, and netlink mode pays for each of their forks and exits.
func idleCPU(b *testing.B, mode string) {
	period := 10 * time.Second
	if v, err := time.ParseDuration(os.Getenv("PERMD_IDLE_PERIOD")); err == nil {
		period = v
	}
	cfg := DefaultConfig()
	cfg.Mode = mode
	tr, err := NewTracker(Options{Mount: "/proc", Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Skipf("SKIP (not a measurement): %s mode unavailable: %v", mode, err)
	}
	if tr.Mode() != mode {
		b.Skipf("SKIP (not a measurement): asked for %s, got %s", mode, tr.Mode())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.Run(ctx); close(done) }()
	time.Sleep(200 * time.Millisecond) // let start-up settle
	b.ResetTimer()
	c0, t0 := cpuTime(), time.Now()
	time.Sleep(period)
	used, wall := cpuTime()-c0, time.Since(t0)
	b.StopTimer()
	cancel()
	<-done
	perHour := used.Seconds() * float64(time.Hour) / float64(wall)
	b.ReportMetric(perHour, "cpu-s/hour")
	b.ReportMetric(100*used.Seconds()/wall.Seconds(), "%core")
	ev := tr.Stats().Events
	b.ReportMetric(float64(ev)/wall.Seconds(), "kernel-events/s")
	if ev > 0 {
		b.ReportMetric(float64(used.Microseconds())/float64(ev), "cpu-us/event")
	}
	b.ReportMetric(float64(tr.Table().Len()), "processes")
}

// BenchmarkIdleCPUNetlink measures event-driven mode (target < 0.1% of
// one core). Run with -benchtime=1x; PERMD_IDLE_PERIOD sets the period.
func BenchmarkIdleCPUNetlink(b *testing.B) { idleCPU(b, ModeNetlink) }

// BenchmarkIdleCPUPoll measures polling at the default interval.
func BenchmarkIdleCPUPoll(b *testing.B) { idleCPU(b, ModePoll) }

// BenchmarkIdleCPUBaseline is the floor: this test binary's runtime
// with no tracker, over the same period.
func BenchmarkIdleCPUBaseline(b *testing.B) {
	period := 10 * time.Second
	if v, err := time.ParseDuration(os.Getenv("PERMD_IDLE_PERIOD")); err == nil {
		period = v
	}
	c0, t0 := cpuTime(), time.Now()
	time.Sleep(period)
	used, wall := cpuTime()-c0, time.Since(t0)
	b.ReportMetric(used.Seconds()*float64(time.Hour)/float64(wall), "cpu-s/hour")
	b.ReportMetric(100*used.Seconds()/wall.Seconds(), "%core")
}
