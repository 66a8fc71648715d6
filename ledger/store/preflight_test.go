package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPragmasOnEveryPooledConnection: synchronous=FULL, the busy timeout
// and foreign keys hold on every connection of the pool, not only the one
// an Exec happened to reach.
func TestPragmasOnEveryPooledConnection(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var conns []*sql.Conn
	for range 3 { // held at once, so the pool must open three
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		for _, p := range []struct {
			pragma string
			want   int
		}{{"synchronous", 2}, {"busy_timeout", BusyTimeoutMS}, {"foreign_keys", 1}} {
			var got int
			if err := c.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != p.want {
				t.Errorf("%s: connection %d: PRAGMA %s = %d, want %d", Driver, i, p.pragma, got, p.want)
			}
		}
	}
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// rawDB opens path with the driver alone: no permd schema, the default
// rollback journal, as another application would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	name, src := dsn(path, false)
	db, err := sql.Open(name, src)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func mustExec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestOpenRefusesWithoutWriting: a file that is not SQLite, another
// application's database, a table a migration would create and a schema
// from a newer permd are each refused with an error naming the file and
// what to do, and the file stays byte-for-byte as it was.
func TestOpenRefusesWithoutWriting(t *testing.T) {
	Register("storetest", []Migration{
		{1, `CREATE TABLE storetest_a (x INTEGER) STRICT; CREATE INDEX storetest_a_x ON storetest_a(x)`},
		{2, `CREATE TABLE IF NOT EXISTS storetest_b (y TEXT)`},
	})
	t.Cleanup(func() {
		registry.Lock()
		delete(registry.steps, "storetest")
		registry.Unlock()
	})
	cases := []struct {
		name string
		make func(t *testing.T, path string)
		want error
		says string
	}{{
		name: "not sqlite",
		make: func(t *testing.T, path string) {
			os.WriteFile(path, bytes.Repeat([]byte("not a database "), 300), 0o600)
		},
		want: ErrNotDatabase, says: "not an SQLite database",
	}, {
		name: "another application's database",
		make: func(t *testing.T, path string) {
			db := rawDB(t, path)
			defer db.Close()
			mustExec(t, db, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`, `INSERT INTO notes(body) VALUES ('hello')`)
		},
		want: ErrForeign, says: "table notes",
	}, {
		name: "permd database with a foreign table",
		make: func(t *testing.T, path string) {
			db := rawDB(t, path)
			defer db.Close()
			mustExec(t, db, `CREATE TABLE schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT`,
				`INSERT INTO schema_version VALUES ('storetest', 2)`,
				`CREATE TABLE storetest_a (x INTEGER) STRICT`, `CREATE TABLE storetest_b (y TEXT)`, `CREATE TABLE contacts (n TEXT)`)
		},
		want: ErrForeign, says: `"contacts"`,
	}, {
		name: "conflicting table",
		make: func(t *testing.T, path string) {
			db := rawDB(t, path)
			defer db.Close()
			mustExec(t, db, `CREATE TABLE schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT`,
				`INSERT INTO schema_version VALUES ('storetest', 1)`,
				`CREATE TABLE storetest_a (x INTEGER) STRICT`, `CREATE TABLE storetest_b (other BLOB)`)
		},
		want: ErrConflict, says: `"storetest_b", which permd's storetest schema version 2 would create`,
	}, {
		name: "newer schema",
		make: func(t *testing.T, path string) {
			db, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := Migrate(context.Background(), db, "storetest", registry.steps["storetest"]); err != nil {
				t.Fatal(err)
			}
			mustExec(t, db, `UPDATE schema_version SET version = 3 WHERE component = 'storetest'`)
			db.Close()
		},
		want: ErrNewerSchema, says: "version 3, this permd knows up to 2",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			tc.make(t, path)
			before := fileSum(t, path)
			db, err := Open(path)
			if err == nil {
				db.Close()
				t.Fatalf("%s: Open accepted the file", Driver)
			}
			var oe *OpenError
			if !errors.Is(err, tc.want) || !errors.As(err, &oe) {
				t.Fatalf("%s: Open: %v, want an *OpenError wrapping %v", Driver, err, tc.want)
			}
			for _, s := range []string{path, tc.says, "move the file", "aside"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if after := fileSum(t, path); after != before {
				t.Errorf("%s: refused file changed", Driver)
			}
		})
	}
}

// TestOpenAcceptsItsOwnDatabase: a database permd wrote, at any version
// up to the binary's, opens again and migrates on.
func TestOpenAcceptsItsOwnDatabase(t *testing.T) {
	steps := []Migration{
		{1, `CREATE TABLE storeown_a (x INTEGER) STRICT; CREATE INDEX storeown_a_x ON storeown_a(x)`},
		{2, `CREATE TABLE storeown_b (y TEXT); ALTER TABLE storeown_b RENAME TO storeown_c`},
	}
	Register("storeown", steps)
	t.Cleanup(func() {
		registry.Lock()
		delete(registry.steps, "storeown")
		registry.Unlock()
	})
	path := filepath.Join(t.TempDir(), FileName)
	for i := range 3 {
		db, err := Open(path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := Migrate(context.Background(), db, "storeown", steps[:min(i+1, 2)]); err != nil {
			t.Fatalf("migrate %d: %v", i, err)
		}
		db.Close()
	}
}
