package ledger

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestFutureRecordRefusedNamingTheField: a record dated further ahead of
// the daemon's clock than the rules' max_time_ahead is refused with an
// error naming the field and the bound; the report stores nothing.
func TestFutureRecordRefusedNamingTheField(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	err := f.l.Append(ctx, acc(10100, "camera", "allowed", "", t0), acc(10100, "camera", "denied", "", t0.Add(59*time.Minute)))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Index != 1 || ve.Field != "time" || !strings.Contains(ve.Problem, "max_time_ahead") {
		t.Fatalf("record 59 min ahead: want a validation error on records[1].time naming max_time_ahead, got %v", err)
	}
	if p, _ := f.l.Query(ctx, Filter{}, "", 10); len(p.Events) != 0 {
		t.Fatalf("refused report: want nothing stored, got %+v", p.Events)
	}
	// Within the bound is accepted.
	if err := f.l.Append(ctx, acc(10100, "camera", "allowed", "", t0.Add(f.l.Rules().Window()/2))); err != nil {
		t.Fatalf("record within max_time_ahead: %v", err)
	}
}

// TestFutureRecordCannotHoldItsKindOpen: the scenario of a record dated
// ahead: later rows of its kind must be sealed no later than the window
// plus max_time_ahead after they arrive, whatever was reported.
func TestFutureRecordCannotHoldItsKindOpen(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	r := f.l.Rules()
	ahead := time.Duration(r.MaxTimeAhead)
	// The furthest-ahead record the rules accept, then 2,000 ordinary ones.
	if err := f.l.Append(ctx, Record{Time: t0.Add(ahead), UID: 10100, Kind: "self_start", Category: "process", AppState: "background"}); err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for i := range 2000 {
		recs = append(recs, Record{Time: t0, UID: 10200 + i, Kind: "self_start", Category: "process", AppState: "background"})
	}
	for i := 0; i < len(recs); i += 1000 {
		if err := f.l.Append(ctx, recs[i:i+1000]...); err != nil {
			t.Fatal(err)
		}
	}
	f.clk.Add(ahead + r.Window())
	if err := f.l.Append(ctx, acc(10100, "camera", "allowed", "", f.clk.Now())); err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, f.l.Reader)
	if rep.Sealed < 2001 {
		t.Fatalf("after window + max_time_ahead: want all 2,001 start rows sealed, got %+v", rep)
	}
}
