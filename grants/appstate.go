package grants

import (
	"time"
)

// App states.
const (
	StateForeground = "foreground"
	StateVisible    = "visible"
	StateBackground = "background"
	StateNotRunning = "not_running"
)

// ValidState reports whether s is an app state code.
func ValidState(s string) bool {
	return s == StateForeground || s == StateVisible || s == StateBackground || s == StateNotRunning
}

func inUse(s string) bool { return s == StateForeground || s == StateVisible || s == "" }

// appState is what the engine knows of one uid's lifecycle.
type appState struct {
	state   string
	since   time.Time
	leftAt  time.Time // last move out of the foreground; zero while in it
	diedAt  time.Time // last move to not_running; zero while running
	ended   time.Time // latest end of a foreground session (grace included)
	fgSince time.Time
	gen     uint64 // foreground session count
}

// view is the decision's view of an app: the state in force for this
// check and the lifecycle times.
func (st appState) view(state string) AppView {
	return AppView{State: state, LeftAt: st.leftAt, DiedAt: st.diedAt, SessionEnded: st.ended}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ReportState records an app state report (app.state, process tracking).
func (e *Engine) ReportState(uid int, state string) { e.observe(uid, state, e.now()) }

// observe notes a state; only a change takes the write lock.
func (e *Engine) observe(uid int, state string, now time.Time) {
	e.stMu.RLock()
	cur := e.states[uid]
	same := cur != nil && cur.state == state
	e.stMu.RUnlock()
	if same {
		return
	}
	pol := e.policy.Load()
	e.stMu.Lock()
	defer e.stMu.Unlock()
	st := e.states[uid]
	if st == nil {
		st = &appState{}
		e.states[uid] = st
	}
	if st.state == state {
		return
	}
	wasFG := st.state != "" && inUse(st.state)
	isFG := inUse(state)
	// Close the session if the app stayed away past a grace.
	if !st.leftAt.IsZero() && now.Sub(st.leftAt) > pol.OnceGrace {
		st.ended = later(st.ended, st.leftAt.Add(pol.OnceGrace))
	}
	if !st.diedAt.IsZero() && now.Sub(st.diedAt) > pol.OnceDeathGrace {
		st.ended = later(st.ended, st.diedAt.Add(pol.OnceDeathGrace))
	}
	switch {
	case isFG && !wasFG:
		st.leftAt, st.diedAt = time.Time{}, time.Time{}
		// A new foreground session unless it came back within the grace.
		if st.ended.After(st.fgSince) || st.fgSince.IsZero() {
			st.gen++
			st.fgSince = now
		}
	case !isFG && (wasFG || st.state == ""):
		st.leftAt = now
	}
	if state == StateNotRunning {
		st.diedAt = now
	} else {
		st.diedAt = time.Time{}
	}
	st.state, st.since = state, now
}

func (e *Engine) stateOf(uid int) appState {
	e.stMu.RLock()
	defer e.stMu.RUnlock()
	if st := e.states[uid]; st != nil {
		return *st
	}
	return appState{}
}

// AppState returns the last reported state of uid, "" if none.
func (e *Engine) AppState(uid int) string { return e.stateOf(uid).state }

// Poll feeds the engine app states from a source that is polled rather
// than reporting changes (process tracking), for the uids whose once
// grants or session limits depend on foreground transitions. A timer
// calls it before Sweep, so a short trip to the background between two
// checks is not missed (resolution: the timer's interval).
func (e *Engine) Poll(state func(uid int) string) {
	now := e.now()
	var uids []int
	e.mu.RLock()
	for _, ent := range e.grants {
		g := &ent.g
		if g.UID != 0 && (g.Time.Mode == ModeOnce || (g.Frequency != nil && g.Frequency.Per == "session")) {
			uids = append(uids, g.UID)
		}
	}
	e.mu.RUnlock()
	for _, uid := range uids {
		if st := state(uid); ValidState(st) {
			e.observe(uid, st, now)
		}
	}
}
