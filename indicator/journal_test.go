package indicator

import (
	"slices"
	"sync"
	"testing"

	"permd/ledger"
)

// useRecorder is a recorder that also keeps uses in progress, as the
// ledger does.
type useRecorder struct {
	recorder
	mu     sync.Mutex
	open   map[uint64]ledger.OpenUse
	closed []uint64
}

func (r *useRecorder) EnqueueUses(open []ledger.OpenUse, closed []uint64, recs ...ledger.Record) {
	r.mu.Lock()
	for _, u := range open {
		r.open[u.ID] = u
	}
	for _, id := range closed {
		delete(r.open, id)
		r.closed = append(r.closed, id)
	}
	r.mu.Unlock()
	r.Enqueue(recs...)
}

// TestUsesHandedOverInProgress: a UseRecorder gets each use when it
// starts, with the records to write should the daemon stop first (its
// span and its shown span, dated at their start), and its end together
// with its records; a shutdown ends every use.
func TestUsesHandedOverInProgress(t *testing.T) {
	c := newManualClock()
	rec := &useRecorder{open: map[uint64]ledger.OpenUse{}}
	e := New(Default(), Options{Clock: c, Recorder: rec, Logger: quietLogger()})
	cam := mustStart(t, e, StartRequest{Resource: "camera", App: app(10100, "com.a"), Op: "android:camera"})
	mic := mustStart(t, e, StartRequest{Resource: "microphone", App: app(10200, "com.b")})
	rec.mu.Lock()
	u, ok := rec.open[cam]
	rec.mu.Unlock()
	if !ok || len(u.Recs) != 2 || u.Recs[0].Kind != "span" || u.Recs[1].Kind != "indicator" || !u.Recs[0].Time.Equal(u.Start) || u.Recs[0].Op != "android:camera" {
		t.Fatalf("camera use in progress: want its span and shown span dated at its start, got %+v", u)
	}
	if _, err := e.Finish(mic); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	_, still := rec.open[mic]
	rec.mu.Unlock()
	if still || len(rec.kind("span")) != 1 {
		t.Fatalf("a finished use: want it closed with its span record, got open=%v spans=%d", still, len(rec.kind("span")))
	}
	e.Close()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.open) != 0 || !slices.Contains(rec.closed, cam) {
		t.Fatalf("after shutdown: want no use left in progress, got %v", rec.open)
	}
}
