package ledger

import (
	"context"
	"testing"
	"time"
)

// TestCountIsWhatQueryLists: Count gives the number of rows Query would
// list for the same filter, across the staged and merged tables, and
// nothing for a filter naming what the ledger never saw.
func TestCountIsWhatQueryLists(t *testing.T) {
	f := newFixture(t, map[int][]string{10100: {"com.a"}, 10200: {"com.b"}})
	ctx := context.Background()
	var recs []Record
	for i := range 30 {
		uid, res := 10100, "allowed"
		if i%3 == 0 {
			uid = 10200
		}
		if i%2 == 0 {
			res = "denied"
		}
		recs = append(recs, acc(uid, "location", res, "foreground", t0.Add(-time.Duration(i)*2*time.Minute)))
	}
	if err := f.l.Append(ctx, recs...); err != nil {
		t.Fatal(err)
	}
	denied := "denied"
	for _, flt := range []Filter{{}, {Package: "com.a"}, {Package: "com.b", Result: &denied}, {Package: "com.none"}} {
		var listed int64
		for cursor := ""; ; {
			p, err := f.l.Query(ctx, flt, cursor, 7)
			if err != nil {
				t.Fatal(err)
			}
			listed += int64(len(p.Events))
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		n, err := f.l.Count(ctx, flt)
		if err != nil {
			t.Fatal(err)
		}
		if n != listed {
			t.Errorf("Count(%+v) = %d, but Query lists %d rows", flt, n, listed)
		}
	}
	if n, _ := f.l.Count(ctx, Filter{}); n < 30 {
		t.Errorf("Count of everything = %d, want at least the 30 rows appended", n)
	}
}
