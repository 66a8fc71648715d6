package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Aggregates: what a privacy page shows per app and category, per time
// bucket, and the frequency counts grants are seeded from.

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
