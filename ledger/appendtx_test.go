package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"permd/aosp/etc"
)

// TestAppendTxCommitsTogether: another table's change and its records
// commit in one transaction; when the change fails, neither is written,
// and when a record is invalid, the change never runs.
func TestAppendTxCommitsTogether(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if _, err := f.db.Exec(`CREATE TABLE side (x INTEGER) STRICT`); err != nil {
		t.Fatal(err)
	}
	change := Record{Time: t0, UID: 10100, Kind: "grant_change", Category: "camera", Detail: json.RawMessage(`{"by":"settings"}`)}
	insert := func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO side VALUES (1)`)
		return err
	}
	count := func() (side, recs int) {
		f.db.QueryRow(`SELECT COUNT(*) FROM side`).Scan(&side)
		f.db.QueryRow(`SELECT COUNT(*) FROM ledger_all`).Scan(&recs)
		return
	}
	if err := f.l.AppendTx(ctx, insert, change); err != nil {
		t.Fatal(err)
	}
	if s, r := count(); s != 1 || r != 1 {
		t.Fatalf("want the change and its record, got %d side rows and %d records", s, r)
	}
	boom := errors.New("boom")
	err := f.l.AppendTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := insert(ctx, tx); err != nil {
			return err
		}
		return boom
	}, change)
	if !errors.Is(err, boom) {
		t.Fatalf("want the change's own error back, got %v", err)
	}
	if s, r := count(); s != 1 || r != 1 {
		t.Fatalf("failed change: want neither written, got %d side rows and %d records", s, r)
	}
	ran := false
	bad := change
	bad.Kind = "telepathy"
	var ve *ValidationError
	if err := f.l.AppendTx(ctx, func(context.Context, *sql.Tx) error { ran = true; return nil }, bad); !errors.As(err, &ve) || ran {
		t.Fatalf("invalid record: want a validation error and the change not run, got %v (ran %v)", err, ran)
	}
	// The writer carries on.
	if err := f.l.AppendTx(ctx, insert, change); err != nil {
		t.Fatal(err)
	}
	if s, _ := count(); s != 2 {
		t.Fatalf("after a failed change: want the next one written, got %d side rows", s)
	}
	mustVerify(t, f.l.Reader)
}

// TestReadsSeeEnqueuedRecords: a read on the live ledger sees records
// handed over without waiting, even while the writer would still gather
// them (a long commit_delay).
func TestReadsSeeEnqueuedRecords(t *testing.T) {
	f := newFixture(t, nil)
	r := *f.l.Rules()
	r.CommitDelay = etc.Duration(5 * time.Second)
	f.l.SetRules(&r)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	f.l.Enqueue(acc(10100, "camera", "allowed", "foreground", t0))
	p, err := f.l.Query(ctx, Filter{}, "", 10)
	if err != nil || len(p.Events) != 1 {
		t.Fatalf("query right after Enqueue: want the record, got %+v %v", p.Events, err)
	}
	f.l.Enqueue(acc(10100, "camera", "allowed", "foreground", t0))
	if n, err := f.l.CountSince(ctx, 10100, "camera", []string{"allowed"}, t0.Add(-time.Minute)); err != nil || n != 2 {
		t.Fatalf("frequency count right after Enqueue: want 2, got %d %v", n, err)
	}
}

// TestWriterCommitsAreFsynced: the writer's own connection, which
// commits every acknowledged record and grant change, runs with
// synchronous=FULL.
func TestWriterCommitsAreFsynced(t *testing.T) {
	f := newFixture(t, nil)
	var mode int
	if err := f.l.conn.QueryRowContext(context.Background(), `PRAGMA synchronous`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != 2 {
		t.Fatalf("writer connection: want synchronous=FULL (2), got %d", mode)
	}
}
