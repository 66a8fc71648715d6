package grants

import (
	"time"

	// The zone database is part of the binary: Android has no
	// /usr/share/zoneinfo, which is all the static linux/amd64 device
	// build looks for (android/arm64 can read Android's tzdata file, but
	// only if permd's SELinux domain may), and a named zone must never
	// fail to load on a device. Go uses it when no system copy loads.
	_ "time/tzdata"
)

// The decision on one access is a pure function of explicit inputs:
// Evaluate(Input) below. The engine composes the very same functions
// (timeRule, frequencyAllows, levelOutcome) in the same order, holding
// its counter's lock around the frequency step; docs/grants.md states the
// semantics case by case so that another implementation (the Java
// evaluator in system_server's decision cache) can reproduce them.

// AppView is what a decision knows of the app's lifecycle.
type AppView struct {
	// State is foreground, visible, background, not_running, or "" when
	// nobody reported one (counts as in use).
	State string
	// LeftAt is when the app last left the foreground (zero while in it).
	LeftAt time.Time
	// DiedAt is when its process last died (zero while running).
	DiedAt time.Time
	// SessionEnded is the latest end of a foreground session, grace
	// included (zero if none ended).
	SessionEnded time.Time
}

// Input is everything one decision depends on.
type Input struct {
	Grant *Grant // the grant for (user, package, category); nil: none
	Level Level  // the grant's precision level from the catalogue (custom radius filled in)
	At    time.Time
	Zone  *time.Location // the device's zone; nil means UTC
	App   AppView
	// OnceGrace and OnceDeathGrace end a once grant (policy).
	OnceGrace, OnceDeathGrace time.Duration
	// Used is the number of served accesses already counted in the
	// frequency window that contains At (see WindowStart).
	Used int64
}

// Outcome is a decision.
type Outcome struct {
	Result string // allowed | denied | reduced | decoy | rate_limited
	Reason string
	// Expired: the grant has ended for good (once, duration, until) and
	// is to be removed.
	Expired bool
	// Counted: the access counts toward the frequency limit (Used+1).
	Counted bool
	// Remaining is the quota left after this access, -1 without a limit.
	Remaining int64
}

// Evaluate decides one access. Order: no grant → denied/no_grant; a
// deny → denied/user_denied; the time rule (timeRule); the frequency cap
// (frequencyAllows); the level (levelOutcome).
func Evaluate(in Input) Outcome {
	out := Outcome{Remaining: -1}
	g := in.Grant
	if g == nil {
		out.Result, out.Reason = ResultDenied, "no_grant"
		return out
	}
	if g.Decision == Deny {
		out.Result, out.Reason = ResultDenied, "user_denied"
		return out
	}
	zone := in.Zone
	if zone == nil {
		zone = time.UTC
	}
	var w0, w1 int
	if g.Time.Mode == ModeWindow {
		var err error
		if w0, w1, err = ParseWindow(g.Time.Window); err != nil {
			out.Result, out.Reason = ResultDenied, "bad_window"
			return out
		}
	}
	ok, reason, expired := timeRule(g, g.Ends(), w0, w1, in.App, in.At, zone, in.OnceGrace, in.OnceDeathGrace)
	out.Expired = expired
	if !ok {
		out.Result, out.Reason = ResultDenied, reason
		return out
	}
	if f := g.Frequency; f != nil {
		left, ok := frequencyAllows(f.Max, in.Used)
		out.Remaining = left
		if !ok {
			out.Result, out.Reason = ResultRateLimited, "frequency_limit"
			return out
		}
		out.Counted = true
	}
	out.Result, out.Reason = levelOutcome(in.Level.Effect)
	return out
}

// timeRule says whether g's time rule lets an access happen at `at`, why
// not, and whether g has ended for good. end is g.Ends(); w0, w1 its
// parsed window.
func timeRule(g *Grant, end time.Time, w0, w1 int, app AppView, at time.Time, zone *time.Location, onceGrace, deathGrace time.Duration) (ok bool, reason string, expired bool) {
	if !g.Time.Background && !inUse(app.State) {
		// A once grant also ends when the app has been away too long.
		if g.Time.Mode == ModeOnce && onceEnded(g.Set, app, at, onceGrace, deathGrace) {
			return false, "once_ended", true
		}
		return false, "background", false
	}
	switch g.Time.Mode {
	case ModeOnce:
		if onceEnded(g.Set, app, at, onceGrace, deathGrace) {
			return false, "once_ended", true
		}
	case ModeDuration, ModeUntil:
		if !at.Before(end) {
			return false, "expired", true
		}
	case ModeWindow:
		if !inWindow(w0, w1, at, zone) {
			return false, "outside_window", false
		}
	}
	return true, "", false
}

// onceEnded reports whether the foreground session a once grant was made
// in has ended: the app left the foreground (or died) after the grant
// and stayed away longer than the grace.
func onceEnded(set time.Time, app AppView, at time.Time, onceGrace, deathGrace time.Duration) bool {
	if app.SessionEnded.After(set) {
		return true
	}
	if !app.LeftAt.IsZero() && at.Sub(later(app.LeftAt, set)) > onceGrace {
		return true
	}
	if !app.DiedAt.IsZero() && at.Sub(later(app.DiedAt, set)) > deathGrace {
		return true
	}
	return false
}

// InWindow reports whether the daily window "HH:MM-HH:MM" contains the
// instant at, read as wall-clock time in zone.
func InWindow(window string, at time.Time, zone *time.Location) (bool, error) {
	w0, w1, err := ParseWindow(window)
	if err != nil {
		return false, err
	}
	return inWindow(w0, w1, at, zone), nil
}

// inWindow: the minute of the day of at's wall clock in zone (seconds
// dropped) is in [w0, w1) when the window starts before it ends, and in
// [w0, 24:00) or [00:00, w1) when it crosses midnight (w1 < w0).
func inWindow(w0, w1 int, at time.Time, zone *time.Location) bool {
	lt := at.In(zone)
	m := lt.Hour()*60 + lt.Minute()
	if w0 < w1 {
		return m >= w0 && m < w1
	}
	return m >= w0 || m < w1
}

// frequencyAllows says whether one more access fits under max when used
// were already served in the window, and the quota left after it.
func frequencyAllows(max int, used int64) (int64, bool) {
	if used >= int64(max) {
		return 0, false
	}
	return int64(max) - used - 1, true
}

// levelOutcome maps an allowed access's level effect onto its result.
func levelOutcome(effect string) (result, reason string) {
	switch effect {
	case EffectFull:
		return ResultAllowed, "granted"
	case EffectEmpty:
		return ResultDecoy, "empty_data"
	}
	return ResultReduced, "reduced_precision"
}

// WindowStart is the start of the frequency window containing at:
// minute and hour windows are aligned to absolute time (UTC minutes and
// hours, whatever the zone); a day starts at local midnight in zone
// (a day across a DST change is 23 or 25 hours long; where midnight does
// not exist, the day starts at the first instant after it). session has
// no clock window (zero).
func WindowStart(at time.Time, per string, zone *time.Location) time.Time {
	switch per {
	case "minute":
		return at.Truncate(time.Minute)
	case "hour":
		return at.Truncate(time.Hour)
	case "day":
		lt := at.In(zone)
		return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, zone)
	}
	return time.Time{}
}
