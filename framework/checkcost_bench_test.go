package framework

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"permd/aosp/testclock"
	"permd/framework/client"
)

// BenchmarkPermCheckCPU reports the CPU time the whole process (client,
// server and the ledger's writer) spends per uncapped perm.check round
// trip, next to sys.health's from the same run, at 1 and 8 clients. On
// shared cores latency percentiles move with other processes' load; the
// CPU each call costs, the work the check adds to sys.health's (params,
// decision, the record's hand-off and its commit), hardly does.
// "params=map" sends the params as BenchmarkPermCheckVsHealth does, a
// map the client encodes by reflection on every call (about 2 µs, more
// than the daemon's handler); "params=raw" sends the same bytes already
// encoded, as a client that writes its own JSON does, so that its p50
// ratio is the daemon's.
func BenchmarkPermCheckCPU(b *testing.B) {
	clk := testclock.New(time.Now())
	ts := startTestService(b, testOptions{Now: clk.Now})
	c := ts.dial(b)
	mustCall(b, c, "grants.set", map[string]any{"uid": 10400, "package": "com.bench.app", "category": "location",
		"time": map[string]any{"mode": "while_in_use"}, "precision": map[string]any{"level": "approx_1km"}}, nil)
	params := map[string]any{"uid": 10400, "package": "com.bench.app", "op": "android:fine_location", "state": "foreground"}
	raw := json.RawMessage(`{"uid":10400,"package":"com.bench.app","op":"android:fine_location","state":"foreground"}`)
	calls := benchCalls()
	cpuPer := func(clients int, call func(c *client.Client) error) (latencyStats, float64) {
		var r0, r1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
		st := measure(b, clients, calls, dialer(b, ts.socket), call)
		// Let the writer commit what the checks handed it, so that its
		// work is counted with theirs.
		if err := ts.svc.grants.ledger.l.Flush(b.Context()); err != nil {
			b.Fatal(err)
		}
		syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		ns := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
		return st, float64(ns) / 1e3 / float64(calls)
	}
	for _, kind := range []string{"map", "raw"} {
		var p any = params
		if kind == "raw" {
			p = raw
		}
		for _, clients := range []int{1, 8} {
			b.Run(fmt.Sprintf("params=%s/clients=%d", kind, clients), func(b *testing.B) {
				for range b.N {
					hs, h := cpuPer(clients, callMethod("sys.health", nil))
					ms, m := cpuPer(clients, callMethod("perm.check", p))
					b.ReportMetric(h, "health-cpu-us")
					b.ReportMetric(m, "check-cpu-us")
					b.ReportMetric(m/h, "ratio-cpu")
					b.ReportMetric(float64(ms.P50.Nanoseconds())/float64(hs.P50.Nanoseconds()), "ratio-p50")
				}
			})
		}
	}
}
