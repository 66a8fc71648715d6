package grants

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
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

// Counter counts past accesses in the ledger, so that frequency limits
// survive a restart. The ledger implements it; it sums coalesced rows.
type Counter interface {
	CountSince(ctx context.Context, uid int, category string, results []string, since time.Time) (int64, error)
}

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

// Change is a grant change the engine made, for the ledger.
type Change struct {
	At     time.Time
	Action string // set | revoke | expire
	By     string
	Grant  Grant  // the grant after a set, the removed grant otherwise
	Prev   *Grant // the grant a set replaced, nil if none
	// Reason says why a revoke happened when the action alone does not:
	// ReasonUninstalled or ReasonUIDChanged.
	Reason string
}

// Config builds an Engine.
type Config struct {
	Catalogue *Catalogue
	Store     *Store
	Counter   Counter // nil: limits start at zero after a restart
	Now       func() time.Time
	Policy    Policy
	// OnChange is told about every change, including expiries found on
	// the hot path; it must not block. It is not called when Commit is
	// set: Commit records the change instead.
	OnChange func(Change)
	// Commit, if set, persists every change: it must run write (the
	// grant row and its history) in one transaction together with the
	// change's own records, and return once that is durable. A change is
	// acknowledged (and applied in memory) only after Commit succeeds, so
	// a crash can never leave a change without its record.
	Commit func(ctx context.Context, c Change, write func(context.Context, *sql.Tx) error) error
	Logger *slog.Logger
}

type key struct {
	user int
	pkg  string
	cat  int
}

// entry is a cached grant with what Check needs precomputed.
type entry struct {
	g        Grant
	cat      *Category
	lvl      Level
	end      time.Time // duration/until end; zero otherwise
	win0     int       // window start, minutes
	win1     int       // window end, minutes
	expiring atomic.Bool
}

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

type pending struct {
	uid     int
	user    int
	pkg     string
	cat     string
	expires time.Time
}

// Engine holds the grant cache and decides every access.
type Engine struct {
	cat      *Catalogue
	store    *Store
	counter  Counter
	now      func() time.Time
	onChange func(Change)
	commit   func(context.Context, Change, func(context.Context, *sql.Tx) error) error
	log      *slog.Logger
	policy   atomic.Pointer[Policy]
	// zone is the device's time zone once known (SetZone); until then
	// the policy's Location applies.
	zone atomic.Pointer[time.Location]

	writeMu sync.Mutex // serializes changes: SQLite then cache
	mu      sync.RWMutex
	grants  map[key]*entry

	stMu   sync.RWMutex
	states map[int]*appState

	limMu    sync.Mutex
	counters map[ckey]*counter

	askMu sync.Mutex
	asks  map[string]pending

	wg sync.WaitGroup
}

// NewEngine builds an engine; call Load before use.
func NewEngine(c Config) (*Engine, error) {
	if c.Catalogue == nil || c.Store == nil {
		return nil, errors.New("grants engine: catalogue and store are required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.OnChange == nil {
		c.OnChange = func(Change) {}
	}
	if c.Policy == (Policy{}) {
		c.Policy = DefaultPolicy()
	}
	e := &Engine{
		cat: c.Catalogue, store: c.Store, counter: c.Counter, now: c.Now, onChange: c.OnChange, commit: c.Commit, log: c.Logger,
		grants: map[key]*entry{}, states: map[int]*appState{}, counters: map[ckey]*counter{}, asks: map[string]pending{},
	}
	e.SetPolicy(c.Policy)
	if c.Counter == nil {
		e.log.Warn("grants: no ledger counter; frequency limits start at zero after a restart")
	}
	return e, nil
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

// Catalogue returns the catalogue.
func (e *Engine) Catalogue() *Catalogue { return e.cat }

// Load fills the cache from SQLite.
func (e *Engine) Load(ctx context.Context) error {
	gs, err := e.store.load(ctx)
	if err != nil {
		return err
	}
	m := map[key]*entry{}
	for _, g := range gs {
		ent, err := e.newEntry(g)
		if err != nil {
			// A row this binary cannot interpret (a category removed from
			// the catalogue) is kept on disk but not enforced.
			e.log.Warn("grants: stored grant ignored", "user", g.User, "package", g.Package, "category", g.Category, "err", err)
			continue
		}
		m[ent.key()] = ent
	}
	e.mu.Lock()
	e.grants = m
	e.mu.Unlock()
	for _, ent := range m {
		e.prime(ent)
	}
	return nil
}

// prime seeds the frequency counter of a limited grant whose uid is
// known, so that the hot path does not query the ledger. Grants without
// a uid are seeded on their first check instead.
func (e *Engine) prime(ent *entry) {
	f := ent.g.Frequency
	if f == nil || ent.g.UID == 0 || ent.g.Decision != Allow {
		return
	}
	e.take(ent.g.UID, ent.cat, f, e.stateOf(ent.g.UID), e.now(), e.policy.Load(), false)
}

// Close waits for background persistence (expiries) to finish.
func (e *Engine) Close() { e.wg.Wait() }

func (ent *entry) key() key { return key{ent.g.User, ent.g.Package, ent.cat.Code} }

func (e *Engine) newEntry(g Grant) (*entry, error) {
	cat, ok := e.cat.Category(g.Category)
	if !ok {
		return nil, fmt.Errorf("unknown category %q", g.Category)
	}
	ent := &entry{g: g, cat: cat}
	if g.Decision == Deny {
		return ent, nil
	}
	lvl, ok := cat.Level(g.Precision.Level)
	if !ok {
		return nil, fmt.Errorf("unknown level %q", g.Precision.Level)
	}
	ent.lvl = lvl
	if lvl.Custom {
		ent.lvl.RadiusM = g.Precision.RadiusM
	}
	switch g.Time.Mode {
	case ModeDuration:
		d, err := time.ParseDuration(g.Time.For)
		if err != nil {
			return nil, err
		}
		ent.end = g.Set.Add(d)
	case ModeUntil:
		ent.end = g.Time.Until
	case ModeWindow:
		var err error
		if ent.win0, ent.win1, err = ParseWindow(g.Time.Window); err != nil {
			return nil, err
		}
	}
	return ent, nil
}

// UserOf returns the Android user id of a uid.
func UserOf(uid int) int { return uid / 100000 }

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

// expire removes an ended grant from the cache now and from SQLite in
// the background, so the hot path never waits for a commit.
func (e *Engine) expire(ent *entry, now time.Time) {
	if !ent.expiring.CompareAndSwap(false, true) {
		return
	}
	e.mu.Lock()
	if e.grants[ent.key()] == ent {
		delete(e.grants, ent.key())
	}
	e.mu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.writeMu.Lock()
		defer e.writeMu.Unlock()
		// A newer grant may have replaced this one meanwhile.
		e.mu.RLock()
		_, replaced := e.grants[ent.key()]
		e.mu.RUnlock()
		if replaced {
			return
		}
		if err := e.persist(context.Background(), Change{At: now, Action: ActionExpire, By: ByExpiry, Grant: ent.g}, nil); err != nil {
			e.log.Error("grants: cannot persist expiry", "package", ent.g.Package, "category", ent.g.Category, "err", err)
			return
		}
	}()
}

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

// Sweep expires every grant that has ended (a timer calls it, so that
// expiries are recorded even when the app never checks again).
func (e *Engine) Sweep() int {
	now := e.now()
	pol := e.policy.Load()
	var ended []*entry
	e.mu.RLock()
	for _, ent := range e.grants {
		if ent.g.Decision != Allow {
			continue
		}
		st := e.stateOf(ent.g.UID)
		if _, _, exp := e.applies(ent, st, StateForeground, now, pol); exp {
			ended = append(ended, ent)
		}
	}
	e.mu.RUnlock()
	for _, ent := range ended {
		e.expire(ent, now)
	}
	return len(ended)
}

// Set stores a grant (after Normalize) made by by, replacing any other
// for its key.
func (e *Engine) Set(ctx context.Context, g Grant, by string) (Grant, error) {
	now := e.now()
	g, err := e.cat.Normalize(g, now)
	if err != nil {
		return g, err
	}
	if _, ok := actorCodes[by]; !ok {
		return g, fmt.Errorf("set grant: unknown actor %q", by)
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	e.mu.RLock()
	old := e.grants[key{g.User, g.Package, e.mustCat(g.Category).Code}]
	e.mu.RUnlock()
	if old != nil {
		g.Version = old.g.Version + 1
		if g.UID == 0 {
			g.UID = old.g.UID
		}
	} else {
		g.Version = 1
	}
	g.Set, g.By = now, by
	ent, err := e.newEntry(g)
	if err != nil {
		return g, err
	}
	ch := Change{At: now, Action: ActionSet, By: by, Grant: g}
	if old != nil {
		prev := old.g
		ch.Prev = &prev
	}
	if err := e.persist(ctx, ch, &g); err != nil {
		return g, err
	}
	e.mu.Lock()
	e.grants[ent.key()] = ent
	e.mu.Unlock()
	if old == nil || !sameFrequency(old.g.Frequency, g.Frequency) {
		e.resetCounters(g.User, ent.cat.Code)
	}
	e.prime(ent)
	if old != nil {
		old.expiring.Store(true) // a replaced entry must not expire the new one
	}
	return g, nil
}

// Revoke removes a grant; the next check denies.
func (e *Engine) Revoke(ctx context.Context, user int, pkg, category, by string) (Grant, error) {
	cat, ok := e.cat.Category(category)
	if !ok {
		return Grant{}, perr("category", "unknown category %q (known: %v)", category, e.cat.IDs())
	}
	now := e.now()
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	k := key{user, pkg, cat.Code}
	e.mu.RLock()
	old := e.grants[k]
	e.mu.RUnlock()
	if old == nil {
		return Grant{}, ErrNotFound
	}
	if err := e.persist(ctx, Change{At: now, Action: ActionRevoke, By: by, Grant: old.g}, nil); err != nil {
		return Grant{}, err
	}
	old.expiring.Store(true)
	e.mu.Lock()
	delete(e.grants, k)
	e.mu.Unlock()
	e.resetCounters(user, cat.Code)
	return old.g, nil
}

// persist writes change c (g is the grant after a set, nil otherwise)
// and has it recorded: through Config.Commit in one transaction with its
// records when set, else the store alone and then OnChange. The commit
// is waited for even if ctx ends meanwhile, so that the cache never
// disagrees with what was stored.
func (e *Engine) persist(ctx context.Context, c Change, g *Grant) error {
	ctx = context.WithoutCancel(ctx)
	if e.commit != nil {
		return e.commit(ctx, c, func(ctx context.Context, tx *sql.Tx) error {
			return e.store.writeTx(ctx, tx, c.At, c.Action, c.By, c.Grant, g)
		})
	}
	if err := e.store.write(ctx, c.At, c.Action, c.By, c.Grant, g); err != nil {
		return err
	}
	e.onChange(c)
	return nil
}

func sameFrequency(a, b *Frequency) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
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

func (e *Engine) mustCat(id string) *Category {
	c, _ := e.cat.Category(id)
	return c
}

// Filter selects grants for List; zero fields match all.
type Filter struct {
	User     *int
	Package  string
	Category string
	UID      int
}

// List returns current grants, sorted by user, package, category.
func (e *Engine) List(f Filter) []Grant {
	e.Sweep()
	e.mu.RLock()
	out := make([]Grant, 0, len(e.grants))
	for _, ent := range e.grants {
		g := ent.g
		if (f.User != nil && g.User != *f.User) || (f.Package != "" && g.Package != f.Package) ||
			(f.Category != "" && g.Category != f.Category) || (f.UID != 0 && g.UID != f.UID) {
			continue
		}
		out = append(out, g)
	}
	e.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.User != b.User {
			return a.User < b.User
		}
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		return e.mustCat(a.Category).Code < e.mustCat(b.Category).Code
	})
	return out
}

// Get returns one grant (nil if none now) and its history, newest last.
func (e *Engine) Get(ctx context.Context, user int, pkg, category string, limit int) (*Grant, []HistoryEntry, error) {
	cat, ok := e.cat.Category(category)
	if !ok {
		return nil, nil, perr("category", "unknown category %q (known: %v)", category, e.cat.IDs())
	}
	e.Sweep()
	e.mu.RLock()
	ent := e.grants[key{user, pkg, cat.Code}]
	e.mu.RUnlock()
	hist, err := e.store.history(ctx, user, pkg, category, limit)
	if err != nil {
		return nil, nil, err
	}
	if ent == nil {
		return nil, hist, nil
	}
	g := ent.g
	return &g, hist, nil
}

// Request statuses.
const (
	StatusGranted = "granted"
	StatusDenied  = "denied"
	StatusAsk     = "ask"
)

// RequestResult answers perm.request.
type RequestResult struct {
	Status    string  `json:"status"`
	Grant     *Grant  `json:"grant,omitempty"`
	RequestID string  `json:"request_id,omitempty"`
	Dialog    *Dialog `json:"dialog,omitempty"`
}

// Dialog is what the consent dialog shows: localized texts, the options
// that apply to this permission, and the preselected choice.
type Dialog struct {
	Lang        string   `json:"lang"`
	Category    string   `json:"category"`
	Icon        string   `json:"icon"`
	Title       string   `json:"title"`
	Risk        string   `json:"risk"`
	TimeModes   []Option `json:"time_modes"`
	Durations   []string `json:"durations"`
	Background  string   `json:"background"`
	Levels      []Option `json:"levels,omitempty"`
	Frequency   []string `json:"frequency_windows,omitempty"`
	Preselected Grant    `json:"preselected"`
}

// Option is one choice in the dialog.
type Option struct {
	ID      string `json:"id"`
	Label   string `json:"label"`
	Effect  string `json:"effect,omitempty"`
	RadiusM int    `json:"radius_m,omitempty"`
	Custom  bool   `json:"custom,omitempty"`
}

// Request answers an app's request for a category: the standing grant,
// a standing denial, or a dialog to show.
func (e *Engine) Request(uid int, pkg, category, lang string) (RequestResult, error) {
	cat, ok := e.cat.Category(category)
	if !ok {
		return RequestResult{}, perr("category", "unknown category %q (known: %v)", category, e.cat.IDs())
	}
	if !ValidPackage(pkg) {
		return RequestResult{}, perr("package", "%q is not a valid package name", pkg)
	}
	now := e.now()
	pol := e.policy.Load()
	user := UserOf(uid)
	e.mu.RLock()
	ent := e.grants[key{user, pkg, cat.Code}]
	e.mu.RUnlock()
	if ent != nil && !ent.belongsTo(uid) {
		ent = nil // another install's grant: this one has none
	}
	if ent != nil {
		g := ent.g
		if g.Decision == Deny {
			return RequestResult{Status: StatusDenied, Grant: &g}, nil
		}
		if _, _, expired := e.applies(ent, e.stateOf(uid), StateForeground, now, pol); !expired {
			return RequestResult{Status: StatusGranted, Grant: &g}, nil
		}
		e.expire(ent, now)
	}
	id := newID()
	e.askMu.Lock()
	for k, p := range e.asks {
		if now.After(p.expires) {
			delete(e.asks, k)
		}
	}
	if len(e.asks) >= 4096 {
		e.askMu.Unlock()
		return RequestResult{}, errTooManyAsks
	}
	e.asks[id] = pending{uid: uid, user: user, pkg: pkg, cat: category, expires: now.Add(pol.AskTTL)}
	e.askMu.Unlock()
	return RequestResult{Status: StatusAsk, RequestID: id, Dialog: e.dialog(cat, pkg, lang)}, nil
}

var errTooManyAsks = errors.New("too many pending permission requests")

// ErrTooManyAsks reports that the pending-dialog table is full.
func IsTooManyAsks(err error) bool { return errors.Is(err, errTooManyAsks) }

func (e *Engine) dialog(cat *Category, pkg, lang string) *Dialog {
	if lang == "" {
		lang = "en"
	}
	d := &Dialog{
		Lang: lang, Category: cat.ID, Icon: cat.Icon,
		Title:      fmt.Sprintf(e.cat.Titles.In(lang), pkg, cat.Label.In(lang)),
		Risk:       cat.Risk.In(lang),
		Durations:  e.cat.Durations,
		Background: cat.Background,
		Frequency:  e.cat.FrequencyWindows,
		Preselected: Grant{Package: pkg, Category: cat.ID, Decision: Allow,
			Time: TimeRule{Mode: ModeOnce}, Precision: Precision{Level: cat.DefaultLevel}},
	}
	for _, m := range cat.TimeModes {
		d.TimeModes = append(d.TimeModes, Option{ID: m, Label: e.cat.TimeLabels[m].In(lang)})
	}
	if len(cat.Levels) > 1 {
		for _, l := range cat.Levels {
			d.Levels = append(d.Levels, Option{ID: l.ID, Label: l.Label.In(lang), Effect: l.Effect, RadiusM: l.RadiusM, Custom: l.Custom})
		}
	}
	return d
}

// Decide records the user's dialog choice for a pending request. With an
// empty requestID the grant's own key is used (a dialog shown without a
// prior perm.request).
func (e *Engine) Decide(ctx context.Context, requestID string, g Grant) (Grant, error) {
	if requestID != "" {
		e.askMu.Lock()
		p, ok := e.asks[requestID]
		e.askMu.Unlock()
		if !ok || e.now().After(p.expires) {
			return g, ErrNotFound
		}
		if g.Package == "" {
			g.Package = p.pkg
		}
		if g.Category == "" {
			g.Category = p.cat
		}
		if g.Package != p.pkg || g.Category != p.cat {
			return g, perr("package", "request %s was for %s/%s", requestID, p.pkg, p.cat)
		}
		g.User, g.UID = p.user, p.uid
	}
	out, err := e.Set(ctx, g, ByDialog)
	if err == nil && requestID != "" {
		e.askMu.Lock()
		delete(e.asks, requestID)
		e.askMu.Unlock()
	}
	return out, err
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Current returns the grant in force for the first of pkgs that has one
// and its precision level (with a custom radius filled in), without
// counting an access.
func (e *Engine) Current(uid int, pkgs []string, category string) (Grant, Level, bool) {
	cat, ok := e.cat.Category(category)
	if !ok {
		return Grant{}, Level{}, false
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, p := range pkgs {
		if ent := e.grants[key{UserOf(uid), p, cat.Code}]; ent != nil && ent.belongsTo(uid) {
			return ent.g, ent.lvl, true
		}
	}
	return Grant{}, Level{}, false
}

// Len is the number of grants in the cache (cheap: for sys.health).
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.grants)
}

// Summary is a one-line description of a grant for records and
// listings: "com.a.b location: allow while_in_use, 10/hour, approx_1km".
func (g Grant) Summary() string {
	s := g.Package + " " + g.Category + ": " + g.Decision
	if g.Decision == Deny {
		return s
	}
	t := g.Time
	s += " " + t.Mode
	switch t.Mode {
	case ModeDuration:
		s += " " + t.For
	case ModeUntil:
		s += " " + t.Until.UTC().Format(time.RFC3339)
	case ModeWindow:
		s += " " + t.Window
	}
	if t.Background && t.Mode != ModeAlways {
		s += " +background"
	}
	if f := g.Frequency; f != nil {
		s += fmt.Sprintf(", %d/%s", f.Max, f.Per)
	}
	s += ", " + g.Precision.Level
	if g.Precision.RadiusM > 0 {
		s += fmt.Sprintf(" %dm", g.Precision.RadiusM)
	}
	if n := len(g.Precision.Items); n > 0 {
		s += fmt.Sprintf(" (%d items)", n)
	}
	return s
}

// Ends returns when a duration or until grant ends, zero otherwise.
func (g Grant) Ends() time.Time {
	switch g.Time.Mode {
	case ModeDuration:
		if d, err := time.ParseDuration(g.Time.For); err == nil {
			return g.Set.Add(d)
		}
	case ModeUntil:
		return g.Time.Until
	}
	return time.Time{}
}

// Result is what a check under the grant's level yields when allowed:
// allowed, reduced or decoy (denied for a deny).
func (c *Catalogue) Result(g Grant) string {
	if g.Decision != Allow {
		return ResultDenied
	}
	cat, ok := c.Category(g.Category)
	if !ok {
		return ""
	}
	l, _ := cat.Level(g.Precision.Level)
	switch l.Effect {
	case EffectFull:
		return ResultAllowed
	case EffectEmpty:
		return ResultDecoy
	}
	return ResultReduced
}
