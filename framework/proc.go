package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"permd/aosp/logd"
	"permd/aosp/packages"
	"permd/framework/process"
	"permd/framework/protocol"
	"permd/ledger"
)

// ProcessFile is process tracking's config file in the config dir
// (process.File; process.Compile validates it).
const ProcessFile = process.ConfigFile

// processConfig reads process.json from snap.
func processConfig(snap *Snapshot) (process.Settings, error) {
	return partConfig(snap, ProcessFile, process.Compile)
}

// procPart wires process tracking into the service: the process table
// (procfs, netlink), the logd event log, framework reports, and start
// records in the ledger. Package identity is the identity part's.
type procPart struct {
	id        *identityPart  // packages, app uids; the app-state table the tracker feeds
	ledger    *ledgerPart    // records starts
	indicator *indicatorPart // told of every app process death

	cfg atomic.Pointer[process.Settings]

	tracker *process.Tracker // nil when <root>/proc is unreadable
	logdr   *logd.Reader
	corr    *process.Correlator // framework-only fallback without procfs
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	recorded   sync.Map // kind → *atomic.Uint64
	foreground atomic.Uint64
}

func (p *procPart) name() string { return "proc" }

func (p *procPart) prepare(s *Service, snap *Snapshot) (func(), error) {
	cfg, err := processConfig(snap)
	if err != nil {
		return nil, err
	}
	return func() {
		if old := p.cfg.Load(); old != nil && p.cancel != nil && !reflect.DeepEqual(*old, cfg) {
			s.log.Info("process.json changed; the new settings take effect at the next daemon start")
		}
		p.cfg.Store(&cfg)
	}, nil
}

func (p *procPart) start(ctx context.Context, s *Service) error {
	cfg := p.cfg.Load()
	log := s.log.With("part", "proc")
	ctx, p.cancel = context.WithCancel(context.Background())
	w := p.id.pkgs

	pc := cfg.Config
	tr, err := process.NewTracker(process.Options{
		Mount: s.Path("/proc"), Config: pc, IsApp: p.id.isApp, Resolve: w.UIDOf,
		Emit:   func(st process.Start) { p.record(s, st) },
		OnExit: func(pr process.Proc) { p.died(s, pr) },
		Log:    log, Now: s.Now,
	})
	if err != nil {
		if pc.Mode == process.ModeNetlink {
			p.stop(s)
			return fmt.Errorf("process tracking: %w", err)
		}
		log.Warn("process table unavailable; only framework reports are tracked", "err", err)
	} else {
		p.tracker = tr
		p.id.table.tracker.Store(tr)
		p.wg.Add(1)
		go func() { defer p.wg.Done(); tr.Run(ctx) }()
		log.Info("process tracking", "mode", tr.Mode(), "processes", tr.Table().Len(), "host_mode", p.id.hostApps != nil)
	}
	p.corr = &process.Correlator{Window: pc.Window, Emit: func(st process.Start) { p.record(s, st) }, Resolve: w.UIDOf}

	if cfg.Logd {
		tags, err := logd.LoadTags(s.Path("/system/etc/event-log-tags"))
		if err != nil {
			log.Warn("event-log-tags unreadable; using built-in tag numbers", "err", err)
		}
		p.logdr = &logd.Reader{Path: s.Path("/dev/socket/logdr"), Tags: tags, Log: log}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.logdr.Run(ctx, func(ev logd.Event) {
				if p.tracker != nil {
					if err := p.tracker.HandleLogd(ev); err != nil {
						log.Debug("undecodable event", "tag", ev.Tag, "err", err)
					}
					return
				}
				p.logdWithoutProcfs(ev)
			})
		}()
	}
	return nil
}

// logdWithoutProcfs turns am_proc_start into an observation when there
// is no process table to correlate with.
func (p *procPart) logdWithoutProcfs(ev logd.Event) {
	d, err := logd.Decode(ev)
	if err != nil {
		return
	}
	if ps, ok := d.(logd.ProcStart); ok {
		reason, ok := process.NormalizeReason(ps.HostingType)
		if !ok {
			reason = "other"
		}
		p.observe(process.Observation{Source: process.SourceLogd, Time: ev.Time, UID: ps.UID, PID: ps.PID, Process: ps.Process,
			Reason: reason, Component: ps.Component, CallerUID: -1, AppState: p.id.table.AppState(ps.UID)})
	}
}

func (p *procPart) observe(o process.Observation) {
	if p.tracker != nil {
		p.tracker.Observe(o)
		return
	}
	if o.AppState == "" {
		o.AppState = p.id.table.AppState(o.UID)
	}
	if o.Time.IsZero() {
		o.Time = time.Now()
	}
	// Without procfs there is one source at most per start and nothing
	// to wait for.
	p.corr.Observe(o)
	p.corr.Flush(o.Time, true)
}

func (p *procPart) stop(s *Service) {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

// record hands a classified start to the ledger.
func (p *procPart) record(s *Service, st process.Start) {
	if st.Kind == "" {
		p.foreground.Add(1)
		return
	}
	c, _ := p.recorded.LoadOrStore(st.Kind, new(atomic.Uint64))
	c.(*atomic.Uint64).Add(1)
	p.ledger.l.Enqueue(startRecord(st))
}

// startRecord builds the ledger record; the detail carries only the
// fields the published rules list for the kind, and only fields that are
// the same for repeats of the same start.
func startRecord(st process.Start) ledger.Record {
	d := map[string]any{"reason": st.Reason, "sources": st.Sources}
	if st.Component != "" {
		d["component"] = st.Component
	}
	if st.Process != "" {
		d["process"] = st.Process
	}
	// No pid: it means nothing to a person, and it would make every
	// start of a storm unique, defeating the rules' coalescing (7,000
	// self-starts in an hour must cost at most 60 rows, not 7,000).
	if st.Conflict != "" {
		d["conflict"] = st.Conflict
	}
	if st.Kind == process.KindAssociated {
		if st.Caller != "" {
			d["caller"] = st.Caller
		}
		if st.CallerUID >= 0 {
			d["caller_uid"] = st.CallerUID
		}
	}
	detail, _ := json.Marshal(d)
	return ledger.Record{Time: st.Time, UID: st.UID, Kind: st.Kind, Category: "process", AppState: st.AppState, Detail: detail}
}

// died tells the indicator (and Options.OnProcessDied) of every app
// process that exits, and once more with pid 0 when no process of the
// uid is left, so that the indicator ends the uses of a dead app. It is
// called from the tracker's goroutines and does not block.
func (p *procPart) died(s *Service, pr process.Proc) {
	if !p.id.isApp(pr.UID) {
		return
	}
	tell := func(uid, pid int) {
		p.indicator.processDied(uid, pid)
		if hook := s.opt.OnProcessDied; hook != nil {
			hook(uid, pid)
		}
	}
	tell(pr.UID, pr.PID)
	if p.tracker != nil && len(p.tracker.Table().List(pr.UID)) == 0 {
		tell(pr.UID, 0)
	}
}

func (p *procPart) health() map[string]any {
	h := map[string]any{}
	if w := p.id.pkgs; w != nil {
		h["packages"] = w.Table().Len()
	}
	if p.tracker != nil {
		h["tracker"] = p.tracker.Stats()
	} else {
		h["tracker"] = "unavailable"
	}
	if p.logdr != nil {
		h["logd"] = p.logdr.Stats()
	}
	rec := map[string]uint64{}
	p.recorded.Range(func(k, v any) bool { rec[k.(string)] = v.(*atomic.Uint64).Load(); return true })
	h["recorded"] = rec
	h["foreground_in_app_starts"] = p.foreground.Load()
	return h
}

func (p *procPart) methods(s *Service) []Method {
	fw := []Role{RoleFramework, RoleRoot}
	return []Method{
		{Name: protocol.MethodProcReport, Roles: fw, Handler: p.report},
		{Name: protocol.MethodProcList, Roles: Readers, Handler: p.list},
	}
}

// ReportParams are proc.report's params.
type ReportParams = protocol.ProcReportParams

func (p *procPart) report(ctx context.Context, c *Call) (any, error) {
	var q ReportParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.UID == nil || *q.UID < 0 {
		return nil, InvalidParams("uid", "missing or negative")
	}
	if q.PID < 0 {
		return nil, InvalidParams("pid", "negative pid %d", q.PID)
	}
	reason, ok := process.NormalizeReason(q.Reason)
	if !ok {
		return nil, InvalidParams("reason", "unknown reason %q (known: %s)", q.Reason, strings.Join(process.Reasons(), ", "))
	}
	if q.Component != "" && !validComponent(q.Component) {
		return nil, InvalidParams("component", "%q is not pkg/class", q.Component)
	}
	if q.Caller != "" {
		if _, err := packages.ParseLine(q.Caller + " 0"); err != nil {
			return nil, InvalidParams("caller", "%q is not a package name", q.Caller)
		}
	}
	cu := -1
	if q.CallerUID != nil {
		if *q.CallerUID < 0 {
			return nil, InvalidParams("caller_uid", "negative uid %d", *q.CallerUID)
		}
		cu = *q.CallerUID
	}
	if q.TimeMS < 0 {
		return nil, InvalidParams("time_ms", "negative time")
	}
	o := process.Observation{Source: process.SourceFramework, UID: *q.UID, PID: q.PID, Process: q.Process, Reason: reason,
		Component: q.Component, Caller: q.Caller, CallerUID: cu}
	if q.TimeMS > 0 {
		o.Time = time.UnixMilli(q.TimeMS)
	}
	p.observe(o)
	return protocol.ProcReportResult{Accepted: true}, nil
}

func validComponent(s string) bool {
	pkg, cls, ok := strings.Cut(s, "/")
	if !ok || cls == "" || strings.ContainsAny(cls, " \t\n") {
		return false
	}
	_, err := packages.ParseLine(pkg + " 0")
	return err == nil
}

// ProcEntry is one process in proc.list.
type ProcEntry = protocol.ProcEntry

func (p *procPart) list(ctx context.Context, c *Call) (any, error) {
	var q protocol.ProcListParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if p.tracker == nil {
		return nil, Errorf(CodeUnavailable, "process table unavailable: no readable procfs under the root")
	}
	uid := -1
	if q.UID != nil {
		if *q.UID < 0 {
			return nil, InvalidParams("uid", "negative uid %d", *q.UID)
		}
		uid = *q.UID
	}
	if q.Package != "" {
		if _, ok := p.id.pkgs.Table().Package(q.Package); !ok {
			return nil, NotFound("no package %q", q.Package)
		}
	}
	out := []ProcEntry{}
	for _, pr := range p.tracker.Table().List(uid) {
		names := p.id.pkgs.Packages(pr.UID)
		if q.Package != "" && !slices.Contains(names, q.Package) {
			continue
		}
		if q.AppsOnly && len(names) == 0 {
			continue
		}
		// kthreadd (pid 2) and its children are kernel threads, never an
		// app's process, even when their uid (0) names a package, as in
		// a host demo run as root.
		if q.AppsOnly && (pr.PID == 2 || pr.PPID == 2) {
			continue
		}
		e := ProcEntry{PID: pr.PID, PPID: pr.PPID, UID: pr.UID, User: packages.UserID(pr.UID), Name: pr.Name, StartTicks: pr.Start, Packages: names}
		if e.Packages == nil {
			e.Packages = []string{}
		}
		if pr.HasOom {
			adj := pr.OomScoreAdj
			e.OomScoreAdj = &adj
			e.Band = process.Band(adj)
		}
		if len(names) > 0 {
			e.AppState = p.tracker.AppState(pr.UID)
		}
		out = append(out, e)
	}
	return protocol.ProcListResult{Mode: p.tracker.Mode(), Processes: out}, nil
}
