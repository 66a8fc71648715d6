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
