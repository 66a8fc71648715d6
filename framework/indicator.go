package framework

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"permd/framework/protocol"
	"permd/indicator"
	"permd/ledger"
)

// IndicatorFile is the indicator's config file in the config dir.
const IndicatorFile = "indicator.json"

// indicatorPart wires the Art. 31 indicator into the service: op.start,
// op.finish, op.heartbeat and proc.died feed it; indicator.get and
// indicator.subscribe show it. The engine itself (package indicator)
// knows nothing of sockets.
//
// For process tracking: call processDied(uid, pid) for every app process
// death (am_proc_died, am_kill, a vanished /proc entry) and
// processDied(uid, 0) when no process of the uid is left; the latter also
// ends uses started without a pid. It never blocks.
type indicatorPart struct {
	id     *identityPart // checks the app named against its uid; app states
	ledger *ledgerPart   // records spans; keeps uses in progress durable

	mu  sync.Mutex
	cfg indicator.Config // in force; applied to eng on reload
	eng *indicator.Engine

	// pkgs overrides id.resolver in tests; production reads id.resolver.
	pkgs atomic.Value // of resolverBox

	slots subSlots // subscriber slots per connection and uid (subslots.go)
}

type resolverBox struct{ r PackageResolver }

func (p *indicatorPart) name() string { return "indicator" }

func (p *indicatorPart) prepare(s *Service, snap *Snapshot) (func(), error) {
	cfg, err := partConfig(snap, IndicatorFile, func(f *indicator.File) (indicator.Config, error) { return indicator.Compile(f, s.Path) })
	if err != nil {
		return nil, err
	}
	return func() {
		p.mu.Lock()
		p.cfg = cfg
		eng := p.eng
		p.mu.Unlock()
		if eng != nil {
			eng.Configure(cfg)
		}
	}, nil
}

func (p *indicatorPart) start(ctx context.Context, s *Service) error {
	rec := &rulesFilter{sink: p.ledger.l, rules: p.ledger.rules.Load, log: s.log}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.eng = indicator.New(p.cfg, indicator.Options{
		Clock:          indicator.SystemClock(s.Now),
		MaxSubscribers: maxSubscribers,
		Recorder:       rec,
		Logger:         s.log.With("part", "indicator"),
	})
	return nil
}

func (p *indicatorPart) stop(s *Service) {
	p.mu.Lock()
	eng := p.eng
	p.mu.Unlock()
	if eng != nil {
		eng.Close()
	}
}

func (p *indicatorPart) health() map[string]any {
	p.mu.Lock()
	eng := p.eng
	p.mu.Unlock()
	if eng == nil {
		return map[string]any{"running": false}
	}
	st := eng.Stats()
	return map[string]any{
		"active_uses": st.ActiveUses, "shown_apps": st.ShownApps, "seq": st.Seq,
		"subscribers": st.Subscribers, "timeouts": st.Timeouts, "uses_ended_by_death": st.Deaths,
		"led_errors": st.LEDErrors, "coalesced_retries": st.Retries,
	}
}

// processDied ends the uses of a dead process (pid 0: every process of
// the uid) and returns how many ended. Safe to call from any goroutine,
// before start (no-op) and after stop.
func (p *indicatorPart) processDied(uid, pid int) int {
	p.mu.Lock()
	eng := p.eng
	p.mu.Unlock()
	if eng == nil {
		return 0
	}
	return eng.ProcessDied(uid, pid)
}

func (p *indicatorPart) resolver() PackageResolver {
	if b, ok := p.pkgs.Load().(resolverBox); ok {
		return b.r
	}
	return p.id.resolver
}

func (p *indicatorPart) methods(s *Service) []Method {
	writers := []Role{RoleFramework, RoleRoot}
	readers := append([]Role{RoleSystemUI}, Readers...)
	return []Method{
		{Name: protocol.MethodOpStart, Roles: writers, Handler: p.opStart, Fast: true},
		{Name: protocol.MethodOpFinish, Roles: writers, Handler: p.opFinish, Fast: true},
		{Name: protocol.MethodOpHeartbeat, Roles: writers, Handler: p.opHeartbeat, Fast: true},
		{Name: protocol.MethodProcDied, Roles: writers, Handler: p.procDied, Fast: true},
		{Name: protocol.MethodIndicatorGet, Roles: readers, Handler: p.get, Fast: true},
		{Name: protocol.MethodIndicatorSubscribe, Roles: readers, Handler: p.subscribe, Fast: true},
	}
}

func (p *indicatorPart) opStart(ctx context.Context, c *Call) (any, error) {
	var in protocol.OpStartParams
	if err := decodeOpStart(c.Params, &in); err != nil {
		return nil, err
	}
	if in.Resource == "" {
		return nil, InvalidParams("resource", "missing")
	}
	if in.UID == nil {
		return nil, InvalidParams("uid", "missing: the uid of the app using the resource")
	}
	req := indicator.StartRequest{
		Resource: in.Resource,
		App:      indicator.Party{UID: *in.UID, Package: in.Package, PID: in.PID},
		Op:       in.Op,
	}
	for i, v := range in.Via {
		if v.UID == nil {
			return nil, InvalidParams("via["+strconv.Itoa(i)+"].uid", "missing")
		}
		req.Via = append(req.Via, indicator.Party{UID: *v.UID, Package: v.Package, PID: v.PID})
	}
	if err := indicator.Validate(&req); err != nil {
		return nil, indicatorError(err)
	}
	// The app shown must be the one that runs under the uid: a caller
	// that confuses the two would show the user the wrong app.
	if r := p.resolver(); r != nil {
		if pkgs := r.Packages(req.App.UID); len(pkgs) > 0 && !slices.Contains(pkgs, req.App.Package) {
			return nil, InvalidParams("package", "%q does not run under uid %d (its packages: %v)", req.App.Package, req.App.UID, pkgs)
		}
	}
	// Only the codes the rules know: an unexpected value would get the
	// use's record rejected.
	switch v := p.id.states.AppState(req.App.UID); v {
	case "foreground", "visible", "background", "not_running":
		req.AppState = v
	}
	res, err := p.eng.Start(req)
	if err != nil {
		return nil, indicatorError(err)
	}
	// The use is kept durable before it is acknowledged, so that a crash
	// right after cannot lose it (it is then recorded as ended by the
	// restart). The reply waits for that commit; the connection does not
	// (op.start is Fast): the server settles the Deferred on a goroutine
	// of its own. A flush that fails (storage failing) does not fail the
	// use: the indicator is shown either way.
	if res.Indicated {
		yieldCPU() // let subscribers woken by the change read it first
	}
	return &Deferred{Wait: func() (any, error) {
		p.ledger.l.Flush(context.WithoutCancel(ctx))
		return protocol.OpStartResult(res), nil
	}}, nil
}

func (p *indicatorPart) opFinish(ctx context.Context, c *Call) (any, error) {
	var in protocol.OpFinishParams
	if err := DecodeParams(c.Params, &in); err != nil {
		return nil, err
	}
	if in.Use == nil {
		return nil, InvalidParams("use", "missing: the id op.start returned")
	}
	seq, err := p.eng.Finish(*in.Use)
	if err != nil {
		return nil, indicatorError(err)
	}
	return protocol.SeqResult{Seq: seq}, nil
}

// maxHeartbeat bounds one heartbeat's list (the engine holds at most a
// few thousand uses anyway).
const maxHeartbeat = 4096

func (p *indicatorPart) opHeartbeat(ctx context.Context, c *Call) (any, error) {
	var in protocol.OpHeartbeatParams
	if err := DecodeParams(c.Params, &in); err != nil {
		return nil, err
	}
	if len(in.Uses) == 0 {
		return nil, InvalidParams("uses", "missing or empty: the ids of the uses still running")
	}
	if len(in.Uses) > maxHeartbeat {
		return nil, InvalidParams("uses", "%d ids, at most %d", len(in.Uses), maxHeartbeat)
	}
	active, ended, err := p.eng.Heartbeat(in.Uses)
	if err != nil {
		return nil, indicatorError(err)
	}
	return protocol.OpHeartbeatResult{Active: active, Ended: ended}, nil
}

func (p *indicatorPart) procDied(ctx context.Context, c *Call) (any, error) {
	var in protocol.ProcDiedParams
	if err := DecodeParams(c.Params, &in); err != nil {
		return nil, err
	}
	if in.UID == nil {
		return nil, InvalidParams("uid", "missing")
	}
	if *in.UID < 0 {
		return nil, InvalidParams("uid", "negative uid %d", *in.UID)
	}
	if in.PID < 0 {
		return nil, InvalidParams("pid", "negative pid %d", in.PID)
	}
	return protocol.ProcDiedResult{Ended: p.processDied(*in.UID, in.PID)}, nil
}

func (p *indicatorPart) get(ctx context.Context, c *Call) (any, error) {
	if err := DecodeParams(c.Params, &protocol.NoParams{}); err != nil {
		return nil, err
	}
	return protocol.Encoded[protocol.IndicatorSnapshot](p.eng.Snapshot().JSON()), nil
}

// subscribe replies with the snapshot and then sends indicator.changed
// with every later snapshot, coalesced: a subscriber that does not read
// fills its own queue, after which it is offered the latest snapshot
// again until it reads or the connection closes.
func (p *indicatorPart) subscribe(ctx context.Context, c *Call) (any, error) {
	if err := DecodeParams(c.Params, &protocol.NoParams{}); err != nil {
		return nil, err
	}
	release, err := p.slots.take(c.Actor, c.Done)
	if err != nil {
		return nil, Errorf(CodeOverloaded, "%s", err.Error())
	}
	if c.Subscribe != nil {
		c.Subscribe()
	}
	// Notify only queues (it fails when the queue is full), so the
	// engine may call it on the goroutine that made the change.
	sub, snap, err := p.eng.SubscribeInline(func(s *indicator.Snapshot) error {
		// The snapshot goes as the json.RawMessage it was encoded into
		// once, which the connection copies without re-encoding.
		return c.Notify(protocol.NoteIndicatorChanged, s.JSON())
	})
	if err != nil {
		release()
		return nil, indicatorError(err)
	}
	go func() {
		select {
		case <-c.Done:
		case <-sub.Done():
		}
		sub.Close()
		release()
	}()
	return protocol.Encoded[protocol.IndicatorSnapshot](snap.JSON()), nil
}

// indicatorError maps engine errors onto wire errors.
func indicatorError(err error) error {
	var fe *indicator.FieldError
	var ue *indicator.UnknownUseError
	var ee *indicator.EndedError
	switch {
	case errors.As(err, &fe):
		return InvalidParams(fe.Field, "%s", fe.Problem)
	case errors.As(err, &ue):
		return NotFound("%s", ue.Error())
	case errors.As(err, &ee):
		return Errorf(CodeConflict, "%s", ee.Error())
	case errors.Is(err, indicator.ErrFull), errors.Is(err, indicator.ErrTooManySubscribers):
		return Errorf(CodeOverloaded, "%s", err.Error())
	case errors.Is(err, indicator.ErrClosed):
		return Errorf(CodeUnavailable, "permd is stopping")
	}
	return err
}

// rulesFilter hands the indicator's records to the ledger with detail
// keys the recording rules in force do not list removed, so that a key
// the engine records before the published rules name it costs that key
// (logged once), never the record: the ledger rejects a whole report
// with an unlisted key.
type rulesFilter struct {
	sink   indicator.UseRecorder
	rules  func() *ledger.Rules
	log    *slog.Logger
	warned sync.Map // "kind.key" → true

	// complete caches, for the rules last seen, the kinds whose every
	// possible detail key the rules list: their records pass untouched.
	mu       sync.Mutex
	seen     *ledger.Rules
	complete map[string]bool
}

var _ indicator.UseRecorder = (*rulesFilter)(nil)

// passes reports whether every detail key the engine may write for kind
// is listed by r.
func (f *rulesFilter) passes(r *ledger.Rules, kind string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen != r {
		f.seen, f.complete = r, map[string]bool{}
		for kd, keys := range indicator.DetailKeys {
			k := r.Kind(kd)
			f.complete[kd] = k != nil && !slices.ContainsFunc(keys, func(key string) bool { return !slices.Contains(k.Detail, key) })
		}
	}
	return f.complete[kind]
}

func (f *rulesFilter) Enqueue(recs ...ledger.Record) {
	f.filter(recs)
	f.sink.Enqueue(recs...)
}

// EnqueueUses passes uses in progress on to the ledger, their records
// filtered as Enqueue's are.
func (f *rulesFilter) EnqueueUses(open []ledger.OpenUse, closed []uint64, recs ...ledger.Record) {
	for i := range open {
		f.filter(open[i].Recs)
	}
	f.filter(recs)
	f.sink.EnqueueUses(open, closed, recs...)
}

// filter removes, in place, detail keys the rules in force do not list.
func (f *rulesFilter) filter(recs []ledger.Record) {
	r := f.rules()
	if r == nil {
		return
	}
	for i := range recs {
		k := r.Kind(recs[i].Kind)
		if k == nil || len(recs[i].Detail) == 0 || f.passes(r, recs[i].Kind) {
			continue
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(recs[i].Detail, &m) != nil {
			continue
		}
		cut := false
		for key := range m {
			if !slices.Contains(k.Detail, key) {
				delete(m, key)
				cut = true
				if _, seen := f.warned.LoadOrStore(recs[i].Kind+"."+key, true); !seen {
					f.log.Warn("indicator: recording rules do not list this detail; it is left out of the record", "kind", recs[i].Kind, "detail", key)
				}
			}
		}
		if cut {
			if len(m) == 0 {
				recs[i].Detail = nil
			} else {
				recs[i].Detail, _ = json.Marshal(m)
			}
		}
	}
}
