package indicator

import (
	"encoding/json"
	"sync/atomic"
	"testing"

	"permd/ledger"
)

// orderRecorder notes, when it is handed records, the newest seq the
// inline subscriber had been given by then.
type orderRecorder struct {
	useRecorder
	heard   *atomic.Uint64
	atHand  []uint64 // heard at each hand-over
	details [][]byte // the span records' details, as handed over
}

func (r *orderRecorder) EnqueueUses(open []ledger.OpenUse, closed []uint64, recs ...ledger.Record) {
	r.atHand = append(r.atHand, r.heard.Load())
	for _, u := range open {
		for _, rec := range u.Recs {
			if rec.Kind == "span" {
				r.details = append(r.details, rec.Detail)
			}
		}
	}
	r.useRecorder.EnqueueUses(open, closed, recs...)
}

// TestInlineSubscriberHearsBeforeRecordsAreHandedOver: the daemon's
// subscribers (inline) get a change before the engine hands over its
// records, which the reply to op.start then waits to see committed; the
// records, whose details are encoded only after the delivery, still say
// what happened (the use's pid and proxy chain as they were at its
// start).
func TestInlineSubscriberHearsBeforeRecordsAreHandedOver(t *testing.T) {
	var heard atomic.Uint64
	rec := &orderRecorder{useRecorder: useRecorder{open: map[uint64]ledger.OpenUse{}}, heard: &heard}
	e := New(Default(), Options{Clock: newManualClock(), Recorder: rec, Logger: quietLogger()})
	defer e.Close()
	sub, _, err := e.SubscribeInline(func(s *Snapshot) error {
		heard.Store(s.Seq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	via := []Party{{UID: 10300, Package: "com.proxy"}}
	st, err := e.Start(StartRequest{Resource: "camera", App: Party{UID: 10100, Package: "com.a", PID: 4242}, Via: via})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Indicated || len(rec.atHand) != 1 {
		t.Fatalf("want one hand-over for an indicated start, got indicated=%v hand-overs=%d", st.Indicated, len(rec.atHand))
	}
	if rec.atHand[0] < st.Seq {
		t.Fatalf("records handed over when the subscriber had seq %d: want the change's seq %d delivered first", rec.atHand[0], st.Seq)
	}
	// A later use through another proxy must not change what the first
	// use's records say.
	mustStart(t, e, StartRequest{Resource: "camera", App: Party{UID: 10100, Package: "com.a"}, Via: []Party{{UID: 10400, Package: "com.other"}}})
	var d struct {
		PID   int     `json:"pid"`
		Proxy []Party `json:"proxy"`
	}
	if len(rec.details) == 0 {
		t.Fatal("no span record handed over")
	}
	if err := json.Unmarshal(rec.details[0], &d); err != nil {
		t.Fatalf("span detail %q: %v", rec.details[0], err)
	}
	if d.PID != 4242 || len(d.Proxy) != 1 || d.Proxy[0].UID != 10300 || d.Proxy[0].Package != "com.proxy" {
		t.Fatalf("span detail: want pid 4242 through com.proxy (10300), got %s", rec.details[0])
	}
}
