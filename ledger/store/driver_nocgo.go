//go:build !cgo && !nosqlite

package store

import (
	"fmt"

	_ "modernc.org/sqlite" // registers "sqlite"
)

// Driver names the SQLite implementation linked into this binary; it is
// stamped into --version and sys.health.
const Driver = "modernc.org/sqlite"

func dsn(path string, readOnly bool) (driverName, source string) {
	mode := "rwc"
	if readOnly {
		mode = "ro"
	}
	return "sqlite", fmt.Sprintf("file:%s?mode=%s&_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)", path, mode)
}
