package ledger

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"permd/aosp/etc"
	"permd/ledger/store"
)

// TestFullBatchEndsGathering: records handed over without waiting are
// gathered up to commit_delay, but a batch's worth of them is committed
// without waiting for it (the writer does not take each record as it
// comes, so enqueue must say when a batch is waiting).
func TestFullBatchEndsGathering(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := *defaultRules(t)
	r.CommitDelay = etc.Duration(5 * time.Second)
	clk := &clock{t: t0}
	l, err := Open(context.Background(), db, Options{Rules: &r, Now: clk.Now, SelfUID: 1000, MaxBatch: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const n = 3 * 64
	// The first record starts a gathering (the sleep lets the writer
	// take it); the rest arrive while it gathers.
	l.Enqueue(acc(10099, "camera", "allowed", "foreground", t0.Add(-time.Minute)))
	time.Sleep(50 * time.Millisecond)
	for i := range n - 1 {
		l.Enqueue(acc(10100+i, "camera", "allowed", "foreground", t0.Add(-time.Minute)))
	}
	// Well before commit_delay, the full batches are committed; only
	// the last, partial one may still be gathering.
	deadline := time.Now().Add(3 * time.Second)
	for l.Stats().Committed < n-64 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := l.Stats().Committed; got < n-64 {
		t.Fatalf("want at least %d of %d enqueued records committed before commit_delay (5s), got %d", n-64, n, got)
	}
	if d := l.Stats().Dropped; d != 0 {
		t.Fatalf("want nothing dropped, got %d", d)
	}
}
