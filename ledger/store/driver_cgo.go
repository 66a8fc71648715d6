//go:build cgo && !nosqlite

package store

import (
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3" // registers "sqlite3"
)

// Driver names the SQLite implementation linked into this binary; it is
// stamped into --version and sys.health.
const Driver = "mattn/go-sqlite3"

func dsn(path string, readOnly bool) (driverName, source string) {
	mode := "rwc"
	if readOnly {
		mode = "ro"
	}
	// _txlock=immediate: every write transaction takes the write lock at
	// BEGIN, so two writers never deadlock upgrading from a read lock.
	// The per-connection pragmas are in the DSN, which the driver applies
	// to every connection it opens: an Exec on the pool reaches only one
	// of them, and the others would commit at synchronous=NORMAL.
	return "sqlite3", fmt.Sprintf("file:%s?mode=%s&_txlock=immediate&_busy_timeout=%d&_foreign_keys=on&_synchronous=FULL", path, mode, BusyTimeoutMS)
}

// code returns SQLite's primary result code carried by err, or 0.
func code(err error) int {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return int(se.Code)
	}
	return 0
}
