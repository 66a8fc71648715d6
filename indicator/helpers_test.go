package indicator

import (
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"permd/ledger"
)

// manualClock is a Clock that moves only when the test advances it; due
// timers fire synchronously inside Advance, in deadline order.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	c       *manualClock
	at      time.Time
	f       func()
	stopped bool
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Advance moves the clock by d, firing due timers one by one at their
// own deadlines.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var next *manualTimer
		for _, t := range c.timers {
			if !t.stopped && !t.at.After(end) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			c.now = end
			c.timers = slices.DeleteFunc(c.timers, func(t *manualTimer) bool { return t.stopped })
			c.mu.Unlock()
			return
		}
		next.stopped = true
		if next.at.After(c.now) {
			c.now = next.at
		}
		c.mu.Unlock()
		next.f()
	}
}

// recorder collects ledger records.
type recorder struct {
	mu   sync.Mutex
	recs []ledger.Record
}

func (r *recorder) Enqueue(recs ...ledger.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, recs...)
}

func (r *recorder) kind(k string) []ledger.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ledger.Record
	for _, rec := range r.recs {
		if rec.Kind == k {
			out = append(out, rec)
		}
	}
	return out
}

func detail(t *testing.T, rec ledger.Record) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Detail, &m); err != nil {
		t.Fatalf("record detail %q: %v", rec.Detail, err)
	}
	return m
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTestEngine returns an engine on a manual clock with cfg (Default if
// zero) and a recorder.
func newTestEngine(t testing.TB, cfg *Config) (*Engine, *manualClock, *recorder) {
	t.Helper()
	c := newManualClock()
	rec := &recorder{}
	if cfg == nil {
		d := Default()
		cfg = &d
	}
	e := New(*cfg, Options{Clock: c, Recorder: rec, Logger: quietLogger()})
	t.Cleanup(e.Close)
	return e, c, rec
}

func app(uid int, pkg string) Party { return Party{UID: uid, Package: pkg} }

func mustStart(t testing.TB, e *Engine, r StartRequest) uint64 {
	t.Helper()
	s, err := e.Start(r)
	if err != nil {
		t.Fatalf("start %+v: %v", r, err)
	}
	return s.Use
}
