package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// ProcessFile is process tracking's config file in the config dir.
const ProcessFile = "process.json"

// processConfig is process.json.
type processConfig struct {
	// Mode: auto (netlink where the kernel allows it, else poll), netlink, poll.
	Mode           string   `json:"mode"`
	PollInterval   Duration `json:"poll_interval"`
	StateInterval  Duration `json:"state_interval"`
	ResyncInterval Duration `json:"resync_interval"`
	Window         Duration `json:"window"`
	// Logd reads the event log from <root>/dev/socket/logdr.
	Logd *bool `json:"logd"`
	// HostPackages stands in for packages.list when <root>/data/system/
	// packages.list does not exist (a Linux host): uid → packages. Those
	// uids count as apps, so their processes' starts are tracked.
	HostPackages map[string][]string `json:"host_packages"`

	logd bool
	host map[int][]string
}

func defaultProcessConfig() *processConfig {
	d := process.DefaultConfig()
	return &processConfig{
		Mode: d.Mode, PollInterval: Duration(d.PollInterval), StateInterval: Duration(d.StateInterval),
		ResyncInterval: Duration(d.ResyncInterval), Window: Duration(d.Window), logd: true, host: map[int][]string{},
	}
}

func parseProcessConfig(snap *Snapshot) (*processConfig, error) {
	cfg := defaultProcessConfig()
	raw, ok := snap.File(ProcessFile)
	if !ok {
		return cfg, nil
	}
	if err := DecodeFile(ProcessFile, "", raw, cfg); err != nil {
		return nil, err
	}
	bad := func(field, format string, args ...any) error {
		return &ConfigError{File: ProcessFile, Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	switch cfg.Mode {
	case process.ModeAuto, process.ModeNetlink, process.ModePoll:
	default:
		return nil, bad("mode", "%q is not auto, netlink or poll", cfg.Mode)
	}
	for _, d := range []struct {
		name   string
		v      Duration
		lo, hi time.Duration
	}{
		{"poll_interval", cfg.PollInterval, 100 * time.Millisecond, time.Hour},
		{"state_interval", cfg.StateInterval, 100 * time.Millisecond, time.Hour},
		{"resync_interval", cfg.ResyncInterval, time.Second, 24 * time.Hour},
		{"window", cfg.Window, 50 * time.Millisecond, time.Minute},
	} {
		if v := time.Duration(d.v); v < d.lo || v > d.hi {
			return nil, bad(d.name, "%v is outside %v..%v", v, d.lo, d.hi)
		}
	}
	if cfg.Logd != nil {
		cfg.logd = *cfg.Logd
	}
	for k, names := range cfg.HostPackages {
		uid, err := strconv.Atoi(k)
		if err != nil || uid < 0 {
			return nil, bad("host_packages."+k, "key is not a uid")
		}
		for _, n := range names {
			if _, err := packages.ParseLine(n + " " + k); err != nil {
				return nil, bad("host_packages."+k, "%q is not a package name", n)
			}
		}
		cfg.host[uid] = names
	}
	return cfg, nil
}

// procPart wires process tracking into the service: package identity
// (packages.list), the process table (procfs, netlink), the logd event
// log, framework reports, and start records in the ledger.
type procPart struct {
	cfg atomic.Pointer[processConfig]

	pkgs    *packages.Watcher
	isApp   func(uid int) bool
	tracker *process.Tracker // nil when <root>/proc is unreadable
	logdr   *logd.Reader
	corr    *process.Correlator // framework-only fallback without procfs
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	stmu     sync.Mutex
	reported map[int]string // app.state reports, used without procfs

	recorded   sync.Map // kind → *atomic.Uint64
	foreground atomic.Uint64
	noSink     atomic.Uint64
}

func (p *procPart) prepare(s *Service, snap *Snapshot) (func(), error) {
	cfg, err := parseProcessConfig(snap)
	if err != nil {
		return nil, err
	}
	return func() {
		if old := p.cfg.Load(); old != nil && p.cancel != nil && !sameProcessConfig(old, cfg) {
			s.log.Info("process.json changed; the new settings take effect at the next daemon start")
		}
		p.cfg.Store(cfg)
	}, nil
}

func sameProcessConfig(a, b *processConfig) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func (p *procPart) start(ctx context.Context, s *Service) error {
	cfg := p.cfg.Load()
	if cfg == nil {
		cfg = defaultProcessConfig()
	}
	log := s.log.With("part", "proc")
	ctx, p.cancel = context.WithCancel(context.Background())
	p.reported = map[int]string{}

	// Identity first: everything after it names apps.
	listPath := s.Path("/data/system/packages.list")
	w, err := packages.Watch(ctx, listPath, packages.FromMap(cfg.host), log)
	if err != nil {
		p.cancel()
		return fmt.Errorf("packages: %w", err)
	}
	p.pkgs = w
	_, listErr := os.Stat(listPath)
	hostMode := listErr != nil
	// Publish the resolver only when there is an identity source: the
	// package manager's directory (on a device it exists from early boot,
	// even before the first packages.list is written) or a host map. With
	// neither, other parts must see "no resolver" (and not "no package
	// is installed"). Hooks an embedder or test set before start win.
	if s.packages == nil {
		if fi, err := os.Stat(filepath.Dir(listPath)); (err == nil && fi.IsDir()) || len(cfg.host) > 0 {
			s.packages = w
		} else {
			log.Info("no package identity source (no packages.list directory, no host_packages); packages stay unresolved", "path", listPath)
		}
	}
	if s.states == nil {
		s.states = p
	}
	isApp := func(uid int) bool {
		if packages.IsApp(uid) {
			return true
		}
		_, ok := cfg.host[uid]
		return hostMode && ok
	}
	p.isApp = isApp

	pc := process.Config{Mode: cfg.Mode, PollInterval: time.Duration(cfg.PollInterval), StateInterval: time.Duration(cfg.StateInterval),
		ResyncInterval: time.Duration(cfg.ResyncInterval), Window: time.Duration(cfg.Window)}
	tr, err := process.NewTracker(process.Options{
		Mount: s.Path("/proc"), Config: pc, IsApp: isApp, Resolve: w.UIDOf,
		Emit:   func(st process.Start) { p.record(s, st) },
		OnExit: func(pr process.Proc) { p.died(s, pr) },
		Log:    log, Now: s.Now,
	})
	if err != nil {
		if cfg.Mode == process.ModeNetlink {
			p.stop(s)
			return fmt.Errorf("process tracking: %w", err)
		}
		log.Warn("process table unavailable; only framework reports are tracked", "err", err)
	} else {
		p.tracker = tr
		p.wg.Add(1)
		go func() { defer p.wg.Done(); tr.Run(ctx) }()
		log.Info("process tracking", "mode", tr.Mode(), "processes", tr.Table().Len(), "host_mode", hostMode)
	}
	p.corr = &process.Correlator{Window: pc.Window, Emit: func(st process.Start) { p.record(s, st) }, Resolve: w.UIDOf}

	if cfg.logd {
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
			Reason: reason, Component: ps.Component, CallerUID: -1, AppState: p.AppState(ps.UID)})
	}
}

func (p *procPart) observe(o process.Observation) {
	if p.tracker != nil {
		p.tracker.Observe(o)
		return
	}
	if o.AppState == "" {
		o.AppState = p.AppState(o.UID)
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
	if p.pkgs != nil {
		p.pkgs.Close()
	}
}

// AppState implements AppStates for the other parts.
func (p *procPart) AppState(uid int) string {
	if p.tracker != nil {
		return p.tracker.AppState(uid)
	}
	p.stmu.Lock()
	defer p.stmu.Unlock()
	return p.reported[uid]
}

// ReportAppState takes a framework app.state report. The app.state
// method row lives in grants.go, which hands every report here through
// its stateReporter interface check on s.states.
func (p *procPart) ReportAppState(uid int, state string) {
	if p.tracker != nil {
		p.tracker.ReportAppState(uid, state)
	}
	p.stmu.Lock()
	p.reported[uid] = state
	p.stmu.Unlock()
}

// The package watcher is the service's package resolver on a device:
// checked here so that a change to either side fails the build rather
// than the wiring.
var _ PackageResolver = (*packages.Watcher)(nil)

// UIDOf resolves a package for an Android user.
func (p *procPart) UIDOf(pkg string, user int) (int, bool) { return p.pkgs.UIDOf(pkg, user) }

// record hands a classified start to the ledger.
func (p *procPart) record(s *Service, st process.Start) {
	if st.Kind == "" {
		p.foreground.Add(1)
		return
	}
	c, _ := p.recorded.LoadOrStore(st.Kind, new(atomic.Uint64))
	c.(*atomic.Uint64).Add(1)
	if s.sink == nil {
		p.noSink.Add(1)
		return
	}
	s.sink.Enqueue(startRecord(st))
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
	if !p.isApp(pr.UID) {
		return
	}
	tell := func(uid, pid int) {
		s.indicator.processDied(uid, pid)
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
	if p.pkgs != nil {
		h["packages"] = p.pkgs.Table().Len()
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
	if n := p.noSink.Load(); n > 0 {
		h["unrecorded_no_ledger"] = n
	}
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
		if _, ok := p.pkgs.Table().Package(q.Package); !ok {
			return nil, NotFound("no package %q", q.Package)
		}
	}
	out := []ProcEntry{}
	for _, pr := range p.tracker.Table().List(uid) {
		names := p.pkgs.Packages(pr.UID)
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
