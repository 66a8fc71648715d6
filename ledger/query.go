package ledger

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	codes, ids, apps := map[int64]string{0: ""}, map[string]int64{"": 0}, map[int64]app{}
	rows, err := r.db.QueryContext(ctx, `SELECT id, code FROM ledger_code`)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read ledger: %w", err)
	}
	for rows.Next() {
		var id int64
		var c string
		rows.Scan(&id, &c)
		codes[id], ids[c] = c, id
	}
	rows.Close()
	rows, err = r.db.QueryContext(ctx, `SELECT id, uid, packages FROM ledger_app`)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read ledger: %w", err)
	}
	for rows.Next() {
		var id int64
		var a app
		var p string
		rows.Scan(&id, &a.uid, &p)
		if p != "" {
			a.packages = strings.Split(p, ",")
		}
		apps[id] = a
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("read ledger: %w", err)
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

// SummaryRow is one app's use of one category: what a privacy center
// page shows.
type SummaryRow struct {
	UID             int              `json:"uid"`
	User            int              `json:"user"`
	Packages        []string         `json:"packages"`
	Category        string           `json:"category"`
	Count           int64            `json:"count"`
	Rows            int64            `json:"rows"`
	First           int64            `json:"first_ms"`
	Last            int64            `json:"last_ms"`
	Background      int64            `json:"background"` // events while in the background or not running
	BackgroundShare float64          `json:"background_share"`
	ByResult        map[string]int64 `json:"by_result"`
}

// SummarySQL is the statement Summary runs.
func (r *Reader) SummarySQL(ctx context.Context, f Filter) (string, []any, bool, error) {
	w, args, ok, err := r.where(ctx, f)
	if err != nil || !ok {
		return "", nil, ok, err
	}
	src, args := fromRows(`app, cat, res, st, n, t, dur`, w, args)
	return `SELECT app, cat, res, st, SUM(n), COUNT(*), MIN(t), MAX(t + dur) FROM ` + src +
		` GROUP BY app, cat, res, st`, args, true, nil
}

// Summary aggregates the rows matching f per app and category.
func (r *Reader) Summary(ctx context.Context, f Filter) ([]SummaryRow, error) {
	q, args, ok, err := r.SummarySQL(ctx, f)
	if err != nil || !ok {
		return []SummaryRow{}, err
	}
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("summarise ledger: %w", err)
	}
	defer rows.Close()
	codes, _, apps, err := r.dict(ctx)
	if err != nil {
		return nil, err
	}
	type key struct {
		uid int
		pk  string
		cat int64
	}
	acc := map[key]*SummaryRow{}
	for rows.Next() {
		var appID, cat, n, cnt, first, last int64
		var res, st sql.NullInt64
		if err := rows.Scan(&appID, &cat, &res, &st, &n, &cnt, &first, &last); err != nil {
			return nil, fmt.Errorf("summarise ledger: %w", err)
		}
		a := apps[appID]
		k := key{a.uid, strings.Join(a.packages, ","), cat}
		s := acc[k]
		if s == nil {
			s = &SummaryRow{UID: a.uid, User: a.uid / 100000, Packages: a.packages, Category: codes[cat], First: first, Last: last, ByResult: map[string]int64{}}
			if s.Packages == nil {
				s.Packages = []string{}
			}
			acc[k] = s
		}
		s.Count += n
		s.Rows += cnt
		s.First, s.Last = min(s.First, first), max(s.Last, last)
		rc := codes[res.Int64]
		if rc == "" {
			rc = "none"
		}
		s.ByResult[rc] += n
		if stc := codes[st.Int64]; stc == "background" || stc == "not_running" {
			s.Background += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("summarise ledger: %w", err)
	}
	out := make([]SummaryRow, 0, len(acc))
	for _, s := range acc {
		if s.Count > 0 {
			s.BackgroundShare = float64(s.Background) / float64(s.Count)
		}
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].UID != out[j].UID {
			return out[i].UID < out[j].UID
		}
		return out[i].Category < out[j].Category
	})
	return out, nil
}

// Bucket is one interval of a timeline.
type Bucket struct {
	Start    int64            `json:"start_ms"`
	Count    int64            `json:"count"`
	Rows     int64            `json:"rows"`
	ByResult map[string]int64 `json:"by_result"`
}

// TimelineSQL is the statement Timeline runs.
func (r *Reader) TimelineSQL(ctx context.Context, f Filter, bucket time.Duration) (string, []any, bool, error) {
	w, args, ok, err := r.whereBy(ctx, f, true)
	if err != nil || !ok {
		return "", nil, ok, err
	}
	b := bucket.Milliseconds()
	src, args := fromRows(`t, res, n`, w, args)
	return fmt.Sprintf(`SELECT (t / %d) * %d AS b, res, SUM(n), COUNT(*) FROM %s GROUP BY b, res ORDER BY b`, b, b, src), args, true, nil
}

// Timeline counts events matching f in buckets of the given size (by the
// time of each row's first event; Since and Until select by that time
// too), oldest first; empty buckets are omitted.
func (r *Reader) Timeline(ctx context.Context, f Filter, bucket time.Duration) ([]Bucket, error) {
	q, args, ok, err := r.TimelineSQL(ctx, f, bucket)
	if err != nil || !ok {
		return []Bucket{}, err
	}
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	defer rows.Close()
	codes, _, _, err := r.dict(ctx)
	if err != nil {
		return nil, err
	}
	out := []Bucket{}
	for rows.Next() {
		var start, n, cnt int64
		var res sql.NullInt64
		if err := rows.Scan(&start, &res, &n, &cnt); err != nil {
			return nil, fmt.Errorf("timeline: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Start != start {
			out = append(out, Bucket{Start: start, ByResult: map[string]int64{}})
		}
		b := &out[len(out)-1]
		b.Count += n
		b.Rows += cnt
		rc := codes[res.Int64]
		if rc == "" {
			rc = "none"
		}
		b.ByResult[rc] += n
	}
	return out, rows.Err()
}

// CountSince sums the events of kinds access and span for uid in
// category with one of results, in rows with an event at or after since.
// A coalesced row that straddles since counts whole, so the count errs
// on the high side by at most one window's events (safe for a frequency
// cap). Records queued but not yet committed are not counted.
func (r *Reader) CountSince(ctx context.Context, uid int, category string, results []string, since time.Time) (int64, error) {
	if len(results) == 0 {
		return 0, nil
	}
	ms := since.UnixMilli()
	var n int64
	src, args := fromRows(`n`, `app IN (SELECT id FROM ledger_app WHERE uid = ?)
		AND cat = (SELECT id FROM ledger_code WHERE code = ?)
		AND kind IN (SELECT id FROM ledger_code WHERE code IN ('access', 'span'))
		AND COALESCE(res, 0) IN (SELECT COALESCE((SELECT id FROM ledger_code WHERE code = v.value), CASE WHEN v.value = '' THEN 0 END) FROM json_each(?) v)
		AND t >= ? AND t + dur >= ?`, []any{uid, category, jsonList(results), ms - maxWindow, ms})
	err := r.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM `+src, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count ledger: %w", err)
	}
	return n, nil
}

func jsonList(s []string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// VerifyReport is the outcome of walking the chains.
type VerifyReport struct {
	OK       bool    `json:"ok"`
	Rows     int64   `json:"rows"`
	Sealed   int64   `json:"sealed"`
	Open     int64   `json:"open"`
	Pruned   int64   `json:"pruned"`
	Chains   int     `json:"chains"`
	FirstBad *BadRow `json:"first_bad,omitempty"`
	// Problems lists every distinct problem found (FirstBad first), at
	// most maxProblems: one deletion often shows in several ways.
	Problems []BadRow `json:"problems,omitempty"`
}

// maxProblems bounds VerifyReport.Problems.
const maxProblems = 20

// BadRow names the first row that does not verify and why.
type BadRow struct {
	Seq     int64  `json:"seq"`
	Kind    string `json:"kind"`
	Problem string `json:"problem"`
}

// Verify walks every chain in one read snapshot: each sealed row's hash
// must equal SHA-256(previous hash of its kind || its content), starting
// from the kind's anchor (the last row removed by retention) or zeros;
// no sealed row may follow an open one; each chain must end at its
// recorded head (so removing the newest rows is detected too). Across
// kinds (ledger_tip, see schema.go): seq must run without gaps up to the
// tip's last_seq, except below the retention anchors, where exactly as
// many rows may be missing as retention counted; and the chain records
// must match the digest committed with the newest rows (so removing a
// whole kind with its chain record, or emptying the chain table, is
// detected).
func (r *Reader) Verify(ctx context.Context) (VerifyReport, error) {
	rep := VerifyReport{}
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify ledger: %w", err)
	}
	defer conn.Close()
	// A deferred transaction is a consistent snapshot in WAL mode without
	// taking the write lock, so the writer keeps committing meanwhile.
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		return rep, fmt.Errorf("verify ledger: %w", err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	codes := map[int64]string{0: ""}
	rows, err := conn.QueryContext(ctx, `SELECT id, code FROM ledger_code`)
	if err != nil {
		return rep, fmt.Errorf("verify ledger: %w", err)
	}
	for rows.Next() {
		var id int64
		var c string
		rows.Scan(&id, &c)
		codes[id] = c
	}
	rows.Close()
	apps := map[int64]app{}
	pk := map[int64]string{}
	rows, err = conn.QueryContext(ctx, `SELECT id, uid, packages FROM ledger_app`)
	if err != nil {
		return rep, fmt.Errorf("verify ledger: %w", err)
	}
	for rows.Next() {
		var id int64
		var a app
		var p string
		rows.Scan(&id, &a.uid, &p)
		apps[id], pk[id] = a, p
	}
	rows.Close()
	type chainState struct {
		prev            []byte
		anchor, headSeq int64
		headHash        []byte
		last            int64
		lastHash        []byte
		sawOpen         bool
	}
	chains := map[int64]*chainState{}
	rows, err = conn.QueryContext(ctx, `SELECT kind, anchor_seq, anchor_hash, pruned, head_seq, head_hash FROM ledger_chain`)
	if err != nil {
		return rep, fmt.Errorf("verify ledger: %w", err)
	}
	for rows.Next() {
		var kind, pruned int64
		c := &chainState{}
		rows.Scan(&kind, &c.anchor, &c.prev, &pruned, &c.headSeq, &c.headHash)
		if c.prev == nil {
			c.prev = zeroHash
		}
		c.last, c.lastHash = c.anchor, c.prev
		chains[kind] = c
		rep.Pruned += pruned
	}
	rows.Close()
	rep.Chains = len(chains)
	bad := func(seq, kind int64, f string, a ...any) {
		b := BadRow{Seq: seq, Kind: codes[kind], Problem: fmt.Sprintf(f, a...)}
		if len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, b)
		}
	}
	// must is bad for the few checks made once at the end, which are
	// listed even when row problems filled the list.
	must := func(seq int64, f string, a ...any) {
		rep.Problems = append(rep.Problems, BadRow{Seq: seq, Problem: fmt.Sprintf(f, a...)})
	}
	// The tip (schema version 3 on): last_seq and the heads digest.
	var schema int
	conn.QueryRowContext(ctx, `SELECT version FROM schema_version WHERE component = ?`, Component).Scan(&schema)
	var tipSeq int64
	var tipHeads []byte
	hasTip := false
	if schema >= 3 {
		err := conn.QueryRowContext(ctx, `SELECT last_seq, heads FROM ledger_tip WHERE id = 1`).Scan(&tipSeq, &tipHeads)
		switch {
		case err == nil:
			hasTip = true
		case errors.Is(err, sql.ErrNoRows) || strings.Contains(err.Error(), "no such table"):
			bad(0, 0, "the ledger's tip record (ledger_tip) is missing: the newest rows and the chain records cannot be checked")
		default:
			return rep, fmt.Errorf("verify ledger: %w", err)
		}
	}
	var maxAnchor, prunedTotal int64
	for _, c := range chains {
		maxAnchor = max(maxAnchor, c.anchor)
	}
	prunedTotal = rep.Pruned
	var prevSeq, missingBelow int64
	// Gaps after the first few are counted, not listed one by one.
	var gaps, gapRows, moreAt int64
	// gap notes the seqs after prevSeq and before seq as missing: within
	// the retention anchors only counted (retention removes rows of one
	// kind as a prefix, interleaved with kept rows of other kinds), above
	// them a deletion.
	gap := func(seq int64) {
		lo, hi := prevSeq+1, seq-1
		if lo > hi {
			return
		}
		below := min(hi, maxAnchor) - lo + 1
		if below > 0 {
			missingBelow += below
			lo += below
		}
		if lo > hi {
			return
		}
		if gaps++; gaps > 3 {
			gapRows += hi - lo + 1
			if moreAt == 0 {
				moreAt = lo
			}
			return
		}
		if lo == hi {
			bad(lo, 0, "row %d is missing: the sequence jumps from row %d to row %d, and retention removed no row after row %d", lo, prevSeq, seq, maxAnchor)
		} else {
			bad(lo, 0, "rows %d to %d are missing: the sequence jumps from row %d to row %d, and retention removed no row after row %d", lo, hi, prevSeq, seq, maxAnchor)
		}
	}
	rows, err = conn.QueryContext(ctx, `SELECT `+eventCols+` FROM ledger_all ORDER BY seq`)
	if err != nil {
		return rep, fmt.Errorf("verify ledger: %w", err)
	}
	var h hasher
	for rows.Next() {
		var c content
		var dur, appID, kind, cat int64
		var op, res, st sql.NullInt64
		var detail sql.NullString
		var hv []byte
		if err := rows.Scan(&c.Seq, &c.First, &dur, &c.Count, &appID, &kind, &cat, &op, &res, &st, &c.Rules, &detail, &hv); err != nil {
			rows.Close()
			return rep, fmt.Errorf("verify ledger: %w", err)
		}
		rep.Rows++
		if hasTip {
			gap(c.Seq)
		}
		prevSeq = c.Seq
		ch := chains[kind]
		if ch == nil {
			bad(c.Seq, kind, "row %d is of kind %q, which has no chain record (the chain record was removed)", c.Seq, codes[kind])
			ch = &chainState{prev: zeroHash}
			chains[kind] = ch
		}
		if hv == nil {
			rep.Open++
			ch.sawOpen = true
			if c.Seq <= ch.headSeq {
				bad(c.Seq, kind, "row before the chain head has no hash")
			}
			continue
		}
		rep.Sealed++
		if ch.sawOpen {
			bad(c.Seq, kind, "sealed row after an open row of the same kind")
		}
		if c.Seq <= ch.anchor {
			bad(c.Seq, kind, "row at or before the retention anchor %d", ch.anchor)
		}
		a, ok := apps[appID]
		if !ok {
			bad(c.Seq, kind, "unknown app id %d", appID)
		}
		c.Last = c.First + dur
		c.UID, c.Packages = int64(a.uid), pk[appID]
		c.Kind, c.Category = codes[kind], codes[cat]
		c.Op, c.Result, c.AppState, c.Detail = codes[op.Int64], codes[res.Int64], codes[st.Int64], detail.String
		want := rowHash(&h, ch.prev, &c)
		if string(want) != string(hv) {
			bad(c.Seq, kind, "hash does not match content and previous row (row changed, or a row before it removed)")
		}
		ch.prev = hv
		ch.last, ch.lastHash = c.Seq, hv
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return rep, fmt.Errorf("verify ledger: %w", err)
	}
	if hasTip {
		if gaps > 3 {
			must(moreAt, "%d more gaps in the sequence from row %d on: %d more rows missing that retention did not remove", gaps-3, moreAt, gapRows)
		}
		if lo, hi := max(prevSeq+1, maxAnchor+1), tipSeq; lo == hi {
			must(lo, "the newest row %d is missing: the newest row left is %d, but the tip records row %d as written", lo, prevSeq, tipSeq)
		} else if lo < hi {
			must(lo, "the newest rows %d to %d are missing: the newest row left is %d, but the tip records row %d as written", lo, hi, prevSeq, tipSeq)
		}
		if prevSeq < tipSeq {
			missingBelow += max(0, min(tipSeq, maxAnchor)-prevSeq)
		} else if prevSeq > tipSeq {
			must(prevSeq, "row %d is newer than the newest row the tip records (%d): the tip record was altered", prevSeq, tipSeq)
		}
		if missingBelow != prunedTotal {
			must(0, "%d rows are missing from the sequence below the retention anchors, but the chain records count %d removed by retention: rows were deleted outside retention, or the counts altered", missingBelow, prunedTotal)
		}
		if tipHeads != nil {
			d, n, err := headsDigest(ctx, conn, tipSeq)
			if err != nil {
				return rep, fmt.Errorf("verify ledger: %w", err)
			}
			if string(d) != string(tipHeads) {
				must(tipSeq, "the %d chain records (ledger_chain) do not match the digest committed with row %d: a chain record was removed, added or altered", n, tipSeq)
			}
		}
	}
	kinds := make([]int64, 0, len(chains))
	for kind := range chains {
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds)
	for _, kind := range kinds {
		ch := chains[kind]
		head := ch.headHash
		if head == nil {
			head = zeroHash
		}
		switch {
		case ch.last != ch.headSeq:
			bad(ch.headSeq, kind, "the chain of kind %q ends at row %d, but its recorded head is row %d (rows of this kind removed, or the head altered)", codes[kind], ch.last, ch.headSeq)
		case string(ch.lastHash) != string(head):
			bad(ch.headSeq, kind, "row %d ends the chain of kind %q as recorded, but its hash differs from the recorded head hash (the row or the head altered)", ch.last, codes[kind])
		}
	}
	if len(rep.Problems) > 0 {
		fb := rep.Problems[0]
		rep.FirstBad = &fb
	}
	rep.OK = rep.FirstBad == nil
	return rep, nil
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
