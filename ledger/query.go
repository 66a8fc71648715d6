package ledger

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxWindow bounds any rules' coalescing window (validated), so that a
// time filter on the first time of a row can use the index: a row with
// events after `since` started no earlier than since - maxWindow.
const maxWindow = int64(time.Hour / time.Millisecond)

// Reader answers queries on a ledger database. It works on a live
// daemon's database and on a read-only copy pulled from a device.
type Reader struct {
	db    *sql.DB
	mu    sync.Mutex
	codes map[int64]string
	ids   map[string]int64
	apps  map[int64]app
}

type app struct {
	uid      int
	packages []string
}

// NewReader returns a reader on db (which may be read-only).
func NewReader(db *sql.DB) *Reader { return &Reader{db: db} }

// DB is the database the reader reads.
func (r *Reader) DB() *sql.DB { return r.db }

func (r *Reader) invalidate() {
	r.mu.Lock()
	r.codes = nil
	r.mu.Unlock()
}

// dict loads the code and app tables (small: a few hundred rows) once
// and again after the writer added entries.
func (r *Reader) dict(ctx context.Context) (map[int64]string, map[string]int64, map[int64]app, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.codes != nil {
		return r.codes, r.ids, r.apps, nil
	}
	codes, dapps, err := readDict(ctx, r.db)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read ledger: %w", err)
	}
	ids := make(map[string]int64, len(codes))
	for id, c := range codes {
		ids[c] = id
	}
	apps := make(map[int64]app, len(dapps))
	for id, d := range dapps {
		a := app{uid: int(d.uid)}
		if d.pk != "" {
			a.packages = strings.Split(d.pk, ",")
		}
		apps[id] = a
	}
	r.codes, r.ids, r.apps = codes, ids, apps
	return codes, ids, apps, nil
}

// Filter selects rows. Zero fields do not filter.
type Filter struct {
	UID      *int    `json:"uid,omitempty"`
	User     *int    `json:"user,omitempty"`
	Package  string  `json:"package,omitempty"`
	Category string  `json:"category,omitempty"`
	Kind     string  `json:"kind,omitempty"`
	Result   *string `json:"result,omitempty"`
	Since    int64   `json:"since_ms,omitempty"` // rows with an event at or after
	Until    int64   `json:"until_ms,omitempty"` // rows whose first event is before
}

// Event is one row as readers see it. Field names are stable: they are
// the NDJSON export format.
type Event struct {
	Seq      int64           `json:"seq"`
	Time     int64           `json:"time_ms"`
	Last     int64           `json:"last_ms"`
	Count    int64           `json:"count"`
	UID      int             `json:"uid"`
	User     int             `json:"user"`
	Packages []string        `json:"packages"`
	Kind     string          `json:"kind"`
	Category string          `json:"category"`
	Op       string          `json:"op,omitempty"`
	Result   string          `json:"result,omitempty"`
	AppState string          `json:"app_state,omitempty"`
	Detail   json.RawMessage `json:"detail,omitempty"`
	Rules    int             `json:"rules_version"`
	Hash     string          `json:"hash,omitempty"` // hex, in exports; empty while the row is open
	Open     bool            `json:"open,omitempty"`
}

// Page is one page of events and the cursor for the next ("" at the end).
type Page struct {
	Events []Event `json:"events"`
	Next   string  `json:"next,omitempty"`
	// Total is how many rows match the filter in all, given by
	// ledger.query when asked ("count": true) and the page was cut.
	Total *int64 `json:"total,omitempty"`
}

// where builds the WHERE clause for f. ok is false when the filter names
// something the ledger never saw, so nothing can match.
func (r *Reader) where(ctx context.Context, f Filter) (clause string, args []any, ok bool, err error) {
	return r.whereBy(ctx, f, false)
}

// whereBy builds the clause; with byFirst, Since applies to the time of
// a row's first event (as timeline buckets do), which lets the category
// index answer alone.
func (r *Reader) whereBy(ctx context.Context, f Filter, byFirst bool) (clause string, args []any, ok bool, err error) {
	_, ids, apps, err := r.dict(ctx)
	if err != nil {
		return "", nil, false, err
	}
	var conds []string
	if f.UID != nil || f.User != nil || f.Package != "" {
		var match []int64
		for id, a := range apps {
			if f.UID != nil && a.uid != *f.UID {
				continue
			}
			if f.User != nil && a.uid/100000 != *f.User {
				continue
			}
			if f.Package != "" && !contains(a.packages, f.Package) {
				continue
			}
			match = append(match, id)
		}
		if len(match) == 0 {
			return "", nil, false, nil
		}
		sort.Slice(match, func(i, j int) bool { return match[i] < match[j] })
		if len(match) == 1 {
			conds, args = append(conds, "app = ?"), append(args, match[0])
		} else {
			ph := strings.Repeat(",?", len(match))[1:]
			conds = append(conds, "app IN ("+ph+")")
			for _, m := range match {
				args = append(args, m)
			}
		}
	}
	code := func(col, c string) bool {
		id, found := ids[c]
		if !found {
			return false
		}
		if id == 0 {
			conds = append(conds, col+" IS NULL")
		} else {
			conds, args = append(conds, col+" = ?"), append(args, id)
		}
		return true
	}
	if f.Category != "" && !code("cat", f.Category) {
		return "", nil, false, nil
	}
	if f.Kind != "" && !code("kind", f.Kind) {
		return "", nil, false, nil
	}
	if f.Result != nil && !code("res", *f.Result) {
		return "", nil, false, nil
	}
	if f.Since > 0 && byFirst {
		conds, args = append(conds, "t >= ?"), append(args, f.Since)
	} else if f.Since > 0 {
		conds = append(conds, "t >= ?", "t + dur >= ?")
		args = append(args, f.Since-maxWindow, f.Since)
	}
	if f.Until > 0 {
		conds, args = append(conds, "t < ?"), append(args, f.Until)
	}
	if len(conds) == 0 {
		return "1", nil, true, nil
	}
	return strings.Join(conds, " AND "), args, true, nil
}

// i64 reads an INTEGER column scanned into any (NULL is 0).
func i64(v any) int64 {
	n, _ := v.(int64)
	return n
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// eventCols are the columns of an export; queryCols those of a query,
// which tells only whether a row is open (its hash is for exports and
// verification, and skipping it keeps the newest-first page cheap).
const (
	eventCols = `seq, t, dur, n, app, kind, cat, op, res, st, rules, detail, hash`
	queryCols = `seq, t, dur, n, app, kind, cat, op, res, st, rules, detail, hash IS NULL`
)

func (r *Reader) scanEvents(ctx context.Context, rows *sql.Rows, hint int) ([]Event, error) {
	defer rows.Close()
	codes, _, apps, err := r.dict(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, min(hint, 1024))
	// Scanning into any and converting by hand costs a third of what
	// typed Null* destinations cost (no reflection per column).
	var v [13]any
	var p [13]any
	for i := range v {
		p[i] = &v[i]
	}
	for rows.Next() {
		if err := rows.Scan(p[:]...); err != nil {
			return nil, fmt.Errorf("read ledger: %w", err)
		}
		e := Event{Seq: i64(v[0]), Time: i64(v[1]), Count: i64(v[3]), Rules: int(i64(v[10]))}
		appID, kind, cat := i64(v[4]), i64(v[5]), i64(v[6])
		a, ok := apps[appID]
		if !ok || codes[kind] == "" || codes[cat] == "" {
			// Written after our dictionary was loaded: reload once.
			r.invalidate()
			if codes, _, apps, err = r.dict(ctx); err != nil {
				return nil, err
			}
			a = apps[appID]
		}
		e.Last = e.Time + i64(v[2])
		e.UID, e.User, e.Packages = a.uid, a.uid/100000, a.packages
		if e.Packages == nil {
			e.Packages = []string{}
		}
		e.Kind, e.Category = codes[kind], codes[cat]
		e.Op, e.Result, e.AppState = codes[i64(v[7])], codes[i64(v[8])], codes[i64(v[9])]
		switch d := v[11].(type) {
		case string:
			e.Detail = json.RawMessage(d)
		case []byte:
			e.Detail = json.RawMessage(d)
		}
		switch h := v[12].(type) {
		case []byte:
			e.Hash = hex.EncodeToString(h)
		case int64:
			e.Open = h == 1
		default:
			e.Open = true
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// QuerySQL returns the statement Query runs for f, a page after cursor,
// and its arguments; ok is false when nothing can match. Benchmarks run
// it directly to measure what the service adds.
func (r *Reader) QuerySQL(ctx context.Context, f Filter, cursor string, limit int) (string, []any, bool, error) {
	w, args, ok, err := r.where(ctx, f)
	if err != nil || !ok {
		return "", nil, ok, err
	}
	if cursor != "" {
		t, seq, err := parseCursor(cursor)
		if err != nil {
			return "", nil, false, err
		}
		w += " AND (t < ? OR (t = ? AND seq < ?))"
		args = append(args, t, t, seq)
	}
	src, args := fromRows(eventCols, w, args)
	return `SELECT ` + queryCols + ` FROM ` + src + ` ORDER BY t DESC, seq DESC LIMIT ?`, append(args, limit+1), true, nil
}

// CursorError means a cursor was not one this ledger handed out.
type CursorError struct{ Cursor string }

func (e *CursorError) Error() string { return fmt.Sprintf("bad cursor %q", e.Cursor) }

func parseCursor(c string) (int64, int64, error) {
	a, b, ok := strings.Cut(c, ":")
	t, err1 := strconv.ParseInt(a, 10, 64)
	s, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, &CursorError{c}
	}
	return t, s, nil
}

// Query returns up to limit rows matching f, newest first (by the time of
// the first event, then seq), and the cursor for the next page.
func (r *Reader) Query(ctx context.Context, f Filter, cursor string, limit int) (Page, error) {
	q, args, ok, err := r.QuerySQL(ctx, f, cursor, limit)
	if err != nil || !ok {
		return Page{Events: []Event{}}, err
	}
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return Page{}, fmt.Errorf("query ledger: %w", err)
	}
	ev, err := r.scanEvents(ctx, rows, limit+1)
	if err != nil {
		return Page{}, err
	}
	p := Page{Events: ev}
	if len(ev) > limit {
		p.Events = ev[:limit]
		last := p.Events[limit-1]
		p.Next = fmt.Sprintf("%d:%d", last.Time, last.Seq)
	}
	return p, nil
}

// Export returns up to limit rows matching f in write order (oldest
// first); the cursor is the last seq returned.
func (r *Reader) Export(ctx context.Context, f Filter, cursor string, limit int) (Page, error) {
	w, args, ok, err := r.where(ctx, f)
	if err != nil || !ok {
		return Page{Events: []Event{}}, err
	}
	if cursor != "" {
		seq, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil {
			return Page{}, &CursorError{cursor}
		}
		w += " AND seq > ?"
		args = append(args, seq)
	}
	src, args := fromRows(eventCols, w, args)
	rows, err := r.db.QueryContext(ctx, `SELECT `+eventCols+` FROM `+src+` ORDER BY seq LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return Page{}, fmt.Errorf("export ledger: %w", err)
	}
	ev, err := r.scanEvents(ctx, rows, limit+1)
	if err != nil {
		return Page{}, err
	}
	p := Page{Events: ev}
	if len(ev) > limit {
		p.Events = ev[:limit]
		p.Next = strconv.FormatInt(p.Events[limit-1].Seq, 10)
	}
	return p, nil
}

// RulesVersion returns the rules text a version of rows was recorded
// under, or nil if no row was recorded under it.
func (r *Reader) RulesVersion(ctx context.Context, v int) ([]byte, error) {
	var body string
	err := r.db.QueryRowContext(ctx, `SELECT body FROM ledger_rules WHERE version = ?`, v).Scan(&body)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rules version: %w", err)
	}
	return []byte(body), nil
}
