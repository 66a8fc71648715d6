package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Validation: a report is checked whole against the rules in force
// before anything is queued.

// ValidationError says which record and field of a report is wrong. A
// report with any invalid record is rejected whole: nothing is queued.
type ValidationError struct {
	Index   int    // index of the record in the report, -1 for the report
	Field   string // e.g. "category"
	Problem string
}

func (e *ValidationError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("invalid report: %s: %s", e.Field, e.Problem)
	}
	return fmt.Sprintf("invalid record %d: %s: %s", e.Index, e.Field, e.Problem)
}

// Validate checks a whole report against the rules and returns the
// records normalised (time set, detail compacted). Nothing is queued.
func (l *Ledger) Validate(recs []Record) ([]Record, error) {
	r := l.Rules()
	if len(recs) == 0 {
		return nil, &ValidationError{Index: -1, Field: "records", Problem: "empty report"}
	}
	if len(recs) > r.MaxRecords {
		return nil, &ValidationError{Index: -1, Field: "records", Problem: fmt.Sprintf("%d records exceed the limit of %d per report", len(recs), r.MaxRecords)}
	}
	now := l.opt.Now()
	out := make([]Record, len(recs))
	for i, rec := range recs {
		bad := func(field, f string, a ...any) error {
			return &ValidationError{Index: i, Field: field, Problem: fmt.Sprintf(f, a...)}
		}
		k := r.Kind(rec.Kind)
		switch {
		case k == nil:
			return nil, bad("kind", "unknown kind %q (see rules.json)", rec.Kind)
		case rec.UID < 0:
			return nil, bad("uid", "negative uid %d", rec.UID)
		case !slices.Contains(k.Categories, rec.Category):
			if r.category(rec.Category) == nil {
				return nil, bad("category", "unknown category %q", rec.Category)
			}
			return nil, bad("category", "kind %q does not take category %q (takes %v)", rec.Kind, rec.Category, k.Categories)
		case !slices.Contains(k.Results, rec.Result):
			return nil, bad("result", "kind %q does not take result %q (takes %q)", rec.Kind, rec.Result, k.Results)
		case !r.hasState(rec.AppState):
			return nil, bad("app_state", "unknown app state %q", rec.AppState)
		case len(rec.Op) > 128 || !utf8.ValidString(rec.Op) || strings.ContainsAny(rec.Op, "\x00\n"):
			return nil, bad("op", "must be at most 128 bytes of text")
		}
		if rec.Time.IsZero() {
			rec.Time = now
		}
		if ms := rec.Time.UnixMilli(); ms < 946684800000 {
			return nil, bad("time", "%s is before 2000", rec.Time.UTC().Format(time.RFC3339))
		}
		if ahead := rec.Time.Sub(now); ahead > time.Duration(r.MaxTimeAhead) {
			return nil, bad("time", "%s is %s ahead of the device clock (%s); the rules allow at most %s (max_time_ahead)",
				rec.Time.UTC().Format(time.RFC3339Nano), ahead.Round(time.Millisecond), now.UTC().Format(time.RFC3339Nano), time.Duration(r.MaxTimeAhead))
		}
		if len(rec.Detail) > 0 && string(rec.Detail) != "null" {
			if len(rec.Detail) > 4*r.MaxDetailBytes {
				return nil, bad("detail", "%d bytes exceed the limit of %d", len(rec.Detail), r.MaxDetailBytes)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(rec.Detail, &m); err != nil {
				return nil, bad("detail", "must be a JSON object: %v", err)
			}
			for key := range m {
				if !slices.Contains(k.Detail, key) {
					return nil, bad("detail."+key, "kind %q does not record detail %q (records %v)", rec.Kind, key, k.Detail)
				}
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, rec.Detail); err != nil {
				return nil, bad("detail", "%v", err)
			}
			if buf.Len() > r.MaxDetailBytes {
				return nil, bad("detail", "%d bytes exceed the limit of %d", buf.Len(), r.MaxDetailBytes)
			}
			if len(m) == 0 {
				buf.Reset()
			}
			rec.Detail = buf.Bytes()
		} else {
			rec.Detail = nil
		}
		out[i] = rec
	}
	return out, nil
}
