// Package packages reads Android's /data/system/packages.list into a
// uid → packages table and keeps it current as the package manager
// rewrites the file. uids stay raw: Android has no passwd database, and
// packages.list is the authority for which packages run under a uid.
package packages

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
)

// PerUserRange is the uid span of one Android user: uid = user*PerUserRange + appId.
const PerUserRange = 100000

// FirstAppID and LastAppID bound the app ids of installed apps
// (Process.FIRST_APPLICATION_UID .. LAST_APPLICATION_UID).
const (
	FirstAppID = 10000
	LastAppID  = 19999
)

// UserID returns the Android user a uid belongs to.
func UserID(uid int) int { return uid / PerUserRange }

// AppID returns the per-user app id of a uid.
func AppID(uid int) int { return uid % PerUserRange }

// IsApp reports whether uid is an installed app's uid (not a system
// uid, not an isolated or SDK-sandbox process).
func IsApp(uid int) bool {
	a := AppID(uid)
	return uid >= 0 && a >= FirstAppID && a <= LastAppID
}

// Package is one line of packages.list. Fields absent from older
// releases' shorter lines keep their zero value; Fields says how many the
// line had.
type Package struct {
	Name                 string // package name
	UID                  int    // uid for user 0 (app id for other users)
	Debuggable           bool   // field 3
	DataDir              string // field 4, "" for "null"
	SEInfo               string // field 5, e.g. "default:targetSdkVersion=34"
	GIDs                 []int  // field 6, nil for "none"
	ProfileableFromShell bool   // field 7
	VersionCode          int64  // field 8 (longVersionCode)
	Profileable          bool   // field 9
	Installer            string // field 10: a package, or @system, @product, @null
	Fields               int    // number of fields on the line
}

// Table is an immutable snapshot of packages.list. Lookups are safe from
// any goroutine; a reload builds a new Table.
type Table struct {
	byApp  map[int][]string // app id → package names, sorted (several for a shared uid)
	byName map[string]*Package
	Lines  int // lines read, including skipped ones
	Bad    int // malformed lines skipped
}

// Empty is a table with no packages.
func Empty() *Table { return &Table{byApp: map[int][]string{}, byName: map[string]*Package{}} }

// FromMap builds a table from a uid → packages map (the host-mode stand-in
// for packages.list).
func FromMap(m map[int][]string) *Table {
	t := Empty()
	for uid, names := range m {
		for _, n := range names {
			t.add(&Package{Name: n, UID: uid, Fields: 2})
		}
	}
	return t
}

func (t *Table) add(p *Package) {
	a := AppID(p.UID)
	if !slices.Contains(t.byApp[a], p.Name) {
		t.byApp[a] = append(t.byApp[a], p.Name)
		slices.Sort(t.byApp[a])
	}
	t.byName[p.Name] = p
}

// Packages returns the packages that run under uid (any user); nil when
// none is known. The slice is shared: callers must not modify it.
func (t *Table) Packages(uid int) []string {
	if t == nil || uid < 0 {
		return nil
	}
	return t.byApp[AppID(uid)]
}

// Package returns the parsed line of a package.
func (t *Table) Package(name string) (*Package, bool) {
	if t == nil {
		return nil, false
	}
	p, ok := t.byName[name]
	return p, ok
}

// UIDOf returns the uid of pkg for an Android user.
func (t *Table) UIDOf(pkg string, user int) (int, bool) {
	p, ok := t.Package(pkg)
	if !ok || user < 0 {
		return 0, false
	}
	return user*PerUserRange + AppID(p.UID), true
}

// Len is the number of packages.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.byName)
}

// Names lists all packages, sorted.
func (t *Table) Names() []string {
	var out []string
	for n := range t.byName {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// maxLine bounds one line: a package with many gids and a long seinfo is
// a few hundred bytes.
const maxLine = 64 << 10

// Parse reads packages.list lines. A malformed line is skipped with a
// warning naming its line number; the rest still loads. Only a read
// error fails the whole parse.
func Parse(r io.Reader, log *slog.Logger) (*Table, error) {
	if log == nil {
		log = slog.Default()
	}
	t := Empty()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	for sc.Scan() {
		t.Lines++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		p, err := ParseLine(line)
		if err != nil {
			t.Bad++
			log.Warn("packages.list: skipping malformed line", "line", t.Lines, "err", err)
			continue
		}
		t.add(p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", t.Lines+1, err)
	}
	return t, nil
}

// ParseLine parses one line. Releases wrote between 4 and 10 fields;
// only the name and uid are required.
func ParseLine(line string) (*Package, error) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return nil, fmt.Errorf("%d fields, need at least name and uid", len(f))
	}
	p := &Package{Name: f[0], Fields: len(f)}
	if !validName(p.Name) {
		return nil, fmt.Errorf("field 1 (name): %q is not a package name", p.Name)
	}
	uid, err := strconv.Atoi(f[1])
	if err != nil || uid < 0 {
		return nil, fmt.Errorf("field 2 (uid): %q is not a uid", f[1])
	}
	p.UID = uid
	flag := func(i int, name string) (bool, error) {
		switch f[i] {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
		return false, fmt.Errorf("field %d (%s): %q is not 0 or 1", i+1, name, f[i])
	}
	if len(f) > 2 {
		if p.Debuggable, err = flag(2, "debuggable"); err != nil {
			return nil, err
		}
	}
	if len(f) > 3 && f[3] != "null" {
		p.DataDir = f[3]
	}
	if len(f) > 4 {
		p.SEInfo = f[4]
	}
	if len(f) > 5 && f[5] != "none" {
		for _, g := range strings.Split(f[5], ",") {
			n, err := strconv.Atoi(g)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("field 6 (gids): %q is not a gid", g)
			}
			p.GIDs = append(p.GIDs, n)
		}
	}
	if len(f) > 6 {
		if p.ProfileableFromShell, err = flag(6, "profileableFromShell"); err != nil {
			return nil, err
		}
	}
	if len(f) > 7 {
		if p.VersionCode, err = strconv.ParseInt(f[7], 10, 64); err != nil {
			return nil, fmt.Errorf("field 8 (versionCode): %q is not an integer", f[7])
		}
	}
	if len(f) > 8 {
		if p.Profileable, err = flag(8, "profileable"); err != nil {
			return nil, err
		}
	}
	if len(f) > 9 {
		p.Installer = f[9]
	}
	return p, nil
}

// validName accepts Java-package-like names; the package manager allows
// letters, digits, '_' and '.' (and is lenient with case).
func validName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}
