package framework

import (
	"context"
	"sync"
	"time"

	"permd/framework/protocol"
	"permd/framework/wire"
	"permd/grants"
)

// maxPolicySubscribers bounds policy.subscribe like indicator.subscribe:
// the stream is for system_server (one or two connections), not apps.
const maxPolicySubscribers = 64

// policyRetry is how soon a subscriber whose queue was full is offered a
// fresh snapshot again.
const policyRetry = 50 * time.Millisecond

// policyFeed streams the grant policy to in-process decision caches
// (policy.subscribe): a snapshot of every grant and of the catalogue's
// levels, then one policy.changed notification per grant change, each
// with the next sequence number. A subscriber that cannot take a change
// (its queue is full) is never sent a gap: its next notification is a
// whole snapshot instead, so a cache is either exact or knows it is not.
type policyFeed struct {
	// mu orders changes: seq and delivery happen under it, so that each
	// subscriber sees increasing, gap-free seqs (or a snapshot).
	mu   sync.Mutex
	seq  uint64
	subs map[*policySub]struct{}
	eng  func() *grants.Engine
}

type policySub struct {
	notify func(method string, params any) error
	stale  bool // a change could not be delivered: send a snapshot next
	timer  *time.Timer
}

// policySnapshot is the subscribe reply and the body of a resync;
// policyCategory is one category in it.
type (
	policySnapshot = protocol.PolicySnapshot
	policyCategory = protocol.PolicyCategory
)

func (f *policyFeed) snapshotLocked() protocol.PolicySnapshot {
	eng := f.eng()
	s := protocol.PolicySnapshot{Seq: f.seq, Grants: wire.List(eng.List(grants.Filter{}), wire.Grant)}
	if loc := eng.Policy().Location; loc != nil && loc != time.Local {
		s.TimeZone = loc.String()
	}
	for _, c := range eng.Catalogue().Categories {
		lv := make([]protocol.Level, len(c.Levels))
		for i, l := range c.Levels {
			l.Label = nil // labels are for dialogs, not decisions
			lv[i] = wire.Level(l)
		}
		s.Categories = append(s.Categories, protocol.PolicyCategory{ID: c.ID, Background: c.Background, DefaultLevel: c.DefaultLevel, Levels: lv})
	}
	return s
}

// changed numbers one grant change and delivers it to every subscriber.
// It runs on the goroutine that made the change and never blocks on a
// peer: Notify only queues.
func (f *policyFeed) changed(c grants.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	body := &protocol.PolicyChange{Seq: f.seq}
	if c.Action == grants.ActionSet {
		g := wire.Grant(c.Grant)
		body.Set = &g
	} else {
		body.Removed = &protocol.PolicyRemoved{User: c.Grant.User, Package: c.Grant.Package, Category: c.Grant.Category, Version: c.Grant.Version, Action: c.Action}
	}
	f.deliverLocked(body)
}

// resync sends every subscriber a fresh snapshot (policy reloaded: the
// time zone may have changed).
func (f *policyFeed) resync() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.subs) == 0 {
		return
	}
	f.seq++
	for s := range f.subs {
		s.stale = true
	}
	f.deliverLocked(nil)
}

func (f *policyFeed) deliverLocked(delta *protocol.PolicyChange) {
	var snap *protocol.PolicySnapshot
	for s := range f.subs {
		if s.stale {
			if snap == nil {
				v := f.snapshotLocked()
				snap = &v
			}
			f.sendSnapshotLocked(s, snap)
			continue
		}
		if delta != nil && s.notify(protocol.NotePolicyChanged, delta) != nil {
			s.stale = true
			f.retryLocked(s)
		}
	}
}

func (f *policyFeed) sendSnapshotLocked(s *policySub, snap *protocol.PolicySnapshot) {
	if s.notify(protocol.NotePolicyChanged, &protocol.PolicyChange{Seq: snap.Seq, Snapshot: snap}) == nil {
		s.stale = false
		return
	}
	f.retryLocked(s)
}

// retryLocked offers a stale subscriber a snapshot again shortly, so a
// cache that fell behind catches up even if no further change happens.
func (f *policyFeed) retryLocked(s *policySub) {
	if s.timer != nil {
		return
	}
	s.timer = time.AfterFunc(policyRetry, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		s.timer = nil
		if _, ok := f.subs[s]; !ok || !s.stale {
			return
		}
		snap := f.snapshotLocked()
		f.sendSnapshotLocked(s, &snap)
	})
}

// subscribe serves policy.subscribe: the reply is the snapshot; changes
// follow as policy.changed with seq = previous + 1, or a snapshot.
func (f *policyFeed) subscribe(ctx context.Context, c *Call) (any, error) {
	if err := DecodeParams(c.Params, &protocol.NoParams{}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[*policySub]struct{}{}
	}
	if len(f.subs) >= maxPolicySubscribers {
		f.mu.Unlock()
		return nil, Errorf(CodeOverloaded, "too many policy subscribers (%d)", maxPolicySubscribers)
	}
	if c.Subscribe != nil {
		c.Subscribe()
	}
	s := &policySub{notify: c.Notify}
	f.subs[s] = struct{}{}
	snap := f.snapshotLocked()
	f.mu.Unlock()
	go func() {
		<-c.Done
		f.mu.Lock()
		delete(f.subs, s)
		if s.timer != nil {
			s.timer.Stop()
		}
		f.mu.Unlock()
	}()
	return snap, nil
}

// count is the number of subscribers, for sys.health.
func (f *policyFeed) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}
