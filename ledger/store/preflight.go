package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Reasons Open refuses a database. Each comes wrapped in an *OpenError
// that names the file and says what to do.
var (
	// ErrNotDatabase means the file is not an SQLite database at all.
	ErrNotDatabase = errors.New("not an SQLite database")
	// ErrForeign means the file is a valid SQLite database that permd did
	// not write (another application's, or a copy put in the wrong place).
	ErrForeign = errors.New("not a permd database")
	// ErrConflict means the file holds an object that a permd migration
	// would create, so migrating would fail or mix two schemas.
	ErrConflict = errors.New("schema conflicts with permd's")
)

// Recovery is what to do with a database permd will not open or found
// damaged: permd never deletes the record, so the way out is to keep the
// file for audit and let permd start a fresh one.
const Recovery = "stop permd, move the file (and its -wal and -shm files) aside to keep it for audit, and start permd again to create a fresh database; see docs/operations.md"

// OpenError is a database Open refused or could not open. It names the
// file and says what to do; Err is one of the reasons above, ErrNewerSchema
// or the driver's error.
type OpenError struct {
	Path    string
	Problem string
	Action  string
	Err     error
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("database %s: %s; to recover: %s", e.Path, e.Problem, e.Action)
}

func (e *OpenError) Unwrap() error { return e.Err }

// registry holds every component's migrations, so that Open can tell a
// permd database from a foreign or newer one before anything writes.
var registry = struct {
	sync.Mutex
	steps map[string][]Migration
}{steps: map[string][]Migration{}}

// Register declares component's migrations; each component calls it from
// an init function. Open refuses a database holding objects (tables,
// indexes, views, triggers) that no registered step creates (with CREATE
// or ALTER TABLE ... RENAME TO), or a component version newer than its
// last step.
func Register(component string, steps []Migration) {
	registry.Lock()
	defer registry.Unlock()
	registry.steps[component] = steps
}

var (
	createRE = regexp.MustCompile(`(?i)\bCREATE\s+(?:UNIQUE\s+)?(?:TEMP\s+|TEMPORARY\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\s+(?:IF\s+NOT\s+EXISTS\s+)?["\x60\[]?(\w+)`)
	renameRE = regexp.MustCompile(`(?i)\bRENAME\s+TO\s+["\x60\[]?(\w+)`)
)

// owner is the component and step that create a schema object.
type owner struct {
	component string
	version   int
}

func owners() map[string]owner {
	registry.Lock()
	defer registry.Unlock()
	out := map[string]owner{}
	for c, steps := range registry.steps {
		for _, m := range steps {
			for _, re := range []*regexp.Regexp{createRE, renameRE} {
				for _, sm := range re.FindAllStringSubmatch(m.SQL, -1) {
					name := strings.ToLower(sm[1])
					if _, ok := out[name]; !ok {
						out[name] = owner{c, m.Version}
					}
				}
			}
		}
	}
	return out
}

func lastVersion(component string) (int, bool) {
	registry.Lock()
	defer registry.Unlock()
	steps, ok := registry.steps[component]
	if !ok || len(steps) == 0 {
		return 0, ok
	}
	return steps[len(steps)-1].Version, true
}

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// preflight inspects an existing database through a read-only handle and
// refuses it, before anything has written to it, when it is not permd's,
// conflicts with a migration or was written by a newer permd.
func preflight(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &OpenError{Path: path, Problem: "cannot read: " + err.Error(), Action: "check the file's owner and mode (permd runs as its own uid)", Err: err}
	}
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	f.Close()
	if n == 0 && errors.Is(err, io.EOF) {
		return nil // empty: SQLite creates the database in it
	}
	if !bytes.Equal(head[:n], []byte(sqliteMagic)) {
		return &OpenError{Path: path, Problem: "the file is not an SQLite database (its header is wrong: damaged or another kind of file)", Action: Recovery, Err: ErrNotDatabase}
	}
	name, src := dsn(path, true)
	db, err := sql.Open(name, src)
	if err != nil {
		return &OpenError{Path: path, Problem: err.Error(), Action: Recovery, Err: err}
	}
	defer db.Close()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return &OpenError{Path: path, Problem: "cannot read its schema (damaged?): " + err.Error(), Action: Recovery, Err: err}
	}
	have := map[string]string{} // lower-case name -> type
	for rows.Next() {
		var typ, n string
		if err := rows.Scan(&typ, &n); err != nil {
			rows.Close()
			return &OpenError{Path: path, Problem: "cannot read its schema (damaged?): " + err.Error(), Action: Recovery, Err: err}
		}
		have[strings.ToLower(n)] = typ
	}
	if err := rows.Close(); err != nil {
		return &OpenError{Path: path, Problem: "cannot read its schema (damaged?): " + err.Error(), Action: Recovery, Err: err}
	}
	if err := rows.Err(); err != nil {
		return &OpenError{Path: path, Problem: "cannot read its schema (damaged?): " + err.Error(), Action: Recovery, Err: err}
	}
	if len(have) == 0 {
		return nil
	}
	foreign := "point --data-dir at a directory of permd's own, or " + Recovery
	if _, ok := have["schema_version"]; !ok {
		return &OpenError{Path: path, Problem: fmt.Sprintf("it holds %s but no permd schema_version table: it belongs to another application", listNames(have)), Action: foreign, Err: ErrForeign}
	}
	versions := map[string]int{}
	vrows, err := db.QueryContext(ctx, `SELECT component, version FROM schema_version`)
	if err != nil {
		return &OpenError{Path: path, Problem: "cannot read schema_version: " + err.Error(), Action: Recovery, Err: err}
	}
	for vrows.Next() {
		var c string
		var v int
		if err := vrows.Scan(&c, &v); err != nil {
			vrows.Close()
			return &OpenError{Path: path, Problem: "cannot read schema_version: " + err.Error(), Action: Recovery, Err: err}
		}
		versions[c] = v
	}
	vrows.Close()
	newer := "run the permd release that wrote it, or " + Recovery
	comps := make([]string, 0, len(versions))
	for c := range versions {
		comps = append(comps, c)
	}
	sort.Strings(comps)
	for _, c := range comps {
		last, ok := lastVersion(c)
		if !ok {
			return &OpenError{Path: path, Problem: fmt.Sprintf("schema component %q at version %d is unknown to this permd (a newer permd wrote it?)", c, versions[c]), Action: newer, Err: ErrNewerSchema}
		}
		if versions[c] > last {
			return &OpenError{Path: path, Problem: fmt.Sprintf("schema component %q is at version %d, this permd knows up to %d (a newer permd wrote it)", c, versions[c], last), Action: newer, Err: ErrNewerSchema}
		}
	}
	own := owners()
	for _, n := range sortedNames(have) {
		if n == "schema_version" {
			continue
		}
		o, ok := own[n]
		if !ok {
			return &OpenError{Path: path, Problem: fmt.Sprintf("it holds %s %q, which permd does not create", have[n], n), Action: foreign, Err: ErrForeign}
		}
		if o.version > versions[o.component] {
			return &OpenError{Path: path, Problem: fmt.Sprintf("it already holds %s %q, which permd's %s schema version %d would create (the %s schema is at version %d)", have[n], n, o.component, o.version, o.component, versions[o.component]), Action: foreign, Err: ErrConflict}
		}
	}
	return nil
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// listNames names up to five objects, for an error message.
func listNames(m map[string]string) string {
	ns := sortedNames(m)
	more := ""
	if len(ns) > 5 {
		more = fmt.Sprintf(" and %d more", len(ns)-5)
		ns = ns[:5]
	}
	for i, n := range ns {
		ns[i] = m[n] + " " + n
	}
	return strings.Join(ns, ", ") + more
}

// QuickCheck runs SQLite's quick_check (b-tree structure, page format,
// record sizes: it reads every page but skips the costly index-content
// comparison of integrity_check) and returns its findings, nil when the
// file is sound. An error means the check itself could not run, which on
// a damaged file is itself a finding.
func QuickCheck(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `PRAGMA quick_check(20)`)
	if err != nil {
		return nil, fmt.Errorf("quick_check: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("quick_check: %w", err)
		}
		if s != "ok" {
			out = append(out, s)
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("quick_check: %w", err)
	}
	return out, nil
}
