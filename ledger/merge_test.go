package ledger

import (
	"context"
	"testing"
	"time"
)

// TestMergeKeepsOpenRowsStaged: the writer's move of sealed rows into
// ledger_event leaves rows still open for coalescing in ledger_recent
// (it empties the table whole only when no open row is left), and every
// row is in exactly one of the two tables.
func TestMergeKeepsOpenRowsStaged(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	counts := func() (recent, open, event int64) {
		f.db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(hash IS NULL), 0) FROM ledger_recent`).Scan(&recent, &open)
		f.db.QueryRow(`SELECT COUNT(*) FROM ledger_event`).Scan(&event)
		return
	}
	// waitMerged waits for the writer's once-a-second move until
	// ledger_recent holds exactly want rows.
	waitMerged := func(want int64) (recent, open, event int64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if recent, open, event = counts(); recent == want || time.Now().After(deadline) {
				return
			}
		}
	}
	// Three open access rows (60 s window) and three sealed grant changes.
	for i, cat := range []string{"camera", "microphone", "location"} {
		at := t0.Add(time.Duration(i) * time.Second)
		if err := f.l.Append(ctx, acc(10100, cat, "allowed", "foreground", at), Record{Time: at, UID: 10100, Kind: "grant_change", Category: cat}); err != nil {
			t.Fatal(err)
		}
	}
	if recent, open, event := waitMerged(3); recent != 3 || open != 3 || event != 3 {
		t.Fatalf("with open rows: want the 3 open rows staged and the 3 sealed moved, got %d staged (%d open), %d moved", recent, open, event)
	}
	// Past the window the open rows are sealed and moved too.
	f.clk.Add(2 * time.Minute)
	if err := f.l.Append(ctx, Record{Time: f.clk.Now(), UID: 10100, Kind: "grant_change", Category: "camera"}); err != nil {
		t.Fatal(err)
	}
	if recent, open, event := waitMerged(0); recent != 0 || open != 0 || event != 7 {
		t.Fatalf("no open rows: want ledger_recent emptied and all 7 rows moved, got %d staged (%d open), %d moved", recent, open, event)
	}
	mustVerify(t, f.l.Reader)
}

// TestManyRowInsertStoresEveryColumn: a commit of more rows than one
// multi-row INSERT carries (seq and rules bound once per statement)
// stores every column of every row as given, and the rows verify.
func TestManyRowInsertStoresEveryColumn(t *testing.T) {
	f := newFixture(t, map[int][]string{10100: {"com.a"}, 10101: {"com.b"}})
	ctx := context.Background()
	n := 2*insertRows + 7
	recs := make([]Record, n)
	for i := range recs {
		// A window apart: no two rows coalesce.
		at := t0.Add(-time.Duration(n-i) * 61 * time.Second)
		if i%3 == 0 {
			recs[i] = Record{Time: at, UID: 10100 + i%2, Kind: "self_start", Category: "process", AppState: "not_running",
				Detail: []byte(`{"reason":"alarm"}`)}
		} else {
			recs[i] = acc(10100+i%2, benchCats[i%len(benchCats)], []string{"allowed", "denied"}[i%2], "background", at)
		}
	}
	if err := f.l.Append(ctx, recs...); err != nil {
		t.Fatal(err)
	}
	f.l.Close()
	f.open(t, nil)
	page, err := f.l.Export(ctx, Filter{}, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != n {
		t.Fatalf("want %d rows, got %d", n, len(page.Events))
	}
	for i, e := range page.Events {
		r := recs[i]
		if e.Seq != int64(i+1) || e.Time != r.Time.UnixMilli() || e.UID != r.UID || e.Kind != r.Kind || e.Category != r.Category ||
			e.Op != r.Op || e.Result != r.Result || e.AppState != r.AppState || string(e.Detail) != string(r.Detail) ||
			e.Rules != f.l.Rules().Version || e.Count != 1 || e.Open || len(e.Hash) != 2*tagBytes {
			t.Fatalf("row %d: stored %+v, want the record %+v sealed under rules %d", i+1, e, r, f.l.Rules().Version)
		}
	}
	mustVerify(t, f.l.Reader)
}
