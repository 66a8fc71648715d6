package grants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Counter counts past accesses in the ledger, so that frequency limits
// survive a restart. The ledger implements it; it sums coalesced rows.
type Counter interface {
	CountSince(ctx context.Context, uid int, category string, results []string, since time.Time) (int64, error)
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

// Engine holds the grant cache and decides every access. Its code is
// split by concern: decisions (check.go, over the pure rules of
// decide.go), app-state lifecycle (appstate.go), frequency limits
// (limits.go), grant changes and expiry (changes.go, uninstall.go),
// reads (lookup.go), the consent dialog (dialog.go) and the policy
// (policy.go).
//
// Lock order. The mutexes, outermost first; a lock may be held while
// taking one below it, never one above:
//
//	writeMu    serializes changes (Set, Revoke, expiry, Reconcile,
//	           Removed), so that SQLite and the cache change in the same
//	           order
//	mu         the grant cache (grants)
//	stMu       app states (states); taken under mu.RLock by Sweep
//	limMu      the counter table (counters); released before a counter's
//	           own mutex is taken, so the two are never held together
//	counter.mu one (uid, category) count
//	askMu      pending dialogs (asks); taken with no other engine lock
//
// Check, the hot path, never takes writeMu, and holds mu and stMu only
// for a map lookup or update (a state change, an ended grant dropped). Two locks are held across a wait for the ledger's
// writer, deliberately and nowhere else: writeMu across Config.Commit
// (a change is applied in memory only after its records are durable, in
// commit order), and a counter's mutex across seed, whose
// Counter.CountSince flushes the writer (the ledger's reads see what it
// was handed) within a 2 s bound: the first check of a (uid, category) in
// a run, or after a limit or time-zone change, waits for that count, as
// must every concurrent check of the same count. Config.Commit and
// Counter therefore must not call the engine's change methods (they may
// read: List, Policy, Catalogue).
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

func (e *Engine) mustCat(id string) *Category {
	c, _ := e.cat.Category(id)
	return c
}
