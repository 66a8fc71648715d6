package grants

import (
	"time"
)

// Check results, as recorded in the ledger.
const (
	ResultAllowed     = "allowed"
	ResultDenied      = "denied"
	ResultReduced     = "reduced"
	ResultDecoy       = "decoy"
	ResultRateLimited = "rate_limited"
)

// CountedResults are the results that count toward a frequency limit:
// every access that was served (with real, reduced or empty data).
var CountedResults = []string{ResultAllowed, ResultReduced, ResultDecoy}

// Query is one access to decide.
type Query struct {
	UID      int
	Packages []string // the uid's packages (several for a shared uid); the first with a grant decides
	Category string
	// State is the app state the caller knows, or "" to use the engine's
	// own table (app.state reports).
	State string
}

// Decision is the answer to one access check.
type Decision struct {
	Allowed  bool     `json:"allowed"`
	Result   string   `json:"result"` // allowed | denied | reduced | decoy | rate_limited
	Reason   string   `json:"reason"`
	Package  string   `json:"package,omitempty"`
	Category string   `json:"category"`
	Level    string   `json:"level,omitempty"`
	Effect   string   `json:"effect,omitempty"`
	RadiusM  int      `json:"radius_m,omitempty"`
	Scope    string   `json:"scope,omitempty"`
	Items    []string `json:"items,omitempty"`
	// Remaining is the quota left in the current window, -1 without limit.
	Remaining int64  `json:"remaining"`
	AppState  string `json:"app_state"`
	// Limit is the frequency cap in force, if any (for the record).
	Limit *Frequency `json:"-"`
}

// Check decides one access and counts it toward the frequency limit. It
// touches no storage except to seed a frequency counter once per run.
func (e *Engine) Check(q Query) Decision {
	now := e.now()
	d := Decision{Category: q.Category, Remaining: -1}
	cat, ok := e.cat.Category(q.Category)
	if !ok {
		d.Result, d.Reason = ResultDenied, "unknown_category"
		return d
	}
	if q.State != "" {
		e.observe(q.UID, q.State, now)
	}
	st := e.stateOf(q.UID)
	d.AppState = q.State
	if d.AppState == "" {
		d.AppState = st.state
	}
	user := UserOf(q.UID)
	var ent *entry
	e.mu.RLock()
	for _, p := range q.Packages {
		if ent = e.grants[key{user, p, cat.Code}]; ent != nil && ent.belongsTo(q.UID) {
			break
		}
		ent = nil
	}
	e.mu.RUnlock()
	if ent == nil {
		d.Result, d.Reason = ResultDenied, "no_grant"
		if len(q.Packages) == 1 {
			d.Package = q.Packages[0]
		}
		return d
	}
	d.Package = ent.g.Package
	if ent.g.Decision == Deny {
		d.Result, d.Reason = ResultDenied, "user_denied"
		return d
	}
	pol := e.policy.Load()
	applies, reason, expired := e.applies(ent, st, d.AppState, now, pol)
	if expired {
		e.expire(ent, now)
	}
	if !applies {
		d.Result, d.Reason = ResultDenied, reason
		return d
	}
	if f := ent.g.Frequency; f != nil {
		d.Limit = f
		left, ok := e.take(q.UID, cat, f, st, now, pol, true)
		d.Remaining = left
		if !ok {
			d.Result, d.Reason = ResultRateLimited, "frequency_limit"
			return d
		}
	}
	d.Allowed = true
	d.Level, d.Effect, d.Scope = ent.lvl.ID, ent.lvl.Effect, ent.lvl.Scope
	d.Result, d.Reason = levelOutcome(ent.lvl.Effect)
	if d.Result == ResultReduced {
		d.RadiusM = ent.lvl.RadiusM
		if ent.lvl.Effect == EffectSelected {
			d.Items = ent.g.Precision.Items
			if d.Items == nil {
				d.Items = []string{}
			}
		}
	}
	return d
}

// applies says whether the grant's time rule lets an access happen now,
// and whether the grant has ended for good (timeRule, decide.go).
func (e *Engine) applies(ent *entry, st appState, state string, now time.Time, pol *Policy) (ok bool, reason string, expired bool) {
	return timeRule(&ent.g, ent.end, ent.win0, ent.win1, st.view(state), now, e.zoneOf(pol), pol.OnceGrace, pol.OnceDeathGrace)
}
