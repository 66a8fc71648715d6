package ledger

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"permd/ledger/store"
)

// TestSealedRowsStoreTags: rows sealed under schema 4 store a tag of
// their hash, and the chain head keeps the full hash.
func TestSealedRowsStoreTags(t *testing.T) {
	db, err := store.OpenReadOnly(sealedLedger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, tagged int64
	db.QueryRow(`SELECT COUNT(*), SUM(length(hash) = ?) FROM ledger_all`, tagBytes).Scan(&rows, &tagged)
	if rows != 40 || tagged != rows {
		t.Fatalf("want all 40 rows sealed with a %d-byte tag, got %d of %d", tagBytes, tagged, rows)
	}
	var heads, full int64
	db.QueryRow(`SELECT COUNT(*), SUM(length(head_hash) = 32) FROM ledger_chain`).Scan(&heads, &full)
	if heads != 2 || full != heads {
		t.Fatalf("want 2 chain heads with a full 32-byte hash, got %d of %d", full, heads)
	}
}

// TestForgedTagIsCaught: a row changed and given the tag its new
// content hashes to passes its own tag check, but every full hash after
// it differs, so the next row of its kind (or at the end the head)
// does not match: the tag is a locator, the chain is the proof.
func TestForgedTagIsCaught(t *testing.T) {
	base := sealedLedger(t)
	path := copyFile(t, base)
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	// Row 7 (access, the 4th of its kind): count changed, tag forged
	// from the full hash of row 5 and the new content.
	fulls := fullHashes(t, db)
	if _, err := db.Exec(`UPDATE ledger_event SET n = 5 WHERE seq = 7`); err != nil {
		t.Fatal(err)
	}
	c := rowContent(t, db, 7)
	forged := rowHash(&hasher{}, fulls[5], &c)
	if _, err := db.Exec(`UPDATE ledger_event SET hash = ? WHERE seq = 7`, rowTag(forged)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	rep := verifyFile(t, path)
	if rep.OK || rep.FirstBad == nil || rep.FirstBad.Seq != 9 {
		t.Fatalf("row 7 changed with its tag forged: want verify to fail at row 9, the next of its kind, got ok=%v:\n%s", rep.OK, problems(rep))
	}
	// The same with every later tag of the kind forged too: only the
	// head can tell, and it does.
	path = copyFile(t, base)
	db, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE ledger_event SET n = 5 WHERE seq = 7`); err != nil {
		t.Fatal(err)
	}
	prev := fulls[5]
	for seq := int64(7); seq <= 39; seq += 2 {
		c := rowContent(t, db, seq)
		prev = rowHash(&hasher{}, prev, &c)
		if _, err := db.Exec(`UPDATE ledger_event SET hash = ? WHERE seq = ?`, rowTag(prev), seq); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	rep = verifyFile(t, path)
	if rep.OK || !strings.Contains(problems(rep), "hash differs from the recorded head hash") {
		t.Fatalf("every later tag forged: want the head to differ, got ok=%v:\n%s", rep.OK, problems(rep))
	}
}

// fullHashes recomputes every row's full hash, by seq, walking each
// kind's chain from its anchor as Verify does.
func fullHashes(t *testing.T, db *sql.DB) map[int64][]byte {
	t.Helper()
	anchors := map[int64][]byte{}
	rows, err := db.Query(`SELECT kind, anchor_hash FROM ledger_chain`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var kind int64
		var h []byte
		rows.Scan(&kind, &h)
		if h == nil {
			h = zeroHash
		}
		anchors[kind] = h
	}
	rows.Close()
	var seqs []int64
	rows, err = db.Query(`SELECT seq FROM ledger_all WHERE hash IS NOT NULL ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s int64
		rows.Scan(&s)
		seqs = append(seqs, s)
	}
	rows.Close()
	out := map[int64][]byte{}
	for _, s := range seqs {
		var kind int64
		db.QueryRow(`SELECT kind FROM ledger_all WHERE seq = ?`, s).Scan(&kind)
		c := rowContent(t, db, s)
		anchors[kind] = rowHash(&hasher{}, anchors[kind], &c)
		out[s] = anchors[kind]
	}
	return out
}

// rowContent reads what row seq's hash covers.
func rowContent(t *testing.T, db *sql.DB, seq int64) content {
	t.Helper()
	var c content
	var dur int64
	var detail sql.NullString
	err := db.QueryRow(`SELECT e.seq, e.t, e.dur, e.n, a.uid, a.packages, k.code, c.code, COALESCE(o.code, ''), COALESCE(r.code, ''), COALESCE(s.code, ''), e.rules, e.detail
		FROM ledger_all e JOIN ledger_app a ON a.id = e.app JOIN ledger_code k ON k.id = e.kind JOIN ledger_code c ON c.id = e.cat
		LEFT JOIN ledger_code o ON o.id = e.op LEFT JOIN ledger_code r ON r.id = e.res LEFT JOIN ledger_code s ON s.id = e.st
		WHERE e.seq = ?`, seq).Scan(&c.Seq, &c.First, &dur, &c.Count, &c.UID, &c.Packages, &c.Kind, &c.Category, &c.Op, &c.Result, &c.AppState, &c.Rules, &detail)
	if err != nil {
		t.Fatalf("row %d: %v", seq, err)
	}
	c.Last, c.Detail = c.First+dur, detail.String
	return c
}

// TestMigrationToV4KeepsEverything: a database as the schema-3 writer
// left it (every sealed row with its full hash, rows pruned, rows still
// open) migrates to schema 4 with every row and count kept and
// verifies; retention then removes old full-hash rows and the new
// tagged rows still verify after the anchor it computes.
func TestMigrationToV4KeepsEverything(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	day := 24 * time.Hour
	// Schema 3 stored every sealed row's full hash: put them back.
	db := crashCopy(t, f, func() {
		for i := range 4 { // old enough for retention once the clock moves on
			at := t0.Add(-20*day + time.Duration(i)*time.Minute)
			if err := f.l.Append(ctx, acc(10100, "camera", "allowed", "", at), acc(10100, "microphone", "denied", "background", at)); err != nil {
				t.Fatal(err)
			}
		}
	})
	for seq, h := range fullHashes(t, db) {
		for _, table := range []string{"ledger_event", "ledger_recent"} {
			if _, err := db.Exec(`UPDATE `+table+` SET hash = ? WHERE seq = ?`, h, seq); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := db.Exec(`UPDATE schema_version SET version = 3 WHERE component = 'ledger'`); err != nil {
		t.Fatal(err)
	}
	if rep := verifyOn(t, db); !rep.OK {
		t.Fatalf("the schema-3 copy: want it to verify, got:\n%s", problems(rep))
	}
	var rows0, events0, max0, full0 int64
	db.QueryRow(`SELECT COUNT(*), SUM(n), MAX(seq), SUM(length(hash) = 32) FROM ledger_all`).Scan(&rows0, &events0, &max0, &full0)
	if full0 == 0 {
		t.Fatal("the schema-3 copy has no full-hash rows")
	}
	clk := &clock{t: t0}
	l, err := Open(ctx, db, Options{Rules: defaultRules(t), Now: clk.Now, SelfUID: 1000})
	if err != nil {
		t.Fatalf("open a schema-3 database: %v", err)
	}
	defer l.Close()
	var version int
	db.QueryRow(`SELECT version FROM schema_version WHERE component = 'ledger'`).Scan(&version)
	var rows1, events1, full1 int64
	db.QueryRow(`SELECT COUNT(*), SUM(n), SUM(length(hash) = 32) FROM ledger_all`).Scan(&rows1, &events1, &full1)
	if version != 4 || rows1 != rows0 || events1 != events0 || full1 != full0 {
		t.Fatalf("migration: want schema 4 with %d rows, %d events and the %d full hashes kept, got schema %d with %d rows, %d events, %d full hashes",
			rows0, events0, full0, version, rows1, events1, full1)
	}
	rep := mustVerify(t, l.Reader)
	if rep.Pruned != 6 || rep.Open != 0 || rep.Rows != rows0 {
		t.Fatalf("after migration: want %d rows (the open ones sealed by the start) and 6 pruned, got %+v", rows0, rep)
	}
	if err := l.Append(ctx, acc(10100, "camera", "allowed", "", t0)); err != nil {
		t.Fatal(err)
	}
	var next int64
	db.QueryRow(`SELECT MAX(seq) FROM ledger_all`).Scan(&next)
	if next != max0+1 {
		t.Errorf("the sequence must continue without a gap: want row %d, got %d", max0+1, next)
	}
	// Retention over the old full-hash rows: the anchor it computes
	// must carry the chain on to the tagged rows.
	clk.Add(15 * day)
	if err := l.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	rep = mustVerify(t, l.Reader)
	if rep.Pruned <= 6 {
		t.Fatalf("want retention to remove the old access rows too, got %+v", rep)
	}
	l.Close()
	mustVerify(t, NewReader(db))
}
