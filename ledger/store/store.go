// Package store opens permd's one SQLite database (WAL) with the driver
// this binary links (mattn/go-sqlite3 with cgo, modernc.org/sqlite
// without) and applies each component's numbered migrations. Nothing else
// in permd knows which driver is in use.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the database's name inside the data dir.
const FileName = "permd.db"

// BusyTimeoutMS is how long a connection waits for another's lock before
// failing with SQLITE_BUSY.
const BusyTimeoutMS = 5000

// Migration is one numbered schema step of one component. Steps run in
// order, each in its own transaction together with the version bump, so a
// crash leaves the schema at a whole step.
type Migration struct {
	Version int
	SQL     string
}

// Open opens (creating if needed) the database at path for reading and
// writing, in WAL mode with synchronous=FULL so that a committed
// transaction survives power loss: an acknowledged ledger record is
// durable.
//
// An existing file is first inspected read-only: a file that is not
// SQLite, another application's database, one that conflicts with a
// migration, or one a newer permd wrote is refused with an *OpenError
// before a byte of it changes (no journal-mode switch, no table added).
func Open(path string) (*sql.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o770); err != nil {
		return nil, &OpenError{Path: path, Problem: "cannot create its directory: " + err.Error(), Action: "check --data-dir and its parent's owner and mode", Err: err}
	}
	// SQLite spills temp files to SQLITE_TMPDIR or /tmp; Android has no
	// /tmp, so keep them next to the database.
	if os.Getenv("SQLITE_TMPDIR") == "" {
		os.Setenv("SQLITE_TMPDIR", filepath.Dir(path))
	}
	if _, err := os.Stat(path); err == nil {
		if err := preflight(path); err != nil {
			return nil, err
		}
	}
	name, src := dsn(path, false)
	db, err := sql.Open(name, src)
	if err != nil {
		return nil, &OpenError{Path: path, Problem: err.Error(), Action: Recovery, Err: err}
	}
	for _, p := range []string{
		"PRAGMA journal_mode=WAL",
		`CREATE TABLE IF NOT EXISTS schema_version (
		component TEXT PRIMARY KEY,
		version INTEGER NOT NULL
	) STRICT`,
	} {
		if _, err := db.Exec(p); err != nil {
			db.Close()
			return nil, &OpenError{Path: path, Problem: strings.Fields(p)[0] + " " + strings.Fields(p)[1] + ": " + err.Error(), Action: Recovery, Err: err}
		}
	}
	return db, nil
}

// OpenReadOnly opens an existing database without writing to it, for
// reading a copy pulled with `adb pull` on a host.
func OpenReadOnly(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	name, src := dsn(path, true)
	db, err := sql.Open(name, src)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// ErrNewerSchema means the database was written by a newer permd; we
// refuse to touch it rather than corrupt it.
var ErrNewerSchema = errors.New("database schema is newer than this binary")

// Migrate brings component's schema to the last of steps.
func Migrate(ctx context.Context, db *sql.DB, component string, steps []Migration) error {
	var cur int
	err := db.QueryRowContext(ctx, `SELECT version FROM schema_version WHERE component = ?`, component).Scan(&cur)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	if n := len(steps); n > 0 && cur > steps[n-1].Version {
		return fmt.Errorf("migrate %s: at version %d, binary knows %d: %w", component, cur, steps[n-1].Version, ErrNewerSchema)
	}
	for _, m := range steps {
		if m.Version <= cur {
			continue
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s to %d: %w", component, m.Version, err)
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s to %d: %w", component, m.Version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version(component, version) VALUES(?, ?)
			ON CONFLICT(component) DO UPDATE SET version = excluded.version`, component, m.Version); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s to %d: %w", component, m.Version, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s to %d: %w", component, m.Version, err)
		}
		cur = m.Version
	}
	return nil
}
