package ledger

import (
	"testing"
	"time"
)

// BenchmarkValidate is the writer's cost of validating one record that
// was enqueued unchecked (an access record from perm.check, with the
// detail the daemon builds), and one of ledger.report's, with a detail
// the general path has to decode.
func BenchmarkValidate(b *testing.B) {
	f := newFixture(b, nil)
	at := t0.Add(-time.Minute)
	for _, tc := range []struct {
		name   string
		detail string
	}{
		{"access", `{"reason":"granted:approx_1km","limit":"100/day"}`},
		{"spaced", `{ "reason": "granted" }`},
	} {
		rec := acc(10100, "location", "reduced", "foreground", at)
		rec.Detail = []byte(tc.detail)
		recs := []Record{rec}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.l.Validate(recs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzCompactDetail holds the detail check without decoding to the
// general one: whenever compactDetail takes a detail, decodeDetail takes
// it too and stores the same bytes.
func FuzzCompactDetail(f *testing.F) {
	for _, s := range []string{
		`{"reason":"granted:approx_1km","limit":"100/day"}`,
		`{"reason":"granted"}`,
		`{ "reason": "granted" }`,
		`{"reason":"a b","limit":"x"}`,
		`{"reason":{"limit":1,"bogus":[1,{"x":2}]},"limit":[" ",2]}`,
		`{"bogus":1}`,
		`{"reas\u006fn":1}`,
		`{"reason":"\"}","limit":null}`,
		`{"reason":1,"reason":2}`,
		`{}`,
		`[]`,
		`{"reason":1}x`,
		`{"Reason":1}`,
	} {
		f.Add([]byte(s), 64)
	}
	keys := []string{"reason", "limit"}
	f.Fuzz(func(t *testing.T, detail []byte, limit int) {
		limit = 2 + abs(limit)%1024
		fast, ok := compactDetail(detail, keys, limit)
		if !ok {
			return
		}
		slow, err := decodeDetail("access", detail, keys, limit)
		if err != nil {
			t.Fatalf("%q (limit %d): compactDetail took it, decodeDetail refuses it: %v", detail, limit, err)
		}
		if string(fast) != string(slow) {
			t.Fatalf("%q (limit %d): compactDetail stores %q, decodeDetail %q", detail, limit, fast, slow)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// TestCompactDetailLeavesTheRestToTheGeneralPath: what compactDetail does
// not take still gets the general path's normalisation or error naming
// the field, through Validate.
func TestCompactDetailLeavesTheRestToTheGeneralPath(t *testing.T) {
	f := newFixture(t, nil)
	at := t0.Add(-time.Minute)
	for _, tc := range []struct{ detail, want, field string }{
		{`{"reason":"granted"}`, `{"reason":"granted"}`, ""},
		{`{ "reason" : "granted" }`, `{"reason":"granted"}`, ""},
		{`{"reas\u006fn":"granted"}`, `{"reas\u006fn":"granted"}`, ""},
		{`{}`, ``, ""},
		{`{"bogus":"x"}`, "", "detail.bogus"},
		{`{"reason":"x"`, "", "detail"},
		{`["reason"]`, "", "detail"},
	} {
		rec := acc(10100, "camera", "allowed", "foreground", at)
		rec.Detail = []byte(tc.detail)
		out, err := f.l.Validate([]Record{rec})
		if tc.field != "" {
			ve, ok := err.(*ValidationError)
			if !ok || ve.Field != tc.field || ve.Index != 0 {
				t.Errorf("%s: got %v, want a ValidationError for record 0 field %s", tc.detail, err, tc.field)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: got %v, want it stored as %q", tc.detail, err, tc.want)
		} else if string(out[0].Detail) != tc.want {
			t.Errorf("%s: stored %q, want %q", tc.detail, out[0].Detail, tc.want)
		}
	}
}
