package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMigrateStepsOnceAndInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	steps := []Migration{
		{1, `CREATE TABLE a (x INTEGER) STRICT`},
		{2, `ALTER TABLE a ADD COLUMN y TEXT`},
	}
	for range 2 { // running twice must be a no-op the second time
		if err := Migrate(ctx, db, "test", steps); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO a(x, y) VALUES (1, 'z')`); err != nil {
		t.Fatalf("schema after migrations: %v", err)
	}
	var mode string
	db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal_mode %q, want wal", mode)
	}

	// A failing step leaves the version at the last whole step.
	bad := append(steps, Migration{3, `CREATE TABLE a (x INTEGER)`}) // a exists
	if err := Migrate(ctx, db, "test", bad); err == nil || !strings.Contains(err.Error(), "migrate test to 3") {
		t.Fatalf("failing step: %v", err)
	}
	var v int
	db.QueryRow(`SELECT version FROM schema_version WHERE component='test'`).Scan(&v)
	if v != 2 {
		t.Fatalf("version after failed step %d, want 2", v)
	}

	// A database from a newer binary is refused, not touched.
	if err := Migrate(ctx, db, "test", steps[:1]); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("older binary on newer schema: %v, want ErrNewerSchema", err)
	}
}

func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenReadOnly(filepath.Join(dir, "absent.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("absent file: %v", err)
	}
	path := filepath.Join(dir, FileName)
	db, _ := Open(path)
	db.Exec(`CREATE TABLE t (x INTEGER)`)
	db.Close()
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Exec(`INSERT INTO t VALUES (1)`); err == nil {
		t.Fatal("write through a read-only handle succeeded")
	}
}
