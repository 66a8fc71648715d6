package indicator

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Snapshot is the whole shown state at one sequence number. It is
// immutable once published; subscribers receive it whole, so a missed
// intermediate snapshot never leaves anyone with a stale view.
type Snapshot struct {
	// Seq increases with every change of what is shown; a subscriber
	// applies a snapshot only if its Seq is higher than the one it has.
	Seq       uint64          `json:"seq"`
	Time      time.Time       `json:"time"`
	Resources []ResourceState `json:"resources"`

	leds    map[string]LED
	rawOnce sync.Once
	raw     json.RawMessage
}

// ResourceState is one indicated resource.
type ResourceState struct {
	Resource string            `json:"resource"`
	Icon     string            `json:"icon"`
	Labels   map[string]string `json:"labels"`
	On       bool              `json:"on"`
	Apps     []AppState        `json:"apps"`

	head []byte // the encoded fields before "on", fixed by the config
}

// resourceHeads encodes, once per config, the part of each resource's
// JSON that only the config decides.
func resourceHeads(cfg Config) [][]byte {
	heads := make([][]byte, len(cfg.Resources))
	for i, r := range cfg.Resources {
		rs := ResourceState{Resource: r.Code, Icon: r.Icon, Labels: r.Labels}
		heads[i] = rs.appendHead(nil)
	}
	return heads
}

// AppState is one app shown under a resource.
type AppState struct {
	UID     int    `json:"uid"`
	Package string `json:"package"`
	// Active is how many of the app's uses are running now; 0 means the
	// app is shown only for the hold time, until HeldUntil.
	Active    int        `json:"active"`
	Since     time.Time  `json:"since"`
	HeldUntil *time.Time `json:"held_until,omitempty"`
	// Via lists proxies that acted for the app during this span.
	Via []Party `json:"via,omitempty"`
}

// On reports whether resource is shown as in use.
func (s *Snapshot) On(resource string) bool {
	for _, r := range s.Resources {
		if r.Resource == resource {
			return r.On
		}
	}
	return false
}

// JSON returns the snapshot encoded once and shared by every subscriber.
// It is the bytes encoding/json would write (a test holds the two
// equal), appended by hand: the encoding sits between a change and every
// subscriber hearing of it, and reflection cost several times more.
func (s *Snapshot) JSON() json.RawMessage {
	s.rawOnce.Do(func() { s.raw = s.appendJSON(make([]byte, 0, 512)) })
	return s.raw
}

func (s *Snapshot) appendJSON(b []byte) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, s.Seq, 10)
	b = append(b, `,"time":`...)
	b = appendTime(b, s.Time)
	b = append(b, `,"resources":`...)
	if s.Resources == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i := range s.Resources {
		if i > 0 {
			b = append(b, ',')
		}
		b = s.Resources[i].appendJSON(b)
	}
	return append(b, "]}"...)
}

func (r *ResourceState) appendJSON(b []byte) []byte {
	if r.head != nil {
		b = append(b, r.head...)
	} else {
		b = r.appendHead(b)
	}
	b = append(b, `,"on":`...)
	b = strconv.AppendBool(b, r.On)
	b = append(b, `,"apps":`...)
	if r.Apps == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Apps {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Apps[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendHead writes the resource's fields before "on".
func (r *ResourceState) appendHead(b []byte) []byte {
	b = append(b, `{"resource":`...)
	b = appendString(b, r.Resource)
	b = append(b, `,"icon":`...)
	b = appendString(b, r.Icon)
	b = append(b, `,"labels":`...)
	if r.Labels == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(r.Labels)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, r.Labels[k])
		}
		b = append(b, '}')
	}
	return b
}

func (a *AppState) appendJSON(b []byte) []byte {
	b = append(b, `{"uid":`...)
	b = strconv.AppendInt(b, int64(a.UID), 10)
	b = append(b, `,"package":`...)
	b = appendString(b, a.Package)
	b = append(b, `,"active":`...)
	b = strconv.AppendInt(b, int64(a.Active), 10)
	b = append(b, `,"since":`...)
	b = appendTime(b, a.Since)
	if a.HeldUntil != nil {
		b = append(b, `,"held_until":`...)
		b = appendTime(b, *a.HeldUntil)
	}
	if len(a.Via) > 0 {
		b = append(b, `,"via":[`...)
		for i, p := range a.Via {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"uid":`...)
			b = strconv.AppendInt(b, int64(p.UID), 10)
			if p.Package != "" {
				b = append(b, `,"package":`...)
				b = appendString(b, p.Package)
			}
			if p.PID != 0 {
				b = append(b, `,"pid":`...)
				b = strconv.AppendInt(b, int64(p.PID), 10)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendTime writes t as time.Time's MarshalJSON does.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendString writes s as a JSON string the way encoding/json does
// (including its escaping of <, > and & and of U+2028 and U+2029).
// Invalid UTF-8, which no package name holds, goes through json.Marshal.
func appendString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		j, _ := json.Marshal(s)
		return append(b, j...)
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			start = i + size
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// publish builds the snapshot for the current state with the next
// sequence number and wakes every subscriber. Called with mu held.
func (e *Engine) publish(now time.Time) {
	e.seq++
	s := &Snapshot{Seq: e.seq, Time: now, leds: e.cfg.LEDs, Resources: make([]ResourceState, 0, len(e.cfg.Resources))}
	byRes := map[string][]AppState{}
	for k, en := range e.entries {
		a := AppState{UID: k.app.uid, Package: k.app.pkg, Active: en.active, Since: en.from, Via: slices.Clone(en.via)}
		if en.active == 0 {
			h := en.holdUntil
			a.HeldUntil = &h
		}
		byRes[k.res] = append(byRes[k.res], a)
	}
	for i, r := range e.cfg.Resources {
		apps := byRes[r.Code]
		slices.SortFunc(apps, func(a, b AppState) int {
			if c := a.Since.Compare(b.Since); c != 0 {
				return c
			}
			if a.UID != b.UID {
				return a.UID - b.UID
			}
			return strings.Compare(a.Package, b.Package)
		})
		if apps == nil {
			apps = []AppState{}
		}
		s.Resources = append(s.Resources, ResourceState{Resource: r.Code, Icon: r.Icon, Labels: r.Labels, On: len(apps) > 0, Apps: apps, head: e.heads[i]})
	}
	e.snap.Store(s)
	for sub := range e.subs {
		if sub.inline {
			e.inline = append(e.inline, sub)
		} else {
			e.wake = append(e.wake, sub)
		}
	}
}

// Subscription delivers snapshots to one subscriber from its own
// goroutine. Deliveries are coalesced: a subscriber that is slow, or
// whose deliver fails, gets the latest snapshot when it is ready again,
// never a backlog, and never holds up the engine or other subscribers.
type Subscription struct {
	e        *Engine
	deliver  func(*Snapshot) error
	inline   bool
	mu       sync.Mutex // held while delivering: one delivery at a time, in seq order
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
	stopped  atomic.Bool
	retrying atomic.Bool
	last     uint64 // guarded by mu
	failures atomic.Uint64
}

// retryDelay is how long a subscription waits after a failed delivery
// (the connection's queue was full) before trying the latest snapshot
// again, unless a new change wakes it sooner.
const retryDelay = 50 * time.Millisecond

// Subscribe registers deliver and returns the snapshot the subscriber
// starts from; deliver is then called with every later snapshot
// (coalesced), in increasing Seq, one call at a time. A deliver error
// means "not now": the latest snapshot is offered again later.
//
// deliver runs on the subscription's own goroutine, so it may block
// without holding up anyone else.
func (e *Engine) Subscribe(deliver func(*Snapshot) error) (*Subscription, *Snapshot, error) {
	return e.subscribe(deliver, false, false)
}

// SubscribeInline is Subscribe for a deliver that never blocks (it
// queues, and fails when its queue is full): the engine then calls it
// right after the change, on the goroutine that made it, which saves a
// goroutine hand-off per notification. When a delivery is already under
// way, the subscription's own goroutine takes over, as with Subscribe.
func (e *Engine) SubscribeInline(deliver func(*Snapshot) error) (*Subscription, *Snapshot, error) {
	return e.subscribe(deliver, false, true)
}

func (e *Engine) subscribe(deliver func(*Snapshot) error, internal, inline bool) (*Subscription, *Snapshot, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, nil, ErrClosed
	}
	now := e.clock.Now()
	changed := e.expire(now)
	if changed {
		e.publish(now)
		e.rearm(now)
	}
	// The LED writer does not count against the subscriber limit.
	if !internal && len(e.subs)-1 >= e.maxSubs {
		e.unlockAndFlush()
		return nil, nil, ErrTooManySubscribers
	}
	snap := e.snap.Load()
	s := &Subscription{
		e: e, deliver: deliver, last: snap.Seq, inline: inline,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	if internal {
		// The LED writer must apply the starting state too.
		s.last = 0
		s.poke()
	}
	e.subs[s] = struct{}{}
	e.unlockAndFlush()
	go s.run()
	return s, snap, nil
}

func (s *Subscription) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Subscription) run() {
	defer close(s.done)
	for {
		select {
		case <-s.wake:
		case <-s.stop:
			return
		}
		s.mu.Lock()
		s.drain()
		s.mu.Unlock()
	}
}

// tryInline delivers on the caller's goroutine unless a delivery is
// under way, in which case the subscription's goroutine is woken: it
// re-reads the latest snapshot after its current delivery.
func (s *Subscription) tryInline() {
	if !s.mu.TryLock() {
		s.poke()
		return
	}
	s.drain()
	s.mu.Unlock()
}

// drain delivers the latest snapshot until none is newer than the last
// delivered. Called with mu held.
func (s *Subscription) drain() {
	for !s.stopped.Load() {
		snap := s.e.snap.Load()
		if snap.Seq <= s.last {
			return
		}
		if err := s.deliver(snap); err != nil {
			s.failures.Add(1)
			s.e.retries.Add(1)
			if s.retrying.CompareAndSwap(false, true) {
				s.e.clock.AfterFunc(retryDelay, func() {
					s.retrying.Store(false)
					s.poke()
				})
			}
			return
		}
		s.last = snap.Seq
	}
}

// Close ends the subscription; deliver is not called after it returns,
// except for one call already under way.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.stopped.Store(true)
		close(s.stop)
		s.e.mu.Lock()
		delete(s.e.subs, s)
		s.e.mu.Unlock()
	})
}

// Done is closed when the subscription's goroutine has ended.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Failures counts deliveries that failed and were retried coalesced.
func (s *Subscription) Failures() uint64 { return s.failures.Load() }
