package ledger

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkUseCommit is the commit op.start waits for: a use handed to
// the writer with its records (a span and its shown span, as the
// indicator hands them over) and committed, fsync'd, then its end. It
// reports the wall time per commit and the process's CPU time per
// commit (user + system, from getrusage), which is what competes with
// a subscriber's reader for the CPU; the fsync's wait is not CPU.
func BenchmarkUseCommit(b *testing.B) {
	f := newFixture(b, map[int][]string{10100: {"com.a"}})
	ctx := context.Background()
	recs := []Record{
		{UID: 10100, Kind: "span", Category: "camera", Op: "android:camera", Result: "allowed", AppState: "foreground", Detail: json.RawMessage(`{"pid":4242}`)},
		{UID: 10100, Kind: "indicator", Category: "camera", Detail: json.RawMessage(`{"resource":"camera","package":"com.a","uses":1}`)},
	}
	var id uint64
	c0, t0 := cpuTime(), time.Now()
	for b.Loop() {
		id++
		for j := range recs {
			recs[j].Time = f.clk.Now()
		}
		f.l.EnqueueUses([]OpenUse{{ID: id, Start: f.clk.Now(), Recs: recs}}, nil)
		if err := f.l.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		f.l.EnqueueUses(nil, []uint64{id})
		if err := f.l.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	commits := float64(2 * b.N)
	b.ReportMetric(float64(time.Since(t0).Microseconds())/commits, "us/commit")
	b.ReportMetric(float64((cpuTime()-c0).Microseconds())/commits, "cpu-us/commit")
}
