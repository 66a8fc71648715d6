//go:build nosqlite

package store

// Driver names the SQLite implementation linked into this binary: none.
// The tag nosqlite is for the device permctl, which talks to permd over
// its socket only; without it the CLI would carry modernc.org/sqlite
// (about 5 MB on arm64) for --db, which only a host needs. Open and
// OpenReadOnly fail with "sql: unknown driver".
const Driver = NoDriver

func dsn(path string, readOnly bool) (driverName, source string) {
	return "permd-nosqlite", path
}

// code has no driver error to read in a build without SQLite.
func code(error) int { return 0 }
