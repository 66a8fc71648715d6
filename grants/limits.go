package grants

import (
	"context"
	"sync"
	"time"
)

type ckey struct {
	uid int
	cat int
}

// counter is one (uid, category) frequency count. Its mutex makes
// check-and-increment atomic, so concurrent checks never exceed Max.
type counter struct {
	mu     sync.Mutex
	seeded bool
	per    string
	start  time.Time // current window start; session start for "session"
	zone   string    // the zone the day window was computed in
	gen    uint64    // session generation for "session"
	n      int64
}

// take counts one access against the limit; false means over it.
func (e *Engine) take(uid int, cat *Category, f *Frequency, st appState, now time.Time, pol *Policy, count bool) (int64, bool) {
	k := ckey{uid, cat.Code}
	e.limMu.Lock()
	c := e.counters[k]
	if c == nil {
		c = &counter{}
		e.counters[k] = c
	}
	e.limMu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	zone := e.zoneOf(pol)
	start := WindowStart(now, f.Per, zone)
	if f.Per == "session" {
		start = st.fgSince
	}
	if c.per != f.Per || !c.seeded {
		c.per, c.seeded, c.start, c.gen, c.zone = f.Per, true, start, st.gen, zone.String()
		c.n = e.seed(uid, cat.ID, f.Per, start, now, pol)
	}
	switch {
	case f.Per == "session":
		if c.gen != st.gen {
			c.gen, c.n = st.gen, 0
		}
	case f.Per == "day" && c.zone != zone.String():
		// The device changed zone: the day now starts at another
		// instant. Recount from the ledger since the new day's start
		// rather than start from zero (which would let the cap be
		// exceeded); without a ledger keep the count, erring towards
		// the limit.
		c.zone = zone.String()
		if !c.start.Equal(start) {
			c.start = start
			if e.counter != nil {
				c.n = e.seed(uid, cat.ID, f.Per, start, now, pol)
			}
		}
	case !c.start.Equal(start):
		c.start, c.n = start, 0
	}
	if !count {
		return max(0, int64(f.Max)-c.n), true
	}
	left, ok := frequencyAllows(f.Max, c.n)
	if ok {
		c.n++
	}
	return left, ok
}

// seed counts the current window's accesses from the ledger.
func (e *Engine) seed(uid int, cat, per string, start, now time.Time, pol *Policy) int64 {
	if e.counter == nil {
		return 0
	}
	since := start
	if per == "session" && (since.IsZero() || now.Sub(since) > pol.SessionLookback) {
		since = now.Add(-pol.SessionLookback)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := e.counter.CountSince(ctx, uid, cat, CountedResults, since)
	if err != nil {
		e.log.Error("grants: cannot seed frequency count from the ledger; counting from zero", "uid", uid, "category", cat, "err", err)
		return 0
	}
	return n
}

// resetCounters drops the in-memory counts of a user's category: while
// no limit was in force accesses were not counted here, so the next
// check seeds again from the ledger.
func (e *Engine) resetCounters(user, cat int) {
	e.limMu.Lock()
	defer e.limMu.Unlock()
	for k := range e.counters {
		if k.cat == cat && UserOf(k.uid) == user {
			delete(e.counters, k)
		}
	}
}
