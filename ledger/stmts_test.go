package ledger

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestTipDigestFromMemoryMatchesTable: the tip digest a commit writes is
// computed from the writer's copy of the chain records; after new kinds,
// sealed rows and retention it must equal the digest of the table
// itself, which is what Verify checks it against.
func TestTipDigestFromMemoryMatchesTable(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	day := 24 * time.Hour
	check := func(when string) {
		t.Helper()
		if err := f.l.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var last int64
		var stored []byte
		if err := f.db.QueryRow(`SELECT last_seq, heads FROM ledger_tip`).Scan(&last, &stored); err != nil {
			t.Fatal(err)
		}
		table, _, err := headsDigest(ctx, f.db, last)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(stored, table) {
			t.Fatalf("%s: the tip's digest %x differs from the digest of ledger_chain %x", when, stored, table)
		}
		if rep := mustVerify(t, f.l.Reader); !rep.OK {
			t.Fatalf("%s: want the ledger to verify, got %s", when, problems(rep))
		}
	}
	for i := range 5 {
		at := t0.Add(-40*day + time.Duration(i)*time.Minute)
		if err := f.l.Append(ctx, acc(10100, "camera", "allowed", "", at), Record{Time: at, UID: 10100, Kind: "grant_change", Category: "camera"}); err != nil {
			t.Fatal(err)
		}
	}
	check("after appends")
	f.clk.Add(2 * time.Minute) // past the coalescing window: rows sealed
	if err := f.l.Append(ctx, Record{Time: f.clk.Now(), UID: 10101, Kind: "self_start", Category: "process", AppState: "not_running"}); err != nil {
		t.Fatal(err)
	}
	check("after sealing and a new kind")
	if err := f.l.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	check("after retention")
	if rep := mustVerify(t, f.l.Reader); rep.Pruned == 0 {
		t.Fatalf("want retention to have pruned rows, got %+v", rep)
	}
}
