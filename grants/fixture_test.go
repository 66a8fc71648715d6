package grants

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"permd/aosp/testclock"
	"permd/ledger/store"
)

// newClock is the tests' clock, at a Monday morning.
func newClock() *testclock.Clock { return testclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) }

// ledgerCounter stands in for the ledger: it keeps access records in the
// same SQLite file, coalescing identical ones within a minute into a
// counted row as the ledger does, and sums counts in CountSince.
type ledgerCounter struct{ db *sql.DB }

func newLedgerCounter(t testing.TB, db *sql.DB) *ledgerCounter {
	t.Helper()
	if err := store.Migrate(context.Background(), db, "test_ledger", []store.Migration{{Version: 1, SQL: `CREATE TABLE test_access (
		uid INTEGER NOT NULL, category TEXT NOT NULL, result TEXT NOT NULL, minute INTEGER NOT NULL, count INTEGER NOT NULL,
		PRIMARY KEY (uid, category, result, minute)) STRICT`}}); err != nil {
		t.Fatal(err)
	}
	return &ledgerCounter{db: db}
}

func (l *ledgerCounter) record(uid int, category, result string, at time.Time) error {
	_, err := l.db.Exec(`INSERT INTO test_access VALUES(?,?,?,?,1) ON CONFLICT DO UPDATE SET count = count + 1`,
		uid, category, result, at.Unix()/60)
	return err
}

func (l *ledgerCounter) CountSince(ctx context.Context, uid int, category string, results []string, since time.Time) (int64, error) {
	var total int64
	for _, r := range results {
		var n sql.NullInt64
		// Rows are per minute; a window start is minute-aligned.
		if err := l.db.QueryRowContext(ctx, `SELECT SUM(count) FROM test_access WHERE uid=? AND category=? AND result=? AND minute >= ?`,
			uid, category, r, since.Unix()/60).Scan(&n); err != nil {
			return 0, err
		}
		total += n.Int64
	}
	return total, nil
}

type fixture struct {
	t       testing.TB
	db      *sql.DB
	path    string
	clk     *testclock.Clock
	eng     *Engine
	counter *ledgerCounter
	mu      sync.Mutex
	changes []Change
}

func openDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), store.FileName), clk: newClock()}
	f.db = openDB(t, f.path)
	f.counter = newLedgerCounter(t, f.db)
	f.start()
	return f
}

// openStore loads the shipped catalogue and opens the grant store on
// db, as the daemon does at start.
func openStore(t testing.TB, db *sql.DB) (*Catalogue, *Store) {
	t.Helper()
	cat, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	st, err := OpenStore(context.Background(), db, cat)
	if err != nil {
		t.Fatal(err)
	}
	return cat, st
}

// start (re)builds the engine on the same database, as a daemon restart.
func (f *fixture) start() {
	f.t.Helper()
	cat, st := openStore(f.t, f.db)
	pol := DefaultPolicy()
	pol.Location = time.UTC
	eng, err := NewEngine(Config{Catalogue: cat, Store: st, Counter: f.counter, Now: f.clk.Now, Policy: pol,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnChange: func(c Change) {
			f.mu.Lock()
			f.changes = append(f.changes, c)
			f.mu.Unlock()
		}})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := eng.Load(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	f.eng = eng
	f.t.Cleanup(eng.Close)
}

const (
	appUID = 10123
	appPkg = "com.example.app"
)

func (f *fixture) set(g Grant) Grant {
	f.t.Helper()
	if g.Package == "" {
		g.Package = appPkg
	}
	if g.UID == 0 {
		g.UID = appUID
	}
	if g.Decision == "" {
		g.Decision = Allow
	}
	out, err := f.eng.Set(context.Background(), g, BySettings)
	if err != nil {
		f.t.Fatalf("set %+v: %v", g, err)
	}
	return out
}

// check decides and records like the framework does.
func (f *fixture) check(category, state string) Decision {
	f.t.Helper()
	d := f.eng.Check(Query{UID: appUID, Packages: []string{appPkg}, Category: category, State: state})
	if err := f.counter.record(appUID, category, d.Result, f.clk.Now()); err != nil {
		f.t.Fatal(err)
	}
	return d
}
