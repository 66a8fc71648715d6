package framework

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	"permd/aosp/packages"
	"permd/framework/protocol"
	"permd/grants"
)

// GrantsFile is the grants capability's config file in the config dir
// (grants.File; grants.Compile validates it).
const GrantsFile = grants.ConfigFile

// grantsPart wires the grants capability (Art. 30 consent) into the
// service: the decision engine with its SQLite-backed grant cache, the
// location fudger, and the perm.*, grants.*, loc.fudge and app.state
// methods.
type grantsPart struct {
	id     *identityPart // packages of a uid, app states
	ledger *ledgerPart   // records changes and accesses, counts past accesses

	settings atomic.Pointer[grants.Settings]
	eng      *grants.Engine
	fudger   *grants.Fudger
	stopped  chan struct{}
	done     chan struct{}
	checks   atomic.Uint64
	limited  atomic.Uint64
	feed     policyFeed // policy.subscribe (policy.go)
}

func (p *grantsPart) prepare(s *Service, snap *Snapshot) (func(), error) {
	st, err := partConfig(snap, GrantsFile, grants.Compile)
	if err != nil {
		return nil, err
	}
	return func() {
		p.settings.Store(&st)
		if p.eng != nil {
			p.eng.SetPolicy(st.Policy)
			p.feed.resync()
		}
	}, nil
}

func (p *grantsPart) name() string { return "grants" }

func (p *grantsPart) start(ctx context.Context, s *Service) error {
	cat, err := grants.LoadCatalogue()
	if err != nil {
		return err
	}
	st, err := grants.OpenStore(ctx, s.db, cat)
	if err != nil {
		return err
	}
	led := p.ledger.l
	set := p.settings.Load()
	cfg := grants.Config{
		// The ledger counts past accesses so that frequency limits
		// survive a restart.
		Catalogue: cat, Store: st, Counter: led, Now: s.Now, Policy: set.Policy, Logger: s.log,
		// Consent is recorded before it is acknowledged: each change
		// commits with its grant_change (and grant_decision) records in
		// one fsync'd transaction on the ledger's writer; the policy
		// stream is told once it committed.
		Commit: func(ctx context.Context, c grants.Change, write func(context.Context, *sql.Tx) error) error {
			if err := led.AppendTx(ctx, write, changeRecords(cat, c)...); err != nil {
				return err
			}
			p.feed.changed(c)
			return nil
		},
	}
	eng, err := grants.NewEngine(cfg)
	if err != nil {
		return err
	}
	if err := eng.Load(ctx); err != nil {
		return err
	}
	if z := s.opt.TimeZone; z != "" {
		// A zone this build cannot load must not keep the daemon from
		// starting: decisions use grants.json's zone until the framework
		// pushes a good one.
		if loc, err := time.LoadLocation(z); err != nil {
			s.log.Error("grants: unknown device time zone; using grants.json's time_zone until the framework sends one", "zone", z, "err", err)
		} else {
			eng.SetZone(loc)
		}
	}
	p.eng = eng
	p.feed.eng = func() *grants.Engine { return p.eng }
	p.fudger = grants.NewFudger(s.Now, func() time.Duration { return p.eng.Policy().FudgePeriod }, nil)
	// The secret survives restarts (12.11): a redraw per start would let
	// restarts add independent samples that average back to the truth.
	p.fudger.Persist(st, func() time.Duration { return p.eng.Policy().FudgeRotation }, s.log)
	p.stopped, p.done = make(chan struct{}), make(chan struct{})
	p.followPackages(s)
	go p.sweeper()
	return nil
}

// followPackages ends grants with their apps (12.5): when packages.list
// no longer lists a package, or lists it under another uid (uninstalled
// and installed again), its grants are revoked with a grant_change
// record saying why; now for what changed while permd was down, then on
// every rewrite of the file. Only a table read from packages.list counts:
// the host fallback, or an empty table (a device always lists hundreds of
// packages, so an empty one is a read gone wrong), revokes nothing, and
// a table with unreadable lines revokes only for uid changes.
func (p *grantsPart) followPackages(s *Service) {
	w := p.id.pkgs
	if w == nil || p.id.resolver != PackageResolver(w) {
		return
	}
	reconcile := func(t *packages.Table) {
		select {
		case <-p.stopped:
			return
		default:
		}
		if t.Len() == 0 {
			s.log.Warn("grants: packages.list lists no package; not treating that as every app uninstalled")
			return
		}
		// A line permd could not parse may be an installed package: then
		// absence proves nothing, and only uid changes are acted on.
		if t.Bad > 0 {
			s.log.Warn("grants: packages.list has unreadable lines; not treating missing packages as uninstalled", "bad_lines", t.Bad)
		}
		p.eng.Reconcile(context.Background(), t.UIDOf, t.Bad == 0)
	}
	if w.FromFile() {
		reconcile(w.Table())
	}
	w.OnChange(reconcile)
}

// sweeper expires ended grants on a timer, so that an expiry is recorded
// even if the app never asks again.
func (p *grantsPart) sweeper() {
	defer close(p.done)
	for {
		t := time.NewTimer(p.settings.Load().Sweep)
		select {
		case <-p.stopped:
			t.Stop()
			return
		case <-t.C:
			p.eng.Poll(p.id.states.AppState)
			p.eng.Sweep()
		}
	}
}

func (p *grantsPart) stop(s *Service) {
	if p.eng == nil {
		return
	}
	close(p.stopped)
	<-p.done
	p.eng.Close()
}

func (p *grantsPart) health() map[string]any {
	if p.eng == nil {
		return map[string]any{"started": false}
	}
	return map[string]any{"grants": p.eng.Len(), "checks": p.checks.Load(), "rate_limited": p.limited.Load(), "policy_subscribers": p.feed.count(), "zone": p.eng.Zone().String()}
}

func (p *grantsPart) methods(s *Service) []Method {
	hot := []Role{RoleFramework, RoleRoot}
	// The shell role is read-only unless permd.json widens it (core.go).
	manage := []Role{RoleSettings, RoleRoot}
	return []Method{
		{Name: protocol.MethodPermCheck, Roles: hot, Handler: func(ctx context.Context, c *Call) (any, error) { return p.check(ctx, s, c) }, Fast: true},
		// PermissionController (permission_ui) asks for the dialog it shows.
		{Name: protocol.MethodPermRequest, Roles: []Role{RoleFramework, RolePermissionUI, RoleRoot}, Handler: func(ctx context.Context, c *Call) (any, error) { return p.request(s, c) }, Fast: true},
		{Name: protocol.MethodPermDecide, Roles: []Role{RolePermissionUI, RoleRoot}, Handler: func(ctx context.Context, c *Call) (any, error) { return p.decide(ctx, s, c) }},
		{Name: protocol.MethodAppRemoved, Roles: hot, Handler: func(ctx context.Context, c *Call) (any, error) { return p.appRemoved(ctx, c) }},
		{Name: protocol.MethodTimeZone, Roles: hot, Handler: func(ctx context.Context, c *Call) (any, error) { return p.timeZone(s, c) }},
		{Name: protocol.MethodAppState, Roles: hot, Handler: func(ctx context.Context, c *Call) (any, error) { return p.appState(s, c) }, Fast: true},
		{Name: protocol.MethodLocFudge, Roles: hot, Handler: func(ctx context.Context, c *Call) (any, error) { return p.fudge(s, c) }, Fast: true},
		{Name: protocol.MethodLocOffset, Roles: hot, Handler: func(ctx context.Context, c *Call) (any, error) { return p.locOffset(c) }, Fast: true},
		{Name: protocol.MethodPermAndroidRevoked, Roles: hot, Handler: func(ctx context.Context, c *Call) (any, error) { return p.androidRevoked(ctx, c) }},
		{Name: protocol.MethodGrantsList, Roles: Readers, Handler: func(ctx context.Context, c *Call) (any, error) { return p.list(c) }},
		{Name: protocol.MethodGrantsGet, Roles: Readers, Handler: func(ctx context.Context, c *Call) (any, error) { return p.get(ctx, c) }},
		{Name: protocol.MethodGrantsSet, Roles: manage, Handler: func(ctx context.Context, c *Call) (any, error) { return p.set(ctx, s, c) }},
		{Name: protocol.MethodGrantsRevoke, Roles: manage, Handler: func(ctx context.Context, c *Call) (any, error) { return p.revoke(ctx, s, c) }},
		{Name: protocol.MethodGrantsCatalogue, Roles: AllRoles, Handler: func(ctx context.Context, c *Call) (any, error) { return p.catalogue(c) }, Fast: true},
		{Name: protocol.MethodPolicySubscribe, Roles: hot, Handler: p.feed.subscribe},
	}
}

// grantError maps engine errors onto protocol errors.
func grantError(err error) error {
	var pe *grants.ParamError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe):
		return InvalidParams(pe.Field, "%s", pe.Problem)
	case errors.Is(err, grants.ErrNotFound):
		return NotFound("no such grant")
	case grants.IsTooManyAsks(err):
		return Errorf(CodeOverloaded, "too many pending permission requests")
	}
	return err
}

// resolveCategory takes a category id or an Android permission / app-op
// name (op) and returns the category id.
func (p *grantsPart) resolveCategory(category, op string) (string, error) {
	cat := p.eng.Catalogue()
	if category != "" {
		if _, ok := cat.Category(category); !ok {
			return "", InvalidParams("category", "unknown category %q (known: %v)", category, cat.IDs())
		}
		if op != "" {
			if c, ok := cat.Lookup(op); ok && c.ID != category {
				return "", InvalidParams("op", "%s belongs to %s, not %s", op, c.ID, category)
			}
		}
		return category, nil
	}
	if op == "" {
		return "", InvalidParams("category", "missing: name a category or an op")
	}
	c, ok := cat.Lookup(op)
	if !ok {
		return "", InvalidParams("op", "%q is not a permission or app-op of any Art. 30 category", op)
	}
	return c.ID, nil
}

// packagesOf returns the packages to consider for uid: the named one
// (checked against the resolver when it knows the uid) or all of uid's.
func (p *grantsPart) packagesOf(s *Service, uid int, pkg string) ([]string, error) {
	if uid < 0 {
		return nil, InvalidParams("uid", "negative uid %d", uid)
	}
	var known []string
	if r := p.id.resolver; r != nil {
		known = r.Packages(uid)
	}
	if pkg == "" {
		if len(known) == 0 {
			return nil, InvalidParams("package", "missing, and uid %d has no known package", uid)
		}
		return known, nil
	}
	if !grants.ValidPackage(pkg) {
		return nil, InvalidParams("package", "%q is not a valid package name", pkg)
	}
	if len(known) > 0 && !slices.Contains(known, pkg) {
		return nil, InvalidParams("package", "uid %d has no package %q (it runs %v)", uid, pkg, known)
	}
	return []string{pkg}, nil
}

// stateOf picks the app state: what the caller says, else process
// tracking, else the engine's table of app.state reports.
func (p *grantsPart) stateOf(s *Service, uid int, given string) (string, error) {
	if given != "" {
		if !grants.ValidState(given) {
			return "", InvalidParams("state", "unknown state %q (foreground, visible, background, not_running)", given)
		}
		return given, nil
	}
	if st := p.id.states.AppState(uid); grants.ValidState(st) {
		return st, nil
	}
	return "", nil
}
