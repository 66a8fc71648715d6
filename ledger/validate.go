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
			d, ok := compactDetail(rec.Detail, k.Detail, r.MaxDetailBytes)
			if !ok {
				var err *ValidationError
				if d, err = decodeDetail(rec.Kind, rec.Detail, k.Detail, r.MaxDetailBytes); err != nil {
					err.Index = i
					return nil, err
				}
			}
			rec.Detail = d
		} else {
			rec.Detail = nil
		}
		out[i] = rec
	}
	return out, nil
}

// decodeDetail is the general check of a record's detail: decoded, its
// keys checked against those the kind records, compacted. It returns the
// compacted detail, or an error (Index left for the caller).
func decodeDetail(kind string, detail []byte, keys []string, limit int) ([]byte, *ValidationError) {
	bad := func(field, f string, a ...any) *ValidationError {
		return &ValidationError{Field: field, Problem: fmt.Sprintf(f, a...)}
	}
	if len(detail) > 4*limit {
		return nil, bad("detail", "%d bytes exceed the limit of %d", len(detail), limit)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(detail, &m); err != nil {
		return nil, bad("detail", "must be a JSON object: %v", err)
	}
	for key := range m {
		if !slices.Contains(keys, key) {
			return nil, bad("detail."+key, "kind %q does not record detail %q (records %v)", kind, key, keys)
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, detail); err != nil {
		return nil, bad("detail", "%v", err)
	}
	if buf.Len() > limit {
		return nil, bad("detail", "%d bytes exceed the limit of %d", buf.Len(), limit)
	}
	if len(m) == 0 {
		buf.Reset()
	}
	return buf.Bytes(), nil
}

// compactDetail is decodeDetail's result, without decoding, for the
// usual detail: a valid, already compact JSON object within the size
// limit, with at least one key, every key plain ASCII (it then means
// what its bytes say) and one the kind records. The daemon's own
// records (perm.check's access records) and most reports are of that
// shape; decoding them into a map was two thirds of the writer's cost
// per record. It returns false for anything else, which then takes
// decodeDetail's path and its errors. FuzzCompactDetail holds the two
// equal.
func compactDetail(detail []byte, keys []string, limit int) ([]byte, bool) {
	if len(detail) > limit || len(detail) < 2 || detail[0] != '{' || detail[1] == '}' || !json.Valid(detail) {
		return nil, false
	}
	// Valid JSON that starts with '{' is one object. Walk its top level:
	// strings are skipped whole, whitespace anywhere outside them means
	// it is not compact, and each key is checked at depth 1.
	depth, wantKey := 0, false
	for i := 0; i < len(detail); i++ {
		switch c := detail[i]; c {
		case ' ', '\t', '\n', '\r':
			return nil, false
		case '{', '[':
			depth++
			wantKey = depth == 1 && c == '{'
		case '}', ']':
			depth--
		case ',':
			wantKey = depth == 1
		case '"':
			end := i + 1
			for detail[end] != '"' {
				if detail[end] == '\\' {
					end++
				}
				end++
			}
			if wantKey {
				key := detail[i+1 : end]
				if !plainKey(key) || !slices.Contains(keys, string(key)) {
					return nil, false
				}
				wantKey = false
			}
			i = end
		}
	}
	return bytes.Clone(detail), true
}

// plainKey reports whether s, the inside of a JSON string, has no escapes
// and only printable ASCII.
func plainKey(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}
