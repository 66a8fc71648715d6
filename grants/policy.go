package grants

import (
	"time"
)

// Policy is the tunable part of the model (grants.json).
type Policy struct {
	// OnceGrace is how long a once grant survives the app leaving the
	// foreground (PermissionController: 60 s).
	OnceGrace time.Duration
	// OnceDeathGrace is how long it survives the app's process dying (5 s).
	OnceDeathGrace time.Duration
	// AskTTL is how long a dialog's request id stays valid for perm.decide.
	AskTTL time.Duration
	// SessionLookback bounds the "once per foreground session" count after
	// a restart, when the session's start is unknown: accesses this far
	// back count, which errs on the side of the limit.
	SessionLookback time.Duration
	// FudgePeriod is how often the location offset drifts.
	FudgePeriod time.Duration
	// FudgeRotation is how long a user's location secret is kept before a
	// new one is drawn (published in docs/grants.md).
	FudgeRotation time.Duration
	// Location is the time zone of daily windows and day limits.
	Location *time.Location
}

// DefaultPolicy mirrors AOSP's timers where AOSP has one.
func DefaultPolicy() Policy {
	return Policy{
		OnceGrace:       60 * time.Second,
		OnceDeathGrace:  5 * time.Second,
		AskTTL:          5 * time.Minute,
		SessionLookback: time.Hour,
		FudgePeriod:     time.Hour,
		FudgeRotation:   30 * 24 * time.Hour,
		Location:        time.Local,
	}
}

// SetPolicy replaces the policy (config reload).
func (e *Engine) SetPolicy(p Policy) {
	if p.Location == nil {
		p.Location = time.Local
	}
	e.policy.Store(&p)
}

// SetZone sets the device's time zone (from init at start, then from
// the framework on every change). It applies from the next decision:
// daily windows read the wall clock in the new zone, and day counters
// recount their new day from the ledger. Nothing else changes.
func (e *Engine) SetZone(loc *time.Location) {
	if loc != nil {
		e.zone.Store(loc)
	}
}

// Zone returns the zone decisions use now.
func (e *Engine) Zone() *time.Location { return e.zoneOf(e.policy.Load()) }

func (e *Engine) zoneOf(pol *Policy) *time.Location {
	if z := e.zone.Load(); z != nil {
		return z
	}
	return pol.Location
}

// Policy returns the policy in force.
func (e *Engine) Policy() Policy { return *e.policy.Load() }
