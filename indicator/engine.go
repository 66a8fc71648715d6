// Package indicator is the source of truth for Art. 31 status-bar
// indicators: which sensitive resources (camera, microphone, location
// and whatever config adds) are in use right now, by which app, with a
// hold time after each use, snapshots numbered by a sequence, coalescing
// fan-out to subscribers, a sysfs LED sink and an audit record of every
// span the user was shown. It knows nothing of sockets: the framework
// feeds it uses and process deaths and carries snapshots to SystemUI.
package indicator

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"permd/ledger"
)

// End reasons of a use and of a shown span.
const (
	EndFinish   = "finish"   // op.finish
	EndDeath    = "death"    // the app's (or its proxy's) process died
	EndTimeout  = "timeout"  // no heartbeat within the max span: an anomaly
	EndConfig   = "config"   // the resource is no longer indicated
	EndShutdown = "shutdown" // the daemon stopped
)

// Limits on what a caller can make the engine hold.
const (
	defaultMaxUses        = 4096
	defaultMaxSubscribers = 64
	maxVia                = 4  // proxies per use (and listed per shown span)
	maxProxyName          = 64 // proxy package names are short (cameraserver)
	maxNameLen            = 256
	endedMemory           = 4096 // ended use ids remembered for error messages
)

// Errors the engine returns; the framework maps them onto wire codes.
var (
	// ErrFull: too many active uses (a caller that never finishes).
	ErrFull = errors.New("too many active uses")
	// ErrTooManySubscribers: the subscriber limit is reached.
	ErrTooManySubscribers = errors.New("too many subscribers")
	// ErrClosed: the engine has shut down.
	ErrClosed = errors.New("indicator engine closed")
)

// UnknownUseError: the id was never issued by this daemon run (a typo,
// or an id from before a restart).
type UnknownUseError struct{ ID uint64 }

func (e *UnknownUseError) Error() string {
	return fmt.Sprintf("use %d was not started by this permd (unknown id, or started before a restart)", e.ID)
}

// EndedError: the use was started but has already ended, so a second
// finish is a conflict and counts never go negative.
type EndedError struct {
	ID     uint64
	Reason string    // "" when too old to remember
	At     time.Time // zero when too old to remember
}

func (e *EndedError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("use %d has already ended", e.ID)
	}
	return fmt.Sprintf("use %d has already ended (%s at %s)", e.ID, e.Reason, e.At.UTC().Format(time.RFC3339Nano))
}

// Party is an app or a process acting for one (a proxy).
type Party struct {
	UID     int    `json:"uid"`
	Package string `json:"package,omitempty"`
	PID     int    `json:"pid,omitempty"`
}

// StartRequest is one use beginning.
type StartRequest struct {
	Resource string
	App      Party   // the app shown; PID optional
	Via      []Party // proxies that act for the app (cameraserver, audioserver)
	Op       string  // app-op or permission name, for the record
	AppState string  // app state at start, for the record ("" if unknown)
}

// Started is the result of a start.
type Started struct {
	Use       uint64 `json:"use"`
	Indicated bool   `json:"indicated"`
	Seq       uint64 `json:"seq"`
}

// Recorder takes ledger records without waiting (ledger.Sink does).
type Recorder interface {
	Enqueue(recs ...ledger.Record)
}

// UseRecorder is a Recorder that also keeps the uses in progress (the
// ledger does), so that a daemon crash cannot lose them: each use is
// handed over when it starts, with the records to write if the daemon
// stops first, and again when it ends, with its records.
type UseRecorder interface {
	Recorder
	EnqueueUses(open []ledger.OpenUse, closed []uint64, recs ...ledger.Record)
}

// Options configure an Engine.
type Options struct {
	Clock          Clock        // default SystemClock(nil)
	Recorder       Recorder     // nil: nothing recorded
	Logger         *slog.Logger // default slog.Default()
	MaxUses        int          // default 4096
	MaxSubscribers int          // default 64
}

type appKey struct {
	uid int
	pkg string
}

type entryKey struct {
	res string
	app appKey
}

type use struct {
	id       uint64
	res      string
	app      Party
	via      []Party
	op       string
	appState string
	start    time.Time
	beat     time.Time // start or last heartbeat
}

// entry is one app shown under one resource: one shown span.
type entry struct {
	key        entryKey
	active     int       // uses active now
	uses       int       // uses counted during this span
	from       time.Time // shown since
	holdUntil  time.Time // when active == 0: shown until then
	lastReason string    // how the last use ended
	via        []Party
}

type endInfo struct {
	reason string
	at     time.Time
}

// Engine holds the active uses and what is shown. All methods are safe
// for concurrent use and never block on subscribers or I/O.
type Engine struct {
	clock   Clock
	rec     Recorder
	log     *slog.Logger
	maxUses int
	maxSubs int

	mu      sync.Mutex
	cfg     Config
	heads   [][]byte // resourceHeads(cfg)
	closed  bool
	base    uint64 // first id of this run
	next    uint64 // next id to issue
	uses    map[uint64]*use
	entries map[entryKey]*entry
	ended   map[uint64]endInfo
	endedQ  []uint64
	seq     uint64
	timer   Timer
	timerAt time.Time
	subs    map[*Subscription]struct{}
	pending []draft         // records made under mu, encoded and enqueued after
	begun   []openDraft     // uses begun under mu, for a UseRecorder
	gone    []uint64        // uses ended under mu, for a UseRecorder
	inline  []*Subscription // inline subscribers to deliver to after unlock
	wake    []*Subscription // subscription goroutines to wake after unlock

	snap     atomic.Pointer[Snapshot]
	timeouts atomic.Uint64
	deaths   atomic.Uint64
	retries  atomic.Uint64 // failed deliveries, retried coalesced
	led      *ledWriter
	ledSub   *Subscription
}

// New returns an engine showing nothing, with cfg in force.
func New(cfg Config, o Options) *Engine {
	if o.Clock == nil {
		o.Clock = SystemClock(nil)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxUses <= 0 {
		o.MaxUses = defaultMaxUses
	}
	if o.MaxSubscribers <= 0 {
		o.MaxSubscribers = defaultMaxSubscribers
	}
	e := &Engine{
		clock: o.Clock, rec: o.Recorder, log: o.Logger, maxUses: o.MaxUses, maxSubs: o.MaxSubscribers,
		cfg: cfg, heads: resourceHeads(cfg), uses: map[uint64]*use{}, entries: map[entryKey]*entry{},
		ended: map[uint64]endInfo{}, subs: map[*Subscription]struct{}{},
	}
	// Ids start at the start time in microseconds, so an id from before a
	// restart is (almost surely) below this run's base and reported as
	// unknown rather than taken for a use of this run.
	now := e.clock.Now()
	e.base = max(uint64(now.UnixMicro()), 1)
	e.next = e.base
	e.mu.Lock()
	e.publish(now)
	e.mu.Unlock()
	e.led = &ledWriter{log: e.log, written: map[string]int{}}
	e.ledSub, _, _ = e.subscribe(e.led.apply, true, false)
	return e
}

// Configure puts a new configuration in force. Apps shown under a
// resource that is no longer indicated end their span ("config"); active
// uses of a newly indicated resource are shown from now.
func (e *Engine) Configure(cfg Config) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	if reflect.DeepEqual(e.cfg, cfg) {
		// A reload of another part's file: nothing to show differently.
		e.mu.Unlock()
		return
	}
	now := e.clock.Now()
	e.expire(now)
	old := e.cfg
	e.cfg = cfg
	e.heads = resourceHeads(cfg)
	for k, en := range e.entries {
		if !cfg.indicated(k.res) {
			e.closeEntry(en, now, EndConfig)
		}
	}
	for _, u := range e.uses {
		if cfg.indicated(u.res) && !old.indicated(u.res) {
			e.showUse(u, now)
		}
	}
	e.publish(now)
	e.rearm(now)
	e.unlockAndFlush()
}

// Config returns the configuration in force.
func (e *Engine) Config() Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg
}

// Validate checks a start request without changing anything. Errors are
// *FieldError naming the field.
func Validate(r *StartRequest) error {
	if _, ok := catalogue[r.Resource]; !ok {
		return fieldError("resource", fmt.Sprintf("unknown resource %q (known: %s)", r.Resource, strings.Join(Categories, ", ")))
	}
	if err := checkParty("", r.App, true); err != nil {
		return err
	}
	if len(r.Via) > maxVia {
		return fieldError("via", fmt.Sprintf("%d proxies, at most %d", len(r.Via), maxVia))
	}
	for i, p := range r.Via {
		if err := checkParty(fmt.Sprintf("via[%d].", i), p, false); err != nil {
			return err
		}
	}
	if len(r.Op) > maxNameLen {
		return fieldError("op", fmt.Sprintf("longer than %d bytes", maxNameLen))
	}
	return nil
}

func checkParty(prefix string, p Party, needPackage bool) error {
	if p.UID < 0 {
		return fieldError(prefix+"uid", fmt.Sprintf("negative uid %d", p.UID))
	}
	if p.PID < 0 {
		return fieldError(prefix+"pid", fmt.Sprintf("negative pid %d", p.PID))
	}
	if needPackage && p.Package == "" {
		return fieldError(prefix+"package", "missing: the app shown must be named")
	}
	limit := maxNameLen
	if !needPackage {
		// Bounded so a record's detail stays within the rules' size limit.
		limit = maxProxyName
	}
	if len(p.Package) > limit || strings.ContainsAny(p.Package, " \t\r\n/") {
		return fieldError(prefix+"package", fmt.Sprintf("%q is not a package name", p.Package))
	}
	return nil
}

// Start records a use beginning and returns its id, which the caller
// passes to Finish and Heartbeat. Ids are issued by the engine, increase
// strictly and are never reused in a run, which is what makes a second
// finish of the same use detectable.
func (e *Engine) Start(r StartRequest) (Started, error) {
	if err := Validate(&r); err != nil {
		return Started{}, err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return Started{}, ErrClosed
	}
	now := e.clock.Now()
	changed := e.expire(now)
	if len(e.uses) >= e.maxUses {
		e.finishOp(now, changed)
		return Started{}, ErrFull
	}
	u := &use{
		id: e.next, res: r.Resource, app: r.App, via: slices.Clone(r.Via),
		op: r.Op, appState: r.AppState, start: now, beat: now,
	}
	e.next++
	e.uses[u.id] = u
	ind := e.cfg.indicated(u.res)
	if ind {
		e.showUse(u, now)
		changed = true
	}
	e.journal(u, ind)
	e.finishOp(now, changed)
	return Started{Use: u.id, Indicated: ind, Seq: e.snap.Load().Seq}, nil
}

// journal notes u as begun for a UseRecorder: the records to write if
// the daemon stops before u ends (the ledger fills in duration and
// reason then): its span and, when shown, its app's shown span.
func (e *Engine) journal(u *use, shown bool) {
	if _, ok := e.rec.(UseRecorder); !ok {
		return
	}
	n := len(e.pending)
	e.record(u.start, u.app.UID, "span", u.res, u.op, "allowed", u.appState, spanDetail{PID: u.app.PID, Proxy: u.via})
	if en := e.entries[entryKey{u.res, appKey{u.app.UID, u.app.Package}}]; shown && en != nil {
		e.record(en.from, u.app.UID, "indicator", u.res, "", "", "", shownDetail{
			Resource: u.res, Proxy: en.via, Package: u.app.Package, Uses: en.uses,
		})
	}
	recs := slices.Clone(e.pending[n:])
	e.pending = e.pending[:n]
	e.begun = append(e.begun, openDraft{id: u.id, start: u.start, recs: recs})
}

// showUse counts u in its app's entry under its resource, opening the
// entry (a new shown span) if the app was not shown.
func (e *Engine) showUse(u *use, now time.Time) {
	k := entryKey{u.res, appKey{u.app.UID, u.app.Package}}
	en := e.entries[k]
	if en == nil {
		en = &entry{key: k, from: now}
		e.entries[k] = en
	}
	en.active++
	en.uses++
	en.holdUntil = time.Time{}
	for _, p := range u.via {
		// Bounded, so the span's record stays within the rules' detail size.
		if len(en.via) < maxVia && !slices.ContainsFunc(en.via, func(q Party) bool { return q.UID == p.UID && q.Package == p.Package }) {
			en.via = append(en.via, Party{UID: p.UID, Package: p.Package})
		}
	}
}

// Finish ends a use. A use that already ended is an *EndedError, an id
// never issued an *UnknownUseError; neither changes anything.
func (e *Engine) Finish(id uint64) (uint64, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return 0, ErrClosed
	}
	now := e.clock.Now()
	changed := e.expire(now)
	u, err := e.lookup(id)
	if err != nil {
		e.finishOp(now, changed)
		return 0, err
	}
	if e.endUse(u, now, EndFinish) {
		changed = true
	}
	e.finishOp(now, changed)
	return e.snap.Load().Seq, nil
}

func (e *Engine) lookup(id uint64) (*use, error) {
	if u := e.uses[id]; u != nil {
		return u, nil
	}
	if id < e.base || id >= e.next {
		return nil, &UnknownUseError{id}
	}
	info := e.ended[id]
	return nil, &EndedError{ID: id, Reason: info.reason, At: info.at}
}

// Heartbeat renews the max span of active uses. It returns which of ids
// are active and which have ended (so the caller learns of a timeout); an
// id never issued is an *UnknownUseError and nothing is renewed.
func (e *Engine) Heartbeat(ids []uint64) (active, ended []uint64, err error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, nil, ErrClosed
	}
	now := e.clock.Now()
	changed := e.expire(now)
	for _, id := range ids {
		if _, err := e.lookup(id); err != nil {
			var ee *EndedError
			if !errors.As(err, &ee) {
				e.finishOp(now, changed)
				return nil, nil, err
			}
		}
	}
	active, ended = []uint64{}, []uint64{}
	for _, id := range ids {
		if u := e.uses[id]; u != nil {
			u.beat = now
			active = append(active, id)
		} else {
			ended = append(ended, id)
		}
	}
	e.finishOp(now, changed)
	return active, ended, nil
}

// ProcessDied ends the uses of a process that died: those whose app, or
// one of whose proxies, has this uid and pid. pid 0 means every process
// of the uid is gone, which also ends uses started without a pid. It
// returns how many uses ended.
func (e *Engine) ProcessDied(uid, pid int) int {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return 0
	}
	now := e.clock.Now()
	changed := e.expire(now)
	match := func(p Party) bool { return p.UID == uid && (pid == 0 || p.PID == pid) }
	var dead []*use
	for _, u := range e.uses {
		if match(u.app) || slices.ContainsFunc(u.via, match) {
			dead = append(dead, u)
		}
	}
	// Map order is random; end in id order so records come out in order.
	slices.SortFunc(dead, func(a, b *use) int { return cmpU64(a.id, b.id) })
	for _, u := range dead {
		if e.endUse(u, now, EndDeath) {
			changed = true
		}
	}
	e.deaths.Add(uint64(len(dead)))
	e.finishOp(now, changed)
	return len(dead)
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Snapshot returns the current state, after expiring what is due.
func (e *Engine) Snapshot() *Snapshot {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return e.snap.Load()
	}
	now := e.clock.Now()
	changed := e.expire(now)
	e.finishOp(now, changed)
	return e.snap.Load()
}

// Active returns the number of active uses.
func (e *Engine) Active() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.uses)
}

// Stats are figures for sys.health.
type Stats struct {
	ActiveUses  int    `json:"active_uses"`
	ShownApps   int    `json:"shown_apps"`
	Seq         uint64 `json:"seq"`
	Subscribers int    `json:"subscribers"`
	Timeouts    uint64 `json:"timeouts"`
	Deaths      uint64 `json:"uses_ended_by_death"`
	LEDErrors   uint64 `json:"led_errors"`
	// Retries counts deliveries a subscriber could not take (its queue
	// was full); each was retried later with the latest snapshot.
	Retries uint64 `json:"coalesced_retries"`
}

// Stats returns counters for health reporting.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Stats{
		ActiveUses: len(e.uses), ShownApps: len(e.entries), Seq: e.seq,
		Subscribers: len(e.subs) - 1, // the LED writer is not a client
		Timeouts:    e.timeouts.Load(), Deaths: e.deaths.Load(), LEDErrors: e.led.errors.Load(),
		Retries: e.retries.Load(),
	}
}

// Close ends every use and shown span ("shutdown"), records them, turns
// the LEDs off and ends every subscription. Later calls return ErrClosed.
func (e *Engine) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	now := e.clock.Now()
	e.expire(now)
	ids := make([]uint64, 0, len(e.uses))
	for id := range e.uses {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		e.endUse(e.uses[id], now, EndShutdown)
	}
	for _, en := range e.entries {
		e.closeEntry(en, now, EndShutdown)
	}
	e.publish(now)
	e.closed = true
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	subs := make([]*Subscription, 0, len(e.subs))
	for s := range e.subs {
		subs = append(subs, s)
	}
	snap := e.snap.Load()
	e.unlockAndFlush()
	for _, s := range subs {
		s.Close()
	}
	// Leave the hardware off: nothing is known to be in use any more.
	// Wait for the LED writer first, so that a write of an older state
	// it had under way cannot land after this one.
	<-e.ledSub.Done()
	e.led.apply(snap)
}

// finishOp ends an operation: publish if the shown state changed, arm
// the timer for the next deadline, unlock, then hand records over.
func (e *Engine) finishOp(now time.Time, changed bool) {
	// A use that ended just now with a zero hold is already due.
	if e.expire(now) {
		changed = true
	}
	if changed {
		e.publish(now)
	}
	e.rearm(now)
	e.unlockAndFlush()
}

// unlockAndFlush releases mu, then hands the change on. The inline
// subscribers (the daemon's sockets) come first; the work that can wait
// for them, waking subscription goroutines (the LED writer) and encoding
// the records' details, comes after, so that a change reaches the
// screen without waiting for it.
func (e *Engine) unlockAndFlush() {
	drafts := e.pending
	e.pending = nil
	begun, closed := e.begun, e.gone
	e.begun, e.gone = nil, nil
	inline, wake := e.inline, e.wake
	e.inline, e.wake = nil, nil
	e.mu.Unlock()
	for _, s := range inline {
		s.tryInline()
	}
	for _, s := range wake {
		s.poke()
	}
	recs := encodeDrafts(drafts)
	var opened []ledger.OpenUse
	if len(begun) > 0 {
		opened = make([]ledger.OpenUse, len(begun))
		for i, b := range begun {
			opened[i] = ledger.OpenUse{ID: b.id, Start: b.start, Recs: encodeDrafts(b.recs)}
		}
	}
	if ur, ok := e.rec.(UseRecorder); ok && (len(opened) > 0 || len(closed) > 0) {
		ur.EnqueueUses(opened, closed, recs...)
	} else if len(recs) > 0 && e.rec != nil {
		e.rec.Enqueue(recs...)
	}
}

// expire ends uses past their max span and closes spans past their hold,
// as of now. It reports whether anything shown changed.
func (e *Engine) expire(now time.Time) bool {
	changed := false
	var late []*use
	for _, u := range e.uses {
		if !now.Before(u.beat.Add(e.cfg.MaxSpan)) {
			late = append(late, u)
		}
	}
	// End them in the order their spans ran out, so the hold of an app
	// counts from its last use's end.
	slices.SortFunc(late, func(a, b *use) int {
		if c := a.beat.Compare(b.beat); c != 0 {
			return c
		}
		return cmpU64(a.id, b.id)
	})
	for _, u := range late {
		// The use ended when its max span ran out, not when we noticed.
		if e.endUse(u, u.beat.Add(e.cfg.MaxSpan), EndTimeout) {
			changed = true
		}
	}
	for _, en := range e.entries {
		if en.active == 0 && !now.Before(en.holdUntil) {
			e.closeEntry(en, en.holdUntil, en.lastReason)
			changed = true
		}
	}
	return changed
}

// endUse ends u at at and reports whether the shown state changed.
func (e *Engine) endUse(u *use, at time.Time, reason string) bool {
	delete(e.uses, u.id)
	if _, ok := e.rec.(UseRecorder); ok {
		e.gone = append(e.gone, u.id)
	}
	e.ended[u.id] = endInfo{reason, at}
	e.endedQ = append(e.endedQ, u.id)
	if len(e.endedQ) > endedMemory {
		delete(e.ended, e.endedQ[0])
		e.endedQ = e.endedQ[1:]
	}
	// Detail keys follow the published recording rules (rules.json): a
	// span's time is its start, duration_ms gives its end, reason how it
	// ended; the ledger resolves the uid's packages itself.
	e.record(u.start, u.app.UID, "span", u.res, u.op, "allowed", u.appState, spanDetail{
		DurationMS: at.Sub(u.start).Milliseconds(), Reason: reason, PID: u.app.PID, Proxy: u.via,
	})
	if reason == EndTimeout {
		e.timeouts.Add(1)
		e.record(at, u.app.UID, "anomaly", u.res, u.op, "", "", anomalyDetail{
			What:  "indicator_use_without_heartbeat",
			Value: at.Sub(u.start).Milliseconds(), Limit: e.cfg.MaxSpan.Milliseconds(),
		})
		e.log.Warn("indicator use timed out without finish or heartbeat", "uid", u.app.UID, "package", u.app.Package, "resource", u.res, "use", u.id)
	}
	en := e.entries[entryKey{u.res, appKey{u.app.UID, u.app.Package}}]
	if en == nil {
		return false
	}
	en.active--
	en.lastReason = reason
	if en.active == 0 {
		en.holdUntil = at.Add(e.cfg.Hold)
	}
	return true
}

// closeEntry ends a shown span and records what the user was shown.
func (e *Engine) closeEntry(en *entry, to time.Time, reason string) {
	delete(e.entries, en.key)
	if to.Before(en.from) {
		to = en.from
	}
	e.record(en.from, en.key.app.uid, "indicator", en.key.res, "", "", "", shownDetail{
		DurationMS: to.Sub(en.from).Milliseconds(), Resource: en.key.res, Proxy: en.via,
		Package: en.key.app.pkg, Uses: en.uses, Reason: reason,
	})
}

// DetailKeys lists, per record kind, every detail key the engine may
// write, so that a caller can compare them with the recording rules once
// instead of inspecting each record.
var DetailKeys = map[string][]string{
	"span":      {"duration_ms", "reason", "pid", "proxy"},
	"indicator": {"duration_ms", "resource", "proxy", "package", "uses", "reason"},
	"anomaly":   {"what", "value", "limit"},
}

// spanDetail is the detail of a "span" record: one use.
type spanDetail struct {
	DurationMS int64   `json:"duration_ms"`
	Reason     string  `json:"reason"` // finish, death, timeout, config, shutdown
	PID        int     `json:"pid,omitempty"`
	Proxy      []Party `json:"proxy,omitempty"`
}

// shownDetail is the detail of an "indicator" record: one span an app
// was shown under a resource. Package, Uses and Reason are recorded
// where the rules list them (the framework drops keys the rules in force
// do not name).
type shownDetail struct {
	DurationMS int64   `json:"duration_ms"`
	Resource   string  `json:"resource"`
	Proxy      []Party `json:"proxy,omitempty"`
	Package    string  `json:"package"`
	Uses       int     `json:"uses"`
	Reason     string  `json:"reason"` // how the last use ended, or config/shutdown
}

// anomalyDetail is the detail of the "anomaly" record of a use that ran
// past its max span without a heartbeat.
type anomalyDetail struct {
	What  string `json:"what"`
	Value int64  `json:"value"` // the use's length in ms when it was ended
	Limit int64  `json:"limit"` // the max span in ms
}

// record notes a record under mu. Its detail is encoded after mu is
// released (encodeDrafts): a detail holds values, and slices that are
// only ever appended to, so what it says is fixed here.
func (e *Engine) record(at time.Time, uid int, kind, cat, op, result, state string, detail any) {
	if e.rec == nil {
		return
	}
	e.pending = append(e.pending, draft{rec: ledger.Record{
		Time: at, UID: uid, Kind: kind, Category: cat, Op: op, Result: result, AppState: state,
	}, detail: detail})
}

// draft is a record whose detail is not encoded yet.
type draft struct {
	rec    ledger.Record
	detail any
}

// openDraft is a use begun, with its drafts, for a UseRecorder.
type openDraft struct {
	id    uint64
	start time.Time
	recs  []draft
}

// encodeDrafts turns drafts into records, encoding their details.
func encodeDrafts(ds []draft) []ledger.Record {
	if len(ds) == 0 {
		return nil
	}
	recs := make([]ledger.Record, len(ds))
	for i, d := range ds {
		recs[i] = d.rec
		if b, err := json.Marshal(d.detail); err == nil {
			recs[i].Detail = b
		}
	}
	return recs
}

// rearm makes the timer fire at the next deadline. A timer already set
// for an earlier time is kept: when it fires it re-arms for the rest.
func (e *Engine) rearm(now time.Time) {
	var next time.Time
	for _, u := range e.uses {
		if d := u.beat.Add(e.cfg.MaxSpan); next.IsZero() || d.Before(next) {
			next = d
		}
	}
	for _, en := range e.entries {
		if en.active == 0 && (next.IsZero() || en.holdUntil.Before(next)) {
			next = en.holdUntil
		}
	}
	if next.IsZero() {
		if e.timer != nil {
			e.timer.Stop()
			e.timer, e.timerAt = nil, time.Time{}
		}
		return
	}
	if e.timer != nil && !e.timerAt.After(next) {
		return
	}
	if e.timer != nil {
		e.timer.Stop()
	}
	e.timerAt = next
	e.timer = e.clock.AfterFunc(next.Sub(now), e.tick)
}

// tick runs when a deadline is due.
func (e *Engine) tick() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.timer, e.timerAt = nil, time.Time{}
	now := e.clock.Now()
	e.finishOp(now, e.expire(now))
}
