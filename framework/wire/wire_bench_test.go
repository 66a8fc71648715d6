package wire

import (
	"encoding/json"
	"testing"
	"time"

	"permd/grants"
	"permd/ledger"
)

// encodeTime runs encode n times and returns the mean time of one.
func encodeTime(b *testing.B, n int, encode func() any) time.Duration {
	start := time.Now()
	for range n {
		if _, err := json.Marshal(encode()); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start) / time.Duration(n)
}

// BenchmarkEncode reports what copying a reply onto the protocol types
// adds to encoding it: each reply encoded as the domain value (the
// baseline, what the handlers returned before) and as its protocol copy,
// in the same run; ratio is the second over the first. perm.check's
// decision is the hot path; the catalogue and a full ledger.query page
// are the largest replies copied.
func BenchmarkEncode(b *testing.B) {
	cat, err := grants.LoadCatalogue()
	if err != nil {
		b.Fatal(err)
	}
	d := grants.Decision{Allowed: true, Result: "reduced", Reason: "reduced_precision", Package: "com.example.maps", Category: "location",
		Level: "approx_1km", Effect: "radius", RadiusM: 1000, Remaining: 9, AppState: "foreground"}
	page := ledger.Page{Next: "1795161600000:41"}
	for i := range 1000 {
		page.Events = append(page.Events, ledger.Event{Seq: int64(i), Time: 1795161600000, Last: 1795161659990, Count: 3, UID: 10123,
			Packages: []string{"com.b"}, Kind: "access", Category: "location", Result: "allowed", AppState: "background",
			Detail: json.RawMessage(`{"reason":"granted"}`), Rules: 1})
	}
	for _, tc := range []struct {
		name         string
		n            int
		domain, wire func() any
	}{
		{"perm.check", 20000, func() any { return d }, func() any { return Decision(d) }},
		{"grants.catalogue", 500, func() any { return cat }, func() any { return Catalogue(cat) }},
		{"ledger.query-1000", 50, func() any { return page }, func() any { return Page(page) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				// Interleaved rounds, the best of each: a shared machine
				// slows one round or another, not one side.
				base, wire := time.Duration(1<<62), time.Duration(1<<62)
				for range 5 {
					base = min(base, encodeTime(b, tc.n, tc.domain))
					wire = min(wire, encodeTime(b, tc.n, tc.wire))
				}
				b.ReportMetric(float64(base.Nanoseconds()), "domain-ns")
				b.ReportMetric(float64(wire.Nanoseconds()), "wire-ns")
				b.ReportMetric(float64(wire)/float64(base), "ratio")
			}
		})
	}
}
