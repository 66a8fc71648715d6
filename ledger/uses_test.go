package ledger

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"permd/ledger/store"
)

// TestUsesLeftOpenRecordedWithBounds: uses handed over as in progress
// and not ended before a crash are recorded at the next start with
// reason daemon_restart, duration_ms the last time they were known in
// progress and max_duration_ms the time to the restart; an ended use is
// not recorded again.
func TestUsesLeftOpenRecordedWithBounds(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	span := func(at time.Time) Record {
		return Record{Time: at, UID: 10100, Kind: "span", Category: "camera", Op: "android:camera", Result: "allowed", Detail: json.RawMessage(`{"pid":42}`)}
	}
	f.l.EnqueueUses([]OpenUse{{ID: 1, Start: t0, Recs: []Record{span(t0)}}, {ID: 2, Start: t0, Recs: []Record{span(t0)}}}, nil)
	ended := span(t0)
	ended.Detail = json.RawMessage(`{"pid":42,"duration_ms":1000,"reason":"finish"}`)
	f.l.EnqueueUses(nil, []uint64{2}, ended)
	if err := f.l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(25 * time.Second) // past useBeat: the next commit notes use 1 in progress
	if err := f.l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	path := copyFile(t, f.path) // what a crash leaves
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clk := &clock{t: t0.Add(time.Minute)}
	l, err := Open(ctx, db, Options{Rules: defaultRules(t), Now: clk.Now, SelfUID: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p, err := l.Query(ctx, Filter{Kind: "span"}, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 2 {
		t.Fatalf("want the ended use and the one left open, got %+v", p.Events)
	}
	var got map[string]any
	for _, e := range p.Events {
		var m map[string]any
		json.Unmarshal(e.Detail, &m)
		if m["reason"] == ReasonDaemonRestart {
			got = m
		}
	}
	if got == nil || got["duration_ms"] != float64(25000) || got["max_duration_ms"] != float64(60000) || got["pid"] != float64(42) {
		t.Fatalf("use left open: want reason %s, at least 25 s, at most 60 s, pid kept; got %v", ReasonDaemonRestart, got)
	}
	var left int
	db.QueryRow(`SELECT COUNT(*) FROM ledger_use`).Scan(&left)
	if left != 0 {
		t.Errorf("want no use left in progress after the restart, got %d", left)
	}
	mustVerify(t, l.Reader)
}
