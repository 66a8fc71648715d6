package framework

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"permd/aosp/packages"
	"permd/framework/protocol"
	"permd/framework/wire"
	"permd/grants"
	"permd/ledger"
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

func (p *grantsPart) check(ctx context.Context, s *Service, c *Call) (any, error) {
	var q protocol.CheckParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.UID == nil {
		return nil, InvalidParams("uid", "missing")
	}
	cat, err := p.resolveCategory(q.Category, q.Op)
	if err != nil {
		return nil, err
	}
	pkgs, err := p.packagesOf(s, *q.UID, q.Package)
	if err != nil {
		return nil, err
	}
	state, err := p.stateOf(s, *q.UID, q.State)
	if err != nil {
		return nil, err
	}
	d := p.eng.Check(grants.Query{UID: *q.UID, Packages: pkgs, Category: cat, State: state})
	p.checks.Add(1)
	if d.Result == grants.ResultRateLimited {
		p.limited.Add(1)
	}
	rec := ledger.Record{
		Time: s.Now(), UID: *q.UID, Kind: "access", Category: cat, Op: q.Op,
		Result: d.Result, AppState: d.AppState, Detail: accessDetail(d, d.Limit),
	}
	// An access that counts toward a frequency cap is committed
	// before it is answered: counts are seeded from the ledger after
	// a restart, so a crash cannot hand out more than the cap. Other
	// checks keep the hot path's speed (the cap is what needs it).
	// If the record cannot be committed (storage failing), the
	// in-memory count still holds the cap while the daemon runs, and
	// the record goes the hot path's way (counted as dropped if it
	// cannot be written).
	if d.Limit != nil && d.Allowed {
		// The reply waits for the commit; the connection does not
		// (perm.check is Fast). Not cut short by the caller leaving:
		// the record is queued either way, and must not be queued twice.
		return &Deferred{Wait: func() (any, error) {
			if err := p.ledger.l.Append(context.WithoutCancel(ctx), rec); err != nil {
				s.log.Warn("capped access not durable before the answer", "uid", *q.UID, "category", cat, "err", err)
				p.ledger.l.Enqueue(rec)
			}
			return wire.Decision(d), nil
		}}, nil
	}
	p.ledger.l.Enqueue(rec)
	return wire.Decision(d), nil
}

// accessDetail builds the record's detail without reflection: this is
// the hot path. The keys are those rules.json lets an access record
// carry: reason (with the level applied, e.g.
// "reduced_precision:approx_1km") and limit (the frequency cap in force).
// Reasons, levels and windows are our own codes, so strconv quoting is
// valid JSON here.
func accessDetail(d grants.Decision, f *grants.Frequency) json.RawMessage {
	b := make([]byte, 0, 80)
	b = append(b, `{"reason":"`...)
	b = append(b, d.Reason...)
	if d.Level != "" && d.Effect != grants.EffectFull {
		b = append(b, ':')
		b = append(b, d.Level...)
	}
	b = append(b, '"')
	if f != nil {
		b = append(b, `,"limit":"`...)
		b = strconv.AppendInt(b, int64(f.Max), 10)
		b = append(b, '/')
		b = append(b, f.Per...)
		b = append(b, '"')
	}
	return append(b, '}')
}

func (p *grantsPart) request(s *Service, c *Call) (any, error) {
	var q protocol.RequestParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.UID == nil {
		return nil, InvalidParams("uid", "missing")
	}
	if q.Package == "" {
		return nil, InvalidParams("package", "missing")
	}
	cat, err := p.resolveCategory(q.Category, q.Op)
	if err != nil {
		return nil, err
	}
	if _, err := p.packagesOf(s, *q.UID, q.Package); err != nil {
		return nil, err
	}
	if q.Lang != "" && q.Lang != "en" && q.Lang != "zh-CN" {
		return nil, InvalidParams("lang", "unsupported language %q (en, zh-CN)", q.Lang)
	}
	res, err := p.eng.Request(*q.UID, q.Package, cat, q.Lang)
	if err != nil {
		return nil, grantError(err)
	}
	return wire.Request(res), nil
}

// toGrant checks identity fields and resolves user and uid.
func (p *grantsPart) toGrant(s *Service, q protocol.GrantParams) (grants.Grant, error) {
	g := grants.Grant{Package: q.Package, Category: q.Category, Decision: q.Decision, Time: grants.TimeRule(q.Time), Frequency: (*grants.Frequency)(q.Frequency), Precision: grants.Precision(q.Precision)}
	if g.Decision == "" {
		g.Decision = grants.Allow
	}
	if q.User != nil {
		if *q.User < 0 {
			return g, InvalidParams("user", "negative user id %d", *q.User)
		}
		g.User = *q.User
	}
	if q.UID != nil {
		if *q.UID < 0 {
			return g, InvalidParams("uid", "negative uid %d", *q.UID)
		}
		if q.User != nil && grants.UserOf(*q.UID) != *q.User {
			return g, InvalidParams("user", "uid %d belongs to user %d, not %d", *q.UID, grants.UserOf(*q.UID), *q.User)
		}
		g.UID, g.User = *q.UID, grants.UserOf(*q.UID)
		if g.Package != "" {
			if _, err := p.packagesOf(s, g.UID, g.Package); err != nil {
				return g, err
			}
		}
	} else if r := p.id.resolver; r != nil && g.Package != "" && grants.ValidPackage(g.Package) {
		uid, known := r.UIDOf(g.Package, g.User)
		if !known {
			return g, InvalidParams("package", "no package %q is installed for user %d", g.Package, g.User)
		}
		g.UID = uid
	}
	return g, nil
}

func (p *grantsPart) decide(ctx context.Context, s *Service, c *Call) (any, error) {
	var q protocol.GrantParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.RequestID == "" && q.UID == nil {
		return nil, InvalidParams("request_id", "missing: name the pending request (or the app's uid)")
	}
	g, err := p.toGrant(s, q)
	if err != nil {
		return nil, err
	}
	out, err := p.eng.Decide(ctx, q.RequestID, g)
	if errors.Is(err, grants.ErrNotFound) {
		return nil, NotFound("no pending request %q (unknown or older than ask_ttl)", q.RequestID)
	}
	if err != nil {
		return nil, grantError(err)
	}
	return protocol.GrantResult{Grant: wire.Grant(out)}, nil
}

// decisionDetail is a grant_decision record's detail, in the keys
// rules.json defines: option (the time mode, or "deny"), duration_ms,
// expires_ms, max_per_hour (when the cap is per minute or hour; other
// windows are in the grant_change record), precision.
func decisionDetail(g grants.Grant) json.RawMessage {
	d := map[string]any{"option": g.Time.Mode}
	if g.Decision == grants.Deny {
		d["option"] = "deny"
		return detailJSON(d)
	}
	if g.Time.Mode == grants.ModeDuration {
		if v, err := time.ParseDuration(g.Time.For); err == nil {
			d["duration_ms"] = v.Milliseconds()
		}
	}
	if end := g.Ends(); !end.IsZero() {
		d["expires_ms"] = end.UnixMilli()
	}
	if f := g.Frequency; f != nil {
		switch f.Per {
		case "minute":
			d["max_per_hour"] = f.Max * 60
		case "hour":
			d["max_per_hour"] = f.Max
		}
	}
	prec := g.Precision.Level
	if g.Precision.RadiusM > 0 {
		prec += " " + strconv.Itoa(g.Precision.RadiusM) + "m"
	}
	d["precision"] = prec
	return detailJSON(d)
}

// changeRecords are the records of a change: a grant_change record
// saying who (by), what it was (from) and what it is now (to), the
// action as reason, and when it ends; and for the user's dialog choice
// (perm.decide) also its grant_decision record. A grant whose app uid is
// unknown (set by package name without a package list) is recorded
// under uid 0; from and to name the package.
func changeRecords(cat *grants.Catalogue, c grants.Change) []ledger.Record {
	detail := map[string]any{"by": c.By, "reason": c.Action}
	if c.Reason != "" {
		detail["reason"] = c.Reason
	}
	switch c.Action {
	case grants.ActionSet:
		detail["to"] = c.Grant.Summary()
		if c.Prev != nil {
			detail["from"] = c.Prev.Summary()
		}
		if end := c.Grant.Ends(); !end.IsZero() {
			detail["expires_ms"] = end.UnixMilli()
		}
	default:
		detail["from"] = c.Grant.Summary()
	}
	recs := []ledger.Record{{Time: c.At, UID: c.Grant.UID, Kind: "grant_change", Category: c.Grant.Category, Detail: detailJSON(detail)}}
	if c.By == grants.ByDialog && c.Action == grants.ActionSet {
		g := c.Grant
		recs = append(recs, ledger.Record{
			Time: g.Set, UID: g.UID, Kind: "grant_decision", Category: g.Category,
			Result: cat.Result(g), Detail: decisionDetail(g),
		})
	}
	return recs
}

func detailJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// actorBy names who made a change from the caller's role.
func actorBy(r Role) string {
	if r == RoleSettings {
		return grants.BySettings
	}
	return grants.ByShell
}

func (p *grantsPart) set(ctx context.Context, s *Service, c *Call) (any, error) {
	var q protocol.GrantParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.RequestID != "" {
		return nil, InvalidParams("request_id", "only perm.decide takes a request id")
	}
	g, err := p.toGrant(s, q)
	if err != nil {
		return nil, err
	}
	out, err := p.eng.Set(ctx, g, actorBy(c.Actor.Role))
	if err != nil {
		return nil, grantError(err)
	}
	return protocol.GrantResult{Grant: wire.Grant(out)}, nil
}

// checkKey checks the key of grants.get, grants.revoke and
// perm.android_revoked. The latter two decode grants.get's params (a
// superset of theirs) so that a history limit sent to them is named as
// belonging to grants.get rather than reported as an unknown field.
func (p *grantsPart) checkKey(q protocol.GrantsGetParams) error {
	if q.User < 0 {
		return InvalidParams("user", "negative user id %d", q.User)
	}
	if !grants.ValidPackage(q.Package) {
		return InvalidParams("package", "%q is not a valid package name", q.Package)
	}
	_, err := p.resolveCategory(q.Category, "")
	return err
}

func (p *grantsPart) revoke(ctx context.Context, s *Service, c *Call) (any, error) {
	var q protocol.GrantsGetParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.History != 0 {
		return nil, InvalidParams("history", "only grants.get takes a history limit")
	}
	if err := p.checkKey(q); err != nil {
		return nil, err
	}
	g, err := p.eng.Revoke(ctx, q.User, q.Package, q.Category, actorBy(c.Actor.Role))
	if err != nil {
		return nil, grantError(err)
	}
	return protocol.RevokeResult{Revoked: wire.Grant(g)}, nil
}

func (p *grantsPart) get(ctx context.Context, c *Call) (any, error) {
	q := protocol.GrantsGetParams{History: 50}
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if err := p.checkKey(q); err != nil {
		return nil, err
	}
	if q.History < 0 || q.History > 10000 {
		return nil, InvalidParams("history", "%d is outside 0..10000", q.History)
	}
	g, hist, err := p.eng.Get(ctx, q.User, q.Package, q.Category, q.History)
	if err != nil {
		return nil, grantError(err)
	}
	if hist == nil {
		hist = []grants.HistoryEntry{}
	}
	return protocol.GrantsGetResult{Grant: wire.GrantPtr(g), History: wire.List(hist, wire.History)}, nil
}

func (p *grantsPart) list(c *Call) (any, error) {
	var q protocol.GrantsListParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.Category != "" {
		if _, err := p.resolveCategory(q.Category, ""); err != nil {
			return nil, err
		}
	}
	if q.Package != "" && !grants.ValidPackage(q.Package) {
		return nil, InvalidParams("package", "%q is not a valid package name", q.Package)
	}
	return protocol.GrantsListResult{Grants: wire.List(p.eng.List(grants.Filter{User: q.User, Package: q.Package, Category: q.Category, UID: q.UID}), wire.Grant)}, nil
}

func (p *grantsPart) catalogue(c *Call) (any, error) {
	var q protocol.CatalogueParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	switch q.Lang {
	case "":
		return wire.Catalogue(p.eng.Catalogue()), nil
	case "en", "zh-CN":
		return wire.Catalogue(p.eng.Catalogue().Localized(q.Lang)), nil
	}
	return nil, InvalidParams("lang", "unsupported language %q (en, zh-CN)", q.Lang)
}

func (p *grantsPart) appState(s *Service, c *Call) (any, error) {
	var q protocol.AppStateParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.UID == nil || *q.UID < 0 {
		return nil, InvalidParams("uid", "missing or negative")
	}
	if !grants.ValidState(q.State) {
		return nil, InvalidParams("state", "unknown state %q (foreground, visible, background, not_running)", q.State)
	}
	p.eng.ReportState(*q.UID, q.State)
	p.id.states.ReportAppState(*q.UID, q.State)
	return protocol.Empty{}, nil
}

// FudgeResult is loc.fudge's answer.
type FudgeResult = protocol.FudgeResult

func (p *grantsPart) fudge(s *Service, c *Call) (any, error) {
	var q protocol.FudgeParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.UID == nil {
		return nil, InvalidParams("uid", "missing")
	}
	if q.Lat == nil || math.IsNaN(*q.Lat) || *q.Lat < -90 || *q.Lat > 90 {
		return nil, InvalidParams("lat", "missing or outside -90..90")
	}
	if q.Lon == nil || math.IsNaN(*q.Lon) || *q.Lon < -180 || *q.Lon > 180 {
		return nil, InvalidParams("lon", "missing or outside -180..180")
	}
	if q.AccuracyM < 0 || math.IsNaN(q.AccuracyM) {
		return nil, InvalidParams("accuracy_m", "negative")
	}
	pkgs, err := p.packagesOf(s, *q.UID, q.Package)
	if err != nil {
		return nil, err
	}
	g, lvl, ok := p.eng.Current(*q.UID, pkgs, "location")
	if !ok || g.Decision != grants.Allow {
		return nil, Errorf(CodeConflict, "no location grant allows uid %d a location", *q.UID)
	}
	lat, lon, acc := p.fudger.Fudge(grants.UserOf(*q.UID), *q.Lat, *q.Lon, float64(lvl.RadiusM), q.AccuracyM)
	return protocol.FudgeResult{Lat: lat, Lon: lon, AccuracyM: acc, RadiusM: lvl.RadiusM, Level: lvl.ID}, nil
}

// timeZone is time.zone: the framework tells permd the device's zone
// changed (ACTION_TIMEZONE_CHANGED). It applies from the next decision,
// without a restart; nothing stored depends on the zone, so nothing is
// lost. With no params it only reports the zone in force.
func (p *grantsPart) timeZone(s *Service, c *Call) (any, error) {
	var q protocol.TimeZoneParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	prev := p.eng.Zone().String()
	if q.Zone == nil {
		return protocol.TimeZoneResult{Zone: prev}, nil
	}
	if *q.Zone == "" || *q.Zone == "Local" {
		return nil, InvalidParams("zone", "want an IANA zone name such as Asia/Shanghai, got %q", *q.Zone)
	}
	loc, err := time.LoadLocation(*q.Zone)
	if err != nil {
		return nil, InvalidParams("zone", "unknown time zone %q", *q.Zone)
	}
	p.eng.SetZone(loc)
	if prev != loc.String() {
		s.log.Info("grants: device time zone changed", "from", prev, "to", loc.String())
	}
	return protocol.TimeZoneResult{Zone: loc.String(), Previous: prev}, nil
}

// appRemoved is app.removed: the framework saw a package removed for one
// user (ACTION_PACKAGE_FULLY_REMOVED, or ACTION_PACKAGE_REMOVED without
// EXTRA_REPLACING, whose EXTRA_UID names the user). packages.list keeps
// listing a package while any user has it, so a removal for one user of
// a multi-user device reaches permd only this way. The user's grants for
// the package are revoked as for an uninstall.
func (p *grantsPart) appRemoved(ctx context.Context, c *Call) (any, error) {
	var q protocol.AppRemovedParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.UID == nil || *q.UID < 0 {
		return nil, InvalidParams("uid", "missing or negative")
	}
	if !grants.ValidPackage(q.Package) {
		return nil, InvalidParams("package", "%q is not a valid package name", q.Package)
	}
	revoked := p.eng.Removed(ctx, grants.UserOf(*q.UID), q.Package)
	out := make([]protocol.Grant, len(revoked))
	for i, ch := range revoked {
		out[i] = wire.Grant(ch.Grant)
	}
	return protocol.AppRemovedResult{Revoked: out}, nil
}
