package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"permd/ledger/store"
)

// tamper copies the ledger at base, runs sqls on the copy and verifies it.
func tamper(t *testing.T, base string, sqls ...string) VerifyReport {
	t.Helper()
	path := copyFile(t, base)
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range sqls {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	return verifyFile(t, path)
}

// problems is every problem verify reported, one a line.
func problems(rep VerifyReport) string {
	var b strings.Builder
	for _, p := range rep.Problems {
		fmt.Fprintf(&b, "row %d (%s): %s\n", p.Seq, p.Kind, p.Problem)
	}
	return b.String()
}

// TestVerifyCatchesEveryDeletion: rows in sealedLedger alternate between
// access (odd seq) and grant_change (even seq), 40 rows. Each way of
// deleting rows is detected with a reason that says what is missing.
func TestVerifyCatchesEveryDeletion(t *testing.T) {
	base := sealedLedger(t)
	kindID := `(SELECT id FROM ledger_code WHERE code = 'grant_change')`
	for _, tc := range []struct {
		name  string
		sqls  []string
		seq   int64  // the row FirstBad names
		want  string // in FirstBad.Problem
		also  string // in some other problem, "" for none
		notOK bool
	}{
		{name: "whole kind with its chain record", sqls: []string{
			`DELETE FROM ledger_event WHERE kind = ` + kindID,
			`DELETE FROM ledger_chain WHERE kind = ` + kindID,
		}, seq: 2, want: "row 2 is missing", also: "do not match the digest"},
		{name: "middle range across kinds", sqls: []string{`DELETE FROM ledger_event WHERE seq BETWEEN 11 AND 16`},
			seq: 11, want: "rows 11 to 16 are missing"},
		{name: "newest rows of every kind, heads rewound", sqls: []string{
			`DELETE FROM ledger_event WHERE seq > 34`,
			`UPDATE ledger_chain SET head_seq = (SELECT MAX(seq) FROM ledger_event e WHERE e.kind = ledger_chain.kind),
				head_hash = (SELECT hash FROM ledger_event e WHERE e.seq = (SELECT MAX(seq) FROM ledger_event e2 WHERE e2.kind = ledger_chain.kind))`,
		}, seq: 35, want: "the newest rows 35 to 40 are missing", also: "do not match the digest"},
		{name: "newest rows of every kind", sqls: []string{`DELETE FROM ledger_event WHERE seq > 34`},
			seq: 35, want: "the newest rows 35 to 40 are missing", also: "but its recorded head is row"},
		{name: "chain table emptied", sqls: []string{`DELETE FROM ledger_chain`},
			seq: 1, want: "which has no chain record", also: "the 0 chain records (ledger_chain) do not match the digest"},
		{name: "tip removed", sqls: []string{`DELETE FROM ledger_tip`},
			seq: 0, want: "tip record (ledger_tip) is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := tamper(t, base, tc.sqls...)
			if rep.OK || rep.FirstBad == nil || rep.FirstBad.Seq != tc.seq || !strings.Contains(rep.FirstBad.Problem, tc.want) {
				t.Fatalf("want verify to fail at row %d with %q, got ok=%v:\n%s", tc.seq, tc.want, rep.OK, problems(rep))
			}
			if tc.also != "" && !strings.Contains(problems(rep), tc.also) {
				t.Errorf("want also a problem with %q, got:\n%s", tc.also, problems(rep))
			}
		})
	}
}

// TestVerifyMessagesNameTwoRowsOrSayWhat: a head whose hash was altered
// (same row) is reported in words, never as "ends at row N, but its head
// is row N".
func TestVerifyMessagesNameTwoRowsOrSayWhat(t *testing.T) {
	base := sealedLedger(t)
	rep := tamper(t, base, `UPDATE ledger_chain SET head_hash = zeroblob(32)`)
	if rep.OK {
		t.Fatal("altered head hash: want verify to fail")
	}
	same := regexp.MustCompile(`ends at row (\d+), but its recorded head is row (\d+)`)
	for _, p := range rep.Problems {
		if m := same.FindStringSubmatch(p.Problem); m != nil && m[1] == m[2] {
			t.Errorf("self-contradicting message: %s", p.Problem)
		}
	}
	if !strings.Contains(problems(rep), "hash differs from the recorded head hash") {
		t.Errorf("want the altered head hash said in words, got:\n%s", problems(rep))
	}
}

// TestRetentionStaysVerifiable: rows removed by retention leave gaps in
// the sequence that verify accounts for; one more row removed below the
// anchors by hand is caught by the count.
func TestRetentionStaysVerifiable(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	day := 24 * time.Hour
	// Interleave old access rows (pruned after 30 days) with old
	// grant_change rows (kept 365 days), then newer rows.
	for i := range 10 {
		at := t0.Add(-40*day + time.Duration(i)*time.Minute)
		if err := f.l.Append(ctx, acc(10100, "camera", "allowed", "", at), Record{Time: at, UID: 10100, Kind: "grant_change", Category: "camera"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.l.Append(ctx, acc(10100, "camera", "denied", "", t0)); err != nil {
		t.Fatal(err)
	}
	if err := f.l.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, f.l.Reader)
	if rep.Pruned != 10 {
		t.Fatalf("want 10 rows pruned, got %+v", rep)
	}
	f.l.Close()
	// The grant_change rows (even seqs up to 20) lie below the access
	// anchor (seq 19): deleting them with their chain record leaves gaps
	// that only the count can tell from retention.
	kindID := `(SELECT id FROM ledger_code WHERE code = 'grant_change')`
	var bad VerifyReport
	func() {
		path := copyFile(t, f.path)
		db, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range []string{`DELETE FROM ledger_event WHERE kind = ` + kindID, `DELETE FROM ledger_chain WHERE kind = ` + kindID} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		bad = verifyOn(t, db)
	}()
	if bad.OK || !strings.Contains(problems(bad), "19 rows are missing from the sequence below the retention anchors, but the chain records count 10 removed by retention") {
		t.Fatalf("kind deleted below the anchors: want the count mismatch reported, got:\n%s", problems(bad))
	}
}

func verifyOn(t *testing.T, db *sql.DB) VerifyReport {
	t.Helper()
	rep, err := NewReader(db).Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// crashCopy builds what the migration tests start from: six accesses and
// grant changes 40 days old, removed by retention, then whatever more
// adds, then three rows still open (their window has not ended); and
// returns a copy of the file taken while those rows are open, which is
// what a crash leaves, opened. The copy is closed with the test.
func crashCopy(t *testing.T, f *fixture, more func()) *sql.DB {
	t.Helper()
	ctx := context.Background()
	day := 24 * time.Hour
	for i := range 6 {
		at := t0.Add(-40*day + time.Duration(i)*time.Minute)
		if err := f.l.Append(ctx, acc(10100, "camera", "allowed", "", at), Record{Time: at, UID: 10100, Kind: "grant_change", Category: "camera"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.l.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if more != nil {
		more()
	}
	for range 3 {
		if err := f.l.Append(ctx, acc(10100, "camera", "denied", "", t0)); err != nil {
			t.Fatal(err)
		}
	}
	db, err := store.Open(copyFile(t, f.path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMigrationToV3KeepsEverything: a database as the schema-2 writer
// left it (sealed, pruned and open rows) migrates to schema 3 with every
// row and count kept, verifies, and continues the sequence.
func TestMigrationToV3KeepsEverything(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	// Schema 2 is schema 3 without ledger_tip and ledger_use: the rows
	// are written the same way.
	db := crashCopy(t, f, nil)
	for _, q := range []string{`DROP TABLE ledger_tip`, `DROP TABLE ledger_use`, `UPDATE schema_version SET version = 2 WHERE component = 'ledger'`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var rows0, events0, max0 int64
	db.QueryRow(`SELECT COUNT(*), SUM(n), MAX(seq) FROM ledger_all`).Scan(&rows0, &events0, &max0)
	l, err := Open(ctx, db, Options{Rules: defaultRules(t), Now: f.clk.Now, SelfUID: 1000})
	if err != nil {
		t.Fatalf("open a schema-2 database: %v", err)
	}
	var rows1, events1 int64
	db.QueryRow(`SELECT COUNT(*), SUM(n) FROM ledger_all`).Scan(&rows1, &events1)
	if rows1 != rows0 || events1 != events0 {
		t.Fatalf("migration: want %d rows with %d events kept, got %d rows with %d", rows0, events0, rows1, events1)
	}
	rep := mustVerify(t, l.Reader)
	if rep.Pruned != 6 || rep.Open != 0 || rep.Rows != rows0 {
		t.Fatalf("after migration: want %d rows (all sealed) and 6 pruned, got %+v", rows0, rep)
	}
	if err := l.Append(ctx, acc(10100, "camera", "allowed", "", t0)); err != nil {
		t.Fatal(err)
	}
	var next int64
	db.QueryRow(`SELECT MAX(seq) FROM ledger_all`).Scan(&next)
	if next != max0+1 {
		t.Errorf("the sequence must continue without a gap: want row %d, got %d", max0+1, next)
	}
	l.Close()
	mustVerify(t, NewReader(db))
}
