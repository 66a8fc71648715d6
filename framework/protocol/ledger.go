package protocol

import (
	"encoding/json"
	"time"
)

// ReportParams are ledger.report's params.
type ReportParams struct {
	Records []ReportRecord `json:"records" rpc:"required"`
}

// ReportRecord is one record of ledger.report.
type ReportRecord struct {
	TimeMS   int64           `json:"time_ms,omitempty"` // default now
	UID      *int            `json:"uid" rpc:"required"`
	Kind     string          `json:"kind" rpc:"required"`
	Category string          `json:"category" rpc:"required"`
	Op       string          `json:"op,omitempty"`
	Result   string          `json:"result,omitempty"`
	AppState string          `json:"app_state,omitempty"`
	Detail   json.RawMessage `json:"detail,omitempty"` // an object with the kind's keys
}

// ReportResult is ledger.report's result.
type ReportResult struct {
	Committed int `json:"committed"`
}

// LostParams are ledger.lost's params.
type LostParams struct {
	Dropped *int64 `json:"dropped" rpc:"required"`
	Reason  string `json:"reason" rpc:"required"`
}

// LostResult is ledger.lost's result.
type LostResult struct {
	Recorded int64 `json:"recorded"`
}

// Filter selects ledger rows; every field is optional.
type Filter struct {
	UID      *int    `json:"uid,omitempty"`
	User     *int    `json:"user,omitempty"`
	Package  string  `json:"package,omitempty"`
	Category string  `json:"category,omitempty"`
	Kind     string  `json:"kind,omitempty"`
	Result   *string `json:"result,omitempty"` // "" selects rows without a result
	Since    int64   `json:"since_ms,omitempty"`
	Until    int64   `json:"until_ms,omitempty"`
}

// ReadParams are the params every ledger read decodes: the filters and
// what paging and bucketing need. Each method takes the subset its own
// params type lists (QueryParams, SummaryParams, TimelineParams,
// ExportParams); the daemon decodes this superset so that a param of
// another read method gets a message saying so.
type ReadParams struct {
	Filter
	Cursor string `json:"cursor,omitempty"`
	Limit  int    `json:"limit,omitempty"`
	Bucket string `json:"bucket,omitempty"`
	Count  bool   `json:"count,omitempty"`
}

// QueryParams are ledger.query's params.
type QueryParams struct {
	Filter
	Cursor string `json:"cursor,omitempty"` // the previous page's next
	Limit  int    `json:"limit,omitempty"`  // 1..1000, default 100
	Count  bool   `json:"count,omitempty"`  // add total to a cut page
}

// SummaryParams are ledger.summary's params: filters only.
type SummaryParams struct {
	Filter
}

// TimelineParams are ledger.timeline's params.
type TimelineParams struct {
	Filter
	Bucket string `json:"bucket,omitempty"` // hour (default) | day
}

// ExportParams are ledger.export's params.
type ExportParams struct {
	Filter
	Cursor string `json:"cursor,omitempty"` // the previous page's next
	Limit  int    `json:"limit,omitempty"`  // 1..5000, default 1000
}

// Event is one ledger row as every read method returns it.
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

// Page is ledger.query's and ledger.export's result.
type Page struct {
	Events []Event `json:"events"`
	Next   string  `json:"next,omitempty"` // absent on the last page
	// Total is how many rows match in all (query with count, page cut).
	Total *int64 `json:"total,omitempty"`
}

// SummaryResult is ledger.summary's result.
type SummaryResult struct {
	Apps []SummaryRow `json:"apps"`
}

// SummaryRow is one app and category in ledger.summary.
type SummaryRow struct {
	UID             int              `json:"uid"`
	User            int              `json:"user"`
	Packages        []string         `json:"packages"`
	Category        string           `json:"category"`
	Count           int64            `json:"count"`
	Rows            int64            `json:"rows"`
	First           int64            `json:"first_ms"`
	Last            int64            `json:"last_ms"`
	Background      int64            `json:"background"`
	BackgroundShare float64          `json:"background_share"`
	ByResult        map[string]int64 `json:"by_result"`
}

// TimelineResult is ledger.timeline's result.
type TimelineResult struct {
	BucketMS int64    `json:"bucket_ms"`
	Buckets  []Bucket `json:"buckets"`
}

// Bucket is one time bucket of ledger.timeline.
type Bucket struct {
	Start    int64            `json:"start_ms"`
	Count    int64            `json:"count"`
	Rows     int64            `json:"rows"`
	ByResult map[string]int64 `json:"by_result"`
}

// VerifyResult is ledger.verify's result.
type VerifyResult struct {
	OK       bool    `json:"ok"`
	Rows     int64   `json:"rows"`
	Sealed   int64   `json:"sealed"`
	Open     int64   `json:"open"`
	Pruned   int64   `json:"pruned"`
	Chains   int     `json:"chains"`
	FirstBad *BadRow `json:"first_bad,omitempty"`
	// Problems lists every distinct problem found, FirstBad first.
	Problems []BadRow `json:"problems,omitempty"`
	// Integrity lists what SQLite's quick check found; empty when the
	// file is sound.
	Integrity []string `json:"integrity,omitempty"`
	// Error is why the chain walk itself failed on a damaged file.
	Error string `json:"error,omitempty"`
}

// BadRow names a row that does not verify and why; Kind is empty for a
// problem across kinds.
type BadRow struct {
	Seq     int64  `json:"seq"`
	Kind    string `json:"kind"`
	Problem string `json:"problem"`
}

// RulesParams are rules.get's params.
type RulesParams struct {
	Version int `json:"version,omitempty"` // default the rules in force
}

// Rules is rules.get's result: the published recording rules, exactly
// as rules.json holds them (docs/recording-rules.md describes the
// document; it is served byte for byte, so it is kept raw here).
type Rules json.RawMessage

// MarshalJSON writes the rules as they are.
func (r Rules) MarshalJSON() ([]byte, error) {
	if r == nil {
		return []byte("null"), nil
	}
	return r, nil
}

// UnmarshalJSON keeps a copy of the document.
func (r *Rules) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// Page sizes of the ledger reads: the default when limit is 0 and the
// most one page holds. The daemon and the Privacy Center's file source
// both apply them (and the rules below), so a file answers like permd.
const (
	QueryLimitDefault, QueryLimitMax   = 100, 1000
	ExportLimitDefault, ExportLimitMax = 1000, 5000
)

// PageLimit is the page size a read asks for: def when limit is 0; false
// when limit is outside 1..max.
func PageLimit(limit, def, max int) (int, bool) {
	switch {
	case limit == 0:
		return def, true
	case limit < 0 || limit > max:
		return 0, false
	}
	return limit, true
}

// NegativeTime names the field (since_ms or until_ms) of a filter that
// holds a negative time, or is "".
func (f Filter) NegativeTime() string {
	switch {
	case f.Since < 0:
		return "since_ms"
	case f.Until < 0:
		return "until_ms"
	}
	return ""
}

// BucketOf is the length of a ledger.timeline bucket ("" is an hour);
// false for a name that is not hour or day.
func BucketOf(name string) (time.Duration, bool) {
	switch name {
	case "", "hour":
		return time.Hour, true
	case "day":
		return 24 * time.Hour, true
	}
	return 0, false
}
