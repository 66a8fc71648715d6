package ledger

import (
	"context"
	"strings"
	"testing"
	"time"

	"permd/ledger/store"
)

// TestRestartSealsEveryOpenRow: rows a crash left open (more than one
// multi-row seal statement holds, and not a multiple of it, over two
// chains, some coalesced) are all sealed by the next Open with the
// count and times they were committed with, and the chain verifies.
func TestRestartSealsEveryOpenRow(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	const apps = 3*sealRows + 5
	var recs []Record
	for i := range apps {
		recs = append(recs, acc(10000+i, "camera", "allowed", "foreground", t0))
		recs = append(recs, Record{Time: t0, UID: 10000 + i, Kind: "clipboard_read", Category: "clipboard", Result: "allowed", AppState: "foreground"})
	}
	if err := f.l.Append(ctx, recs...); err != nil {
		t.Fatal(err)
	}
	// A second event for every third app joins its row: count 2, 5 s.
	var more []Record
	for i := 0; i < apps; i += 3 {
		more = append(more, acc(10000+i, "camera", "allowed", "foreground", t0.Add(5*time.Second)))
	}
	if err := f.l.Append(ctx, more...); err != nil {
		t.Fatal(err)
	}
	if got := f.l.Stats().Open; got != 2*apps {
		t.Fatalf("before the crash: want %d open rows, got %d", 2*apps, got)
	}
	path := copyFile(t, f.path) // what a crash leaves
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := Open(ctx, db, Options{Rules: defaultRules(t), Now: (&clock{t: t0.Add(10 * time.Second)}).Now, SelfUID: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rep := mustVerify(t, l.Reader)
	if rep.Open != 0 || rep.Sealed != 2*apps {
		t.Fatalf("after restart: want %d rows sealed and none open, got %d sealed, %d open", 2*apps, rep.Sealed, rep.Open)
	}
	var events, coalesced int64
	if err := db.QueryRow(`SELECT SUM(n), COUNT(*) FILTER (WHERE n = 2 AND dur = 5000) FROM ledger_all`).Scan(&events, &coalesced); err != nil {
		t.Fatal(err)
	}
	if events != int64(len(recs)+len(more)) || coalesced != int64(len(more)) {
		t.Errorf("after restart: want %d events with %d rows of count 2 over 5 s, got %d events, %d such rows", len(recs)+len(more), len(more), events, coalesced)
	}
}

// TestSealFindsRowsByPrimaryKey: the multi-row seal statement looks each
// row up by seq; a scan of ledger_recent per statement would make a
// restart with many open rows quadratic.
func TestSealFindsRowsByPrimaryKey(t *testing.T) {
	f := newFixture(t, nil)
	args := make([]any, 4*sealRows)
	for i := range args {
		args[i] = int64(1)
	}
	plan, err := queryPlan(context.Background(), f.db, sealManySQL, args)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(plan, " | ")
	if !strings.Contains(joined, "SEARCH ledger_recent USING INTEGER PRIMARY KEY") || strings.Contains(joined, "SCAN ledger_recent") {
		t.Errorf("seal statement: want each row found by primary key, got plan %q", joined)
	}
}
