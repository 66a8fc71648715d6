package process

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"permd/aosp/packages"
)

// Sources of start observations, in order of authority: the framework
// knows the reason and the caller; logd knows the hosting type and
// component; procfs knows only that a process appeared.
const (
	SourceFramework = "framework"
	SourceLogd      = "logd"
	SourceProcfs    = "procfs"
)

var sourceRank = map[string]int{SourceFramework: 0, SourceLogd: 1, SourceProcfs: 2}

// Start kinds (ledger kind codes).
const (
	KindUser       = "user_start"
	KindSelf       = "self_start"
	KindAssociated = "associated_start"
)

// Reasons, normalised across sources: logd's hosting types, the
// framework's reasons and ApplicationStartInfo's start reasons.
var reasonAliases = map[string]string{
	"activity": "activity", "top-activity": "activity", "next-activity": "activity",
	"next-top-activity": "activity", "start_activity": "activity", "start-activity": "activity",
	"launcher": "launcher", "launcher_recents": "recents", "recents": "recents",
	"broadcast": "broadcast",
	"service":   "service", "started-service": "service", "bound-service": "service",
	"restart":          "restart",
	"content provider": "provider", "content_provider": "provider", "provider": "provider",
	"alarm": "alarm", "job": "job",
	"boot": "boot", "boot_complete": "boot",
	"push": "push", "push_message": "push", "push_message_over_quota": "push",
	"backup":            "backup",
	"added application": "system", "system": "system",
	"link fail": "other", "on-hold": "other", "other": "other",
	"": "unknown", "unknown": "unknown",
}

// Reasons lists the normalised reasons.
func Reasons() []string {
	set := map[string]bool{}
	for _, v := range reasonAliases {
		set[v] = true
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NormalizeReason maps a source's reason to the common vocabulary; ok is
// false for a reason no source is known to use.
func NormalizeReason(r string) (string, bool) {
	n, ok := reasonAliases[strings.ToLower(strings.TrimSpace(r))]
	return n, ok
}

// Observation is one source's view of a process start.
type Observation struct {
	Source    string
	Time      time.Time
	UID       int
	PID       int    // 0 when the source does not know it
	Start     uint64 // procfs start ticks; 0 when unknown (process already gone)
	Process   string
	Reason    string // normalised
	Component string
	Caller    string // calling package, "" if none or unknown
	CallerUID int    // -1 when unknown
	// AppState is the app's state just before this start: the state of
	// its other processes, or not_running. Filled by the tracker.
	AppState string
}

// Start is one start after merging every source that saw it.
type Start struct {
	Kind      string    `json:"kind"` // user_start, self_start, associated_start; "" = not a background start (not recorded)
	Time      time.Time `json:"time"`
	UID       int       `json:"uid"`
	PID       int       `json:"pid"`
	StartTick uint64    `json:"start_ticks"`
	Process   string    `json:"process"`
	Reason    string    `json:"reason"`
	Component string    `json:"component"`
	Caller    string    `json:"caller"`
	CallerUID int       `json:"caller_uid"`
	AppState  string    `json:"app_state"`
	Sources   []string  `json:"sources"`
	Conflict  string    `json:"conflict,omitempty"` // sources disagreed: what each said
}

// Classify decides the kind of a merged start. The rules, published in
// docs/process-tracking.md:
//
//  1. launcher or recents → user start.
//  2. a caller that is another app (an app uid with a different app id)
//     → associated start, whatever the mechanism.
//  3. activity (no other app calling) → user start.
//  4. any other reason while the app already had a foreground or visible
//     process → not a background start: not recorded.
//  5. otherwise → self-start (broadcast, service, provider, alarm, job,
//     boot, push, restart, backup, system, other, unknown).
//  6. seen by procfs alone: the process's own band decides — foreground
//     → user start, else self-start with reason "unknown".
func Classify(s *Start, procfsOnly, foreground bool) string {
	switch {
	case s.Reason == "launcher" || s.Reason == "recents":
		return KindUser
	case s.CallerUID >= 0 && packages.IsApp(s.CallerUID) && packages.AppID(s.CallerUID) != packages.AppID(s.UID):
		return KindAssociated
	case s.Reason == "activity":
		return KindUser
	case procfsOnly && foreground:
		return KindUser
	case s.AppState == "foreground" || s.AppState == "visible":
		return ""
	}
	return KindSelf
}

type pending struct {
	first   time.Time
	obs     []Observation
	emitted bool
}

// Correlator merges observations of the same start from several sources
// (same uid and pid, and the same start time where both know it) within
// a settle window, then classifies and emits it once.
type Correlator struct {
	Window time.Duration
	Emit   func(Start)
	// Resolve gives a package's uid for a caller named without one.
	Resolve func(pkg string, user int) (int, bool)
	// Foreground tells, when the window has passed, whether the process
	// is in the foreground band: the fallback for starts only procfs saw
	// (a fresh zygote child has zygote's adj until ActivityManager sets
	// its own, so it is asked late, not when first seen).
	Foreground func(uid, pid int) bool

	mu      sync.Mutex
	pending []*pending
	done    map[doneKey]time.Time // recently emitted, to drop late duplicates
	late    int
	merged  int
}

type doneKey struct {
	uid, pid int
	start    uint64
}

// Stats of the correlator.
type CorrelatorStats struct {
	Pending int `json:"pending"`
	Merged  int `json:"merged"`
	Late    int `json:"late_duplicates"`
}

// Stats returns counters.
func (c *Correlator) Stats() CorrelatorStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CorrelatorStats{Pending: len(c.pending), Merged: c.merged, Late: c.late}
}

func matches(a, b Observation) bool {
	if a.UID != b.UID {
		return false
	}
	if a.PID == 0 || b.PID == 0 {
		// A framework report without a pid joins a start of the same uid
		// that no framework report has claimed yet.
		return true
	}
	return a.PID == b.PID && (a.Start == 0 || b.Start == 0 || a.Start == b.Start)
}

// Observe adds one observation.
func (c *Correlator) Observe(o Observation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = map[doneKey]time.Time{}
	}
	if o.PID != 0 {
		if _, ok := c.done[doneKey{o.UID, o.PID, o.Start}]; ok {
			c.late++
			return
		}
	}
	for _, p := range c.pending {
		if p.emitted || slices.ContainsFunc(p.obs, func(x Observation) bool { return !matches(x, o) }) {
			continue
		}
		if slices.ContainsFunc(p.obs, func(x Observation) bool { return x.Source == o.Source }) {
			continue // a second start of the same uid from the same source
		}
		if o.PID == 0 && !slices.ContainsFunc(p.obs, func(x Observation) bool { return x.PID != 0 }) {
			continue
		}
		p.obs = append(p.obs, o)
		c.merged++
		return
	}
	c.pending = append(c.pending, &pending{first: o.Time, obs: []Observation{o}})
}

// Flush emits every start whose window has passed by now (or all with
// force) and forgets old duplicates.
func (c *Correlator) Flush(now time.Time, force bool) {
	c.mu.Lock()
	if c.done == nil {
		c.done = map[doneKey]time.Time{}
	}
	var ready []*pending
	keep := c.pending[:0]
	for _, p := range c.pending {
		if force || now.Sub(p.first) >= c.Window {
			ready = append(ready, p)
		} else {
			keep = append(keep, p)
		}
	}
	c.pending = keep
	var out []Start
	for _, p := range ready {
		s := c.merge(p.obs)
		if s.PID != 0 {
			c.done[doneKey{s.UID, s.PID, s.StartTick}] = now
			if s.StartTick != 0 {
				c.done[doneKey{s.UID, s.PID, 0}] = now
			}
		}
		out = append(out, s)
	}
	for k, t := range c.done {
		if now.Sub(t) > 10*c.Window+time.Minute {
			delete(c.done, k)
		}
	}
	c.mu.Unlock()
	for _, s := range out {
		if c.Emit != nil {
			c.Emit(s)
		}
	}
}

// merge combines observations: each field from the most authoritative
// source that has it; differing reasons or callers are kept as a
// conflict, not overwritten.
func (c *Correlator) merge(obs []Observation) Start {
	slices.SortStableFunc(obs, func(a, b Observation) int { return sourceRank[a.Source] - sourceRank[b.Source] })
	s := Start{Time: obs[0].Time, UID: obs[0].UID, CallerUID: -1, Reason: "unknown"}
	var conflicts []string
	reasons := map[string]string{}
	callers := map[string]string{}
	for _, o := range obs {
		s.Sources = append(s.Sources, o.Source)
		if o.Time.Before(s.Time) {
			s.Time = o.Time
		}
		if s.PID == 0 {
			s.PID = o.PID
		}
		if s.StartTick == 0 {
			s.StartTick = o.Start
		}
		if s.Process == "" {
			s.Process = o.Process
		}
		if s.Component == "" {
			s.Component = o.Component
		}
		// The state before the start is best known from a source that
		// named the pid: it excludes the new process itself. A report
		// without a pid may already count the new process.
		if s.AppState == "" && o.PID != 0 {
			s.AppState = o.AppState
		}
		if o.Reason != "" && o.Reason != "unknown" {
			reasons[o.Source] = o.Reason
			if s.Reason == "unknown" {
				s.Reason = o.Reason
			}
		}
		if o.Caller != "" || o.CallerUID >= 0 {
			callers[o.Source] = fmt.Sprintf("%s(%d)", o.Caller, o.CallerUID)
			if s.Caller == "" && s.CallerUID < 0 {
				s.Caller, s.CallerUID = o.Caller, o.CallerUID
			}
		}
	}
	if s.Caller != "" && s.CallerUID < 0 && c.Resolve != nil {
		if uid, ok := c.Resolve(s.Caller, packages.UserID(s.UID)); ok {
			s.CallerUID = uid
		}
	}
	if differ(reasons) {
		conflicts = append(conflicts, "reason "+describe(reasons))
	}
	if differ(callers) {
		conflicts = append(conflicts, "caller "+describe(callers))
	}
	s.Conflict = strings.Join(conflicts, "; ")
	for _, o := range obs {
		if s.AppState == "" {
			s.AppState = o.AppState
		}
	}
	if s.AppState == "" {
		s.AppState = "not_running"
	}
	procfsOnly := len(obs) == 1 && obs[0].Source == SourceProcfs
	fg := false
	if procfsOnly && c.Foreground != nil {
		fg = c.Foreground(s.UID, s.PID)
	}
	s.Kind = Classify(&s, procfsOnly, fg)
	return s
}

func differ(m map[string]string) bool {
	var first string
	n := 0
	for _, v := range m {
		if n > 0 && v != first {
			return true
		}
		first = v
		n++
	}
	return false
}

func describe(m map[string]string) string {
	var parts []string
	for _, src := range []string{SourceFramework, SourceLogd, SourceProcfs} {
		if v, ok := m[src]; ok {
			parts = append(parts, src+"="+v)
		}
	}
	return strings.Join(parts, " ")
}
