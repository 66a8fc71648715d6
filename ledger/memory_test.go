package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"permd/ledger/store"
)

// openWith opens a ledger on a fresh database with opt (rules, clock and
// self uid filled in from the fixture).
func openWith(t testing.TB, opt Options) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), store.FileName), clk: &clock{t: t0}}
	db, err := store.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	f.db = db
	opt.Rules, opt.Now, opt.SelfUID = defaultRules(t), f.clk.Now, 1000
	if f.l, err = Open(context.Background(), db, opt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.l.Close(); db.Close() })
	return f
}

// distinct is n access records that cannot coalesce with each other
// (each its own op), all dated now.
func distinct(f *fixture, from, n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = acc(10100, "camera", "allowed", "foreground", f.clk.Now())
		recs[i].Op = fmt.Sprintf("android:op_%d", from+i)
	}
	return recs
}

// TestOpenRowsBounded: a flood of distinct records within one window
// keeps the writer's open-row state within MaxOpenBytes by sealing the
// oldest rows early; every event is still counted exactly and the
// chains verify.
func TestOpenRowsBounded(t *testing.T) {
	const limit = 1 << 20
	f := openWith(t, Options{MaxOpenBytes: limit})
	ctx := context.Background()
	const reports, per = 20, 1000
	for i := range reports {
		if err := f.l.Append(ctx, distinct(f, i*per, per)...); err != nil {
			t.Fatal(err)
		}
		if st := f.l.Stats(); st.OpenBytes > limit || st.Open == 0 {
			t.Fatalf("after report %d: want 0 < open-row memory <= %d, got %d bytes in %d rows", i, limit, st.OpenBytes, st.Open)
		}
	}
	// The same events again: those whose rows were sealed early start
	// new rows; those still open coalesce. The counts stay exact.
	for i := range reports {
		if err := f.l.Append(ctx, distinct(f, i*per, per)...); err != nil {
			t.Fatal(err)
		}
	}
	st := f.l.Stats()
	if st.SealedEarly == 0 || st.OpenBytes > limit {
		t.Fatalf("want rows sealed early and open memory <= %d, got %+v", limit, st)
	}
	var events, rows int64
	if err := f.db.QueryRow(`SELECT SUM(n), COUNT(*) FROM ledger_all`).Scan(&events, &rows); err != nil {
		t.Fatal(err)
	}
	if events != 2*reports*per {
		t.Fatalf("want %d events counted, got %d in %d rows", 2*reports*per, events, rows)
	}
	if rows <= reports*per {
		t.Errorf("want the repeated events of early-sealed rows in new rows (> %d rows), got %d", reports*per, rows)
	}
	rep := mustVerify(t, f.l.Reader)
	if rep.Open != st.Open {
		t.Errorf("verify sees %d open rows, the writer %d", rep.Open, st.Open)
	}
}

// TestOpenRowsEstimateCoversHeap: the writer's estimate of open-row
// memory is not below what the rows really take on the Go heap, so the
// bound in the docs holds.
func TestOpenRowsEstimateCoversHeap(t *testing.T) {
	f := openWith(t, Options{MaxOpenBytes: 1 << 30})
	ctx := context.Background()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	if err := f.l.Append(ctx, distinct(f, 0, 100)...); err != nil { // warm dictionaries and statements
		t.Fatal(err)
	}
	before, est0 := heap(), f.l.Stats().OpenBytes
	const n = 20000
	for i := 0; i < n; i += 1000 {
		if err := f.l.Append(ctx, distinct(f, 100+i, 1000)...); err != nil {
			t.Fatal(err)
		}
	}
	after, est := heap(), f.l.Stats().OpenBytes-est0
	grew := int64(after) - int64(before)
	t.Logf("%d open rows: heap grew %d bytes (%d per row), estimate %d (%d per row)", n, grew, grew/n, est, est/n)
	if grew > est {
		t.Fatalf("open rows take %d bytes of heap, more than the estimate of %d", grew, est)
	}
}
