package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"permd/aosp/logd"
	"permd/aosp/packages"
)

// Modes of following process starts and exits.
const (
	ModeAuto    = "auto"    // netlink where the kernel allows, else poll
	ModeNetlink = "netlink" // kernel process connector only
	ModePoll    = "poll"    // rescan procfs every PollInterval
)

// Config tunes the tracker.
type Config struct {
	Mode string
	// PollInterval is the rescan period in poll mode.
	PollInterval time.Duration
	// StateInterval is how often app processes' oom_score_adj is re-read
	// in netlink mode (the kernel reports forks and exits, not
	// importance changes).
	StateInterval time.Duration
	// ResyncInterval is a full rescan in netlink mode, a safety net for
	// events lost without the kernel saying so.
	ResyncInterval time.Duration
	// Window is how long a start waits for other sources before it is
	// classified and emitted.
	Window time.Duration
	// Coalesce is the pause after each batch of kernel events in
	// netlink mode: events queue in the socket meanwhile and are read
	// in one wake-up. Wake-ups, not events, are what idle CPU pays for.
	Coalesce time.Duration
}

// DefaultConfig is the built-in configuration.
func DefaultConfig() Config {
	return Config{Mode: ModeAuto, PollInterval: 2 * time.Second, StateInterval: 2 * time.Second, ResyncInterval: 5 * time.Minute, Window: 2 * time.Second, Coalesce: 100 * time.Millisecond}
}

// Tracker follows processes and app states and emits classified starts.
type Tracker struct {
	cfg      Config
	table    *Table
	corr     *Correlator
	log      *slog.Logger
	now      func() time.Time
	resolve  func(pkg string, user int) (int, bool)
	onExit   func(Proc)
	mode     string
	conn     *Connector
	wmu      sync.Mutex // serialises table updates
	wake     chan struct{}
	events   atomic.Uint64
	rescans  atomic.Uint64
	lost     atomic.Uint64
	stmu     sync.Mutex
	reported map[int]reportedState
	resumed  int // uid last resumed according to logd, -1 none
}

type reportedState struct {
	state string
	at    time.Time
}

// Options wires a tracker to the rest of the service.
type Options struct {
	Mount   string             // <root>/proc
	Config  Config             //
	IsApp   func(uid int) bool // which uids are apps; nil means packages.IsApp
	Resolve func(pkg string, user int) (int, bool)
	Emit    func(Start)
	OnExit  func(Proc)
	Log     *slog.Logger
	Now     func() time.Time
}

// NewTracker reads the process table once and opens the kernel
// connector when the mode asks for it. The processes running now are
// the baseline: they are not reported as starts.
func NewTracker(o Options) (*Tracker, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.IsApp == nil {
		o.IsApp = packages.IsApp
	}
	r, err := NewReader(o.Mount)
	if err != nil {
		return nil, err
	}
	t := &Tracker{
		cfg: o.Config, log: o.Log, now: o.Now, resolve: o.Resolve, onExit: o.OnExit,
		reported: map[int]reportedState{}, resumed: -1, wake: make(chan struct{}, 1),
	}
	t.table = NewTable(r, o.IsApp, o.Now)
	t.corr = &Correlator{Window: o.Config.Window, Emit: o.Emit, Resolve: o.Resolve, Foreground: t.foreground}
	if _, err := t.table.Refresh(); err != nil {
		return nil, fmt.Errorf("read %s: %w", o.Mount, err)
	}
	t.mode = ModePoll
	if o.Config.Mode != ModePoll {
		if !isRealProc(o.Mount) {
			// Kernel events name the host's pids; a fixture tree has
			// other ones.
			if o.Config.Mode == ModeNetlink {
				return nil, fmt.Errorf("mode netlink: %s is not the kernel's procfs", o.Mount)
			}
		} else if c, err := OpenConnector(); err != nil {
			if o.Config.Mode == ModeNetlink {
				return nil, err
			}
			t.log.Info("process connector unavailable; polling procfs", "err", err, "interval", o.Config.PollInterval)
		} else {
			t.conn, t.mode = c, ModeNetlink
		}
	}
	return t, nil
}

// isRealProc reports whether mount is the kernel's procfs mounted there
// (and not a fixture tree): /proc/self resolves to this process.
func isRealProc(mount string) bool {
	l, err := os.Readlink(mount + "/self")
	return err == nil && l == fmt.Sprint(os.Getpid())
}

// Mode is the mode in effect (netlink or poll).
func (t *Tracker) Mode() string { return t.mode }

// Table is the process table.
func (t *Tracker) Table() *Table { return t.table }

// Run follows processes until ctx ends, then flushes pending starts.
func (t *Tracker) Run(ctx context.Context) {
	kev := make(chan []KernelEvent, 64)
	if t.conn != nil {
		go t.readKernel(ctx, kev)
	}
	var tick *time.Ticker
	if t.mode == ModePoll {
		tick = time.NewTicker(t.cfg.PollInterval)
	} else {
		tick = time.NewTicker(t.cfg.StateInterval)
	}
	defer tick.Stop()
	resync := time.NewTicker(t.cfg.ResyncInterval)
	defer resync.Stop()
	dirty := map[int]bool{}
	polls := 0
	var debounce <-chan time.Time
	var flush <-chan time.Time
	armFlush := func() {
		if flush == nil && t.corr.Stats().Pending > 0 {
			flush = time.After(t.cfg.Window / 2)
		}
	}
	for {
		select {
		case <-ctx.Done():
			if t.conn != nil {
				t.conn.Close()
			}
			t.corr.Flush(t.now(), true)
			return
		case evs := <-kev:
			for _, e := range evs {
				t.events.Add(1)
				switch e.Kind {
				case EvExit:
					delete(dirty, e.PID)
					t.wmu.Lock()
					p, ok := t.table.Remove(e.PID)
					t.wmu.Unlock()
					if ok && t.onExit != nil {
						t.onExit(p)
					}
				case EvLost:
					t.lost.Add(1)
					t.rescan()
				default:
					dirty[e.PID] = true
				}
			}
			// A fork is followed within microseconds by exec or, on
			// Android, by the switch to the app's uid: wait a moment and
			// read each pid once.
			if len(dirty) > 0 && debounce == nil {
				debounce = time.After(20 * time.Millisecond)
			}
		case <-debounce:
			debounce = nil
			pids := make([]int, 0, len(dirty))
			for pid := range dirty {
				pids = append(pids, pid)
			}
			clear(dirty)
			t.wmu.Lock()
			ch := t.table.UpdateMany(pids)
			t.wmu.Unlock()
			t.handle(ch)
		case <-tick.C:
			if t.mode == ModePoll {
				polls++
				t.rescanWith(polls%fullEvery == 0)
			} else {
				t.wmu.Lock()
				t.table.RefreshStates()
				t.wmu.Unlock()
			}
		case <-resync.C:
			if t.mode != ModePoll {
				t.rescan()
			}
		case <-t.wake:
		case <-flush:
			flush = nil
			t.corr.Flush(t.now(), false)
		}
		armFlush()
	}
}

func (t *Tracker) readKernel(ctx context.Context, out chan<- []KernelEvent) {
	buf := make([]byte, 64<<10)
	for {
		evs, err := t.conn.Read(buf, nil)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, os.ErrClosed) {
				t.log.Error("process connector read failed; falling back to a rescan every resync interval", "err", err)
			}
			return
		}
		select {
		case out <- evs:
		case <-ctx.Done():
			return
		}
		if t.cfg.Coalesce > 0 {
			select {
			case <-time.After(t.cfg.Coalesce):
			case <-ctx.Done():
				return
			}
		}
	}
}

// fullEvery: in poll mode, every fullEvery-th pass re-reads every known
// process; the others only apps and zygote's children.
const fullEvery = 10

func (t *Tracker) rescan() { t.rescanWith(true) }

func (t *Tracker) rescanWith(full bool) {
	t.wmu.Lock()
	ch, err := t.table.refresh(full)
	t.wmu.Unlock()
	t.rescans.Add(1)
	if err != nil {
		t.log.Warn("procfs rescan failed", "err", err)
		return
	}
	t.handle(ch)
}

func (t *Tracker) update(pid int) Change {
	t.wmu.Lock()
	ch, _ := t.table.Update(pid)
	t.wmu.Unlock()
	t.handle(ch)
	return ch
}

// handle turns table changes into exits and procfs start observations.
func (t *Tracker) handle(ch Change) {
	for _, p := range ch.Exited {
		if t.onExit != nil {
			t.onExit(p)
		}
	}
	for _, p := range ch.Started {
		// A process whose parent runs under the same uid is the app's
		// own child (a helper it exec'd), not a start by the system.
		if parent, ok := t.table.Get(p.PPID); ok && parent.UID == p.UID {
			continue
		}
		t.corr.Observe(Observation{
			Source: SourceProcfs, Time: t.now(), UID: p.UID, PID: p.PID, Start: p.Start,
			Process: p.Name, Reason: "unknown", CallerUID: -1, AppState: t.stateExcept(p.UID, p.PID),
		})
	}
	if len(ch.Started) > 0 {
		t.poke()
	}
}

func (t *Tracker) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Observe takes a start seen by logd or the framework. The pid (when
// given) is read from procfs now, so the start gets its start time and
// merges with procfs's own observation.
func (t *Tracker) Observe(o Observation) {
	if o.CallerUID == 0 && o.Caller == "" {
		o.CallerUID = -1
	}
	if o.Time.IsZero() {
		o.Time = t.now()
	}
	if o.PID > 0 {
		p, ok := t.table.Get(o.PID)
		if !ok || p.UID != o.UID {
			t.update(o.PID)
			p, ok = t.table.Get(o.PID)
		}
		if ok && p.UID == o.UID {
			o.Start = p.Start
			if o.Process == "" {
				o.Process = p.Name
			}
		}
	}
	if o.AppState == "" {
		o.AppState = t.stateExcept(o.UID, o.PID)
	}
	t.corr.Observe(o)
	t.poke()
}

// foreground reports whether pid is (still) in the foreground band.
func (t *Tracker) foreground(uid, pid int) bool {
	p, ok := t.table.Get(pid)
	if !ok || p.UID != uid {
		return false
	}
	p.OomScoreAdj, p.HasOom = t.table.r.oom(pid)
	adj, ok := t.table.importance(p)
	return ok && Band(adj) == "foreground"
}

// stateExcept is uid's state from its processes other than pid: the
// state the app was in when pid started.
func (t *Tracker) stateExcept(uid, pid int) string {
	band, running, since := t.table.UIDBand(uid, pid)
	return t.combine(uid, band, running, since)
}

// AppState is uid's state now: the newest of the framework's report (or
// logd's resumed activity) and procfs's oom band; not_running when no
// process of the uid exists.
func (t *Tracker) AppState(uid int) string {
	band, running, since := t.table.UIDBand(uid, -1)
	return t.combine(uid, band, running, since)
}

func (t *Tracker) combine(uid int, band string, running bool, since time.Time) string {
	if !running {
		return "not_running"
	}
	t.stmu.Lock()
	rep, ok := t.reported[uid]
	t.stmu.Unlock()
	if ok && rep.state != "not_running" && !rep.at.Before(since) {
		return rep.state
	}
	if band == "" {
		return "background"
	}
	return StateOfBand(band)
}

// ReportAppState records a state report (framework app.state).
func (t *Tracker) ReportAppState(uid int, state string) {
	t.stmu.Lock()
	t.reported[uid] = reportedState{state, t.now()}
	t.stmu.Unlock()
}

// HandleLogd feeds one event-log event.
func (t *Tracker) HandleLogd(ev logd.Event) error {
	d, err := logd.Decode(ev)
	if err != nil || d == nil {
		return err
	}
	switch e := d.(type) {
	case logd.ProcStart:
		reason, ok := NormalizeReason(e.HostingType)
		if !ok {
			reason = "other"
		}
		t.Observe(Observation{Source: SourceLogd, Time: ev.Time, UID: e.UID, PID: e.PID, Process: e.Process, Reason: reason, Component: e.Component, CallerUID: -1})
	case logd.ProcDied:
		t.update(e.PID)
	case logd.Kill:
		t.update(e.PID)
	case logd.Resumed:
		pkg, _, _ := strings.Cut(e.Component, "/")
		if t.resolve == nil {
			return nil
		}
		uid, ok := t.resolve(pkg, e.User)
		if !ok {
			return nil
		}
		t.stmu.Lock()
		now := t.now()
		if t.resumed >= 0 && t.resumed != uid {
			t.reported[t.resumed] = reportedState{"background", now}
		}
		t.resumed = uid
		t.reported[uid] = reportedState{"foreground", now}
		t.stmu.Unlock()
	case logd.UIDState:
		if e.State == "stopped" {
			t.stmu.Lock()
			delete(t.reported, e.UID)
			t.stmu.Unlock()
		}
	}
	return nil
}

// Stats is the tracker's health.
type Stats struct {
	Mode       string          `json:"mode"`
	Processes  int             `json:"processes"`
	Events     uint64          `json:"kernel_events"`
	Rescans    uint64          `json:"rescans"`
	Lost       uint64          `json:"kernel_overflows"`
	Correlator CorrelatorStats `json:"starts"`
}

// Stats returns counters.
func (t *Tracker) Stats() Stats {
	return Stats{Mode: t.mode, Processes: t.table.Len(), Events: t.events.Load(), Rescans: t.rescans.Load(), Lost: t.lost.Load(), Correlator: t.corr.Stats()}
}

// FlushNow emits every pending start (tests, shutdown).
func (t *Tracker) FlushNow() { t.corr.Flush(t.now(), true) }
