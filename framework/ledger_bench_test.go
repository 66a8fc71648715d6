package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"permd/aosp/etc"
	"permd/framework/client"
	"permd/ledger"
	"permd/ledger/store"
)

// BenchmarkLedgerReportSocket measures sustained ledger.report ingest over
// the socket (8 reporters, 250 records a call: about 35 KiB lines) against
// the same rows inserted bare with a prepared statement in one
// transaction. Coalescing is switched off so rows, not merges, are timed.
func BenchmarkLedgerReportSocket(b *testing.B) {
	n := 100000
	if v := benchCalls(); v != 20000 {
		n = v
	}
	const reporters, batch = 8, 250
	raw, err := fs.ReadFile(etc.Default(), RulesFile)
	if err != nil {
		b.Fatal(err)
	}
	rules := strings.Replace(string(raw), `"coalesce_window": "60s"`, `"coalesce_window": "0s"`, 1)
	cats := []string{"calendar", "call_log", "camera", "contacts", "location", "microphone", "phone", "sms", "storage", "body_activity"}
	states := []string{"foreground", "visible", "background", "not_running"}
	results := []string{"allowed", "denied", "reduced", "decoy", "rate_limited"}
	start := time.Now().Add(-time.Hour).UnixMilli()
	type rec = map[string]any
	mk := func(i int) rec {
		return rec{"time_ms": start + int64(i), "uid": 10000 + i%300, "kind": "access", "category": cats[i%10],
			"op": "android:" + cats[i%10], "result": results[i%5], "app_state": states[i%4]}
	}
	for b.Loop() {
		// Bare baseline.
		db, err := store.Open(filepath.Join(b.TempDir(), store.FileName))
		if err != nil {
			b.Fatal(err)
		}
		if err := ledger.Migrate(context.Background(), db); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		tx, _ := db.Begin()
		st, err := tx.Prepare(`INSERT INTO ledger_event(seq, t, dur, n, app, kind, cat, op, res, st, rules, detail, hash) VALUES (?,?,0,1,?,1,?,?,?,?,1,NULL,NULL)`)
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			if _, err := st.Exec(i+1, start+int64(i), i%300+1, 2+i%10, 12+i%10, 22+i%5, 27+i%4); err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		bare := time.Since(t1)
		db.Close()

		ts := startTestService(b, testOptions{Config: map[string]string{RulesFile: rules}})
		conns := make([]*client.Client, reporters)
		for i := range conns {
			conns[i] = ts.dial(b)
		}
		per := n / reporters
		// Requests are encoded before the clock starts: on a device the
		// client is another process, and its encoding is not the
		// service's cost.
		reqs := make([][]json.RawMessage, reporters)
		for g := range reporters {
			for i := g * per; i < (g+1)*per; i += batch {
				recs := make([]rec, 0, batch)
				for j := i; j < min(i+batch, (g+1)*per); j++ {
					recs = append(recs, mk(j))
				}
				raw, _ := json.Marshal(map[string]any{"records": recs})
				reqs[g] = append(reqs[g], raw)
			}
		}
		var wg sync.WaitGroup
		c0 := ts.svc.ledger.l.Stats().Commits
		t1 = time.Now()
		for g, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, raw := range reqs[g] {
					if err := c.Call(context.Background(), "ledger.report", raw, nil); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		el := time.Since(t1)
		got := ts.svc.ledger.l.Stats().Committed
		if got != int64(per*reporters) {
			b.Fatalf("want %d records committed, got %d", per*reporters, got)
		}
		rate := float64(per*reporters) / el.Seconds()
		b.ReportMetric(rate, "report-rows/s")
		b.ReportMetric(float64(n)/float64(ts.svc.ledger.l.Stats().Commits-c0), "rows/commit")
		b.ReportMetric(float64(n)/bare.Seconds(), "bare-rows/s")
		b.ReportMetric(rate/(float64(n)/bare.Seconds()), "ratio")
		b.Logf("%d records in batches of %d from %d reporters: %s (bare %s)", per*reporters, batch, reporters, el.Round(time.Millisecond), bare.Round(time.Millisecond))
		_ = fmt.Sprint()
		ts.stop(b)
	}
}
