//go:build !cgo && !nosqlite

package store

import (
	"errors"
	"fmt"

	"modernc.org/sqlite" // registers "sqlite"
)

// Driver names the SQLite implementation linked into this binary; it is
// stamped into --version and sys.health.
const Driver = "modernc.org/sqlite"

func dsn(path string, readOnly bool) (driverName, source string) {
	mode := "rwc"
	if readOnly {
		mode = "ro"
	}
	// The per-connection pragmas are in the DSN, which the driver applies
	// to every connection it opens: an Exec on the pool reaches only one
	// of them, and the others would commit at synchronous=NORMAL.
	return "sqlite", fmt.Sprintf("file:%s?mode=%s&_txlock=immediate&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)", path, mode, BusyTimeoutMS)
}

// code returns SQLite's primary result code carried by err, or 0.
func code(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}
