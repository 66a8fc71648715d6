package framework

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"permd/framework/client"
)

// BenchmarkPermCheckCPU reports the CPU time the whole process (client,
// server and the ledger's writer) spends per uncapped perm.check round
// trip, next to sys.health's from the same run, at 1 and 8 clients. On
// shared cores latency percentiles move with other processes' load; the
// CPU each call costs, the work the check adds to sys.health's (params,
// decision, the record's hand-off and its commit), hardly does.
func BenchmarkPermCheckCPU(b *testing.B) {
	clk := &testClock{t: time.Now()}
	ts := startTestService(b, testOptions{Now: clk.now})
	c := ts.dial(b)
	mustCall(b, c, "grants.set", map[string]any{"uid": 10400, "package": "com.bench.app", "category": "location",
		"time": map[string]any{"mode": "while_in_use"}, "precision": map[string]any{"level": "approx_1km"}}, nil)
	params := map[string]any{"uid": 10400, "package": "com.bench.app", "op": "android:fine_location", "state": "foreground"}
	calls := benchCalls()
	cpuPer := func(clients int, call func(c *client.Client) error) float64 {
		var r0, r1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
		measure(b, clients, calls, dialer(b, ts.socket), call)
		// Let the writer commit what the checks handed it, so that its
		// work is counted with theirs.
		if err := ts.svc.grants.ledger.l.Flush(b.Context()); err != nil {
			b.Fatal(err)
		}
		syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		ns := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
		return float64(ns) / 1e3 / float64(calls)
	}
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			for range b.N {
				h := cpuPer(clients, callMethod("sys.health", nil))
				m := cpuPer(clients, callMethod("perm.check", params))
				b.ReportMetric(h, "health-cpu-us")
				b.ReportMetric(m, "check-cpu-us")
				b.ReportMetric(m/h, "ratio-cpu")
			}
		})
	}
}
