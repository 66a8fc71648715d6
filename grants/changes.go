package grants

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Change is a grant change the engine made, for the ledger.
type Change struct {
	At     time.Time
	Action string // set | revoke | expire
	By     string
	Grant  Grant  // the grant after a set, the removed grant otherwise
	Prev   *Grant // the grant a set replaced, nil if none
	// Reason says why a revoke happened when the action alone does not:
	// ReasonUninstalled or ReasonUIDChanged.
	Reason string
}

// expire removes an ended grant from the cache now and from SQLite in
// the background, so the hot path never waits for a commit.
func (e *Engine) expire(ent *entry, now time.Time) {
	if !ent.expiring.CompareAndSwap(false, true) {
		return
	}
	e.mu.Lock()
	if e.grants[ent.key()] == ent {
		delete(e.grants, ent.key())
	}
	e.mu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.writeMu.Lock()
		defer e.writeMu.Unlock()
		// A newer grant may have replaced this one meanwhile.
		e.mu.RLock()
		_, replaced := e.grants[ent.key()]
		e.mu.RUnlock()
		if replaced {
			return
		}
		if err := e.persist(context.Background(), Change{At: now, Action: ActionExpire, By: ByExpiry, Grant: ent.g}, nil); err != nil {
			e.log.Error("grants: cannot persist expiry", "package", ent.g.Package, "category", ent.g.Category, "err", err)
			return
		}
	}()
}

// Sweep expires every grant that has ended (a timer calls it, so that
// expiries are recorded even when the app never checks again).
func (e *Engine) Sweep() int {
	now := e.now()
	pol := e.policy.Load()
	var ended []*entry
	e.mu.RLock()
	for _, ent := range e.grants {
		if ent.g.Decision != Allow {
			continue
		}
		st := e.stateOf(ent.g.UID)
		if _, _, exp := e.applies(ent, st, StateForeground, now, pol); exp {
			ended = append(ended, ent)
		}
	}
	e.mu.RUnlock()
	for _, ent := range ended {
		e.expire(ent, now)
	}
	return len(ended)
}

// Set stores a grant (after Normalize) made by by, replacing any other
// for its key.
func (e *Engine) Set(ctx context.Context, g Grant, by string) (Grant, error) {
	now := e.now()
	g, err := e.cat.Normalize(g, now)
	if err != nil {
		return g, err
	}
	if _, ok := actorCodes[by]; !ok {
		return g, fmt.Errorf("set grant: unknown actor %q", by)
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	e.mu.RLock()
	old := e.grants[key{g.User, g.Package, e.mustCat(g.Category).Code}]
	e.mu.RUnlock()
	if old != nil {
		g.Version = old.g.Version + 1
		if g.UID == 0 {
			g.UID = old.g.UID
		}
	} else {
		g.Version = 1
	}
	g.Set, g.By = now, by
	ent, err := e.newEntry(g)
	if err != nil {
		return g, err
	}
	ch := Change{At: now, Action: ActionSet, By: by, Grant: g}
	if old != nil {
		prev := old.g
		ch.Prev = &prev
	}
	if err := e.persist(ctx, ch, &g); err != nil {
		return g, err
	}
	e.mu.Lock()
	e.grants[ent.key()] = ent
	e.mu.Unlock()
	if old == nil || !sameFrequency(old.g.Frequency, g.Frequency) {
		e.resetCounters(g.User, ent.cat.Code)
	}
	e.prime(ent)
	if old != nil {
		old.expiring.Store(true) // a replaced entry must not expire the new one
	}
	return g, nil
}

// Revoke removes a grant; the next check denies.
func (e *Engine) Revoke(ctx context.Context, user int, pkg, category, by string) (Grant, error) {
	cat, ok := e.cat.Category(category)
	if !ok {
		return Grant{}, perr("category", "unknown category %q (known: %v)", category, e.cat.IDs())
	}
	now := e.now()
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	k := key{user, pkg, cat.Code}
	e.mu.RLock()
	old := e.grants[k]
	e.mu.RUnlock()
	if old == nil {
		return Grant{}, ErrNotFound
	}
	if err := e.persist(ctx, Change{At: now, Action: ActionRevoke, By: by, Grant: old.g}, nil); err != nil {
		return Grant{}, err
	}
	old.expiring.Store(true)
	e.mu.Lock()
	delete(e.grants, k)
	e.mu.Unlock()
	e.resetCounters(user, cat.Code)
	return old.g, nil
}

// persist writes change c (g is the grant after a set, nil otherwise)
// and has it recorded: through Config.Commit in one transaction with its
// records when set, else the store alone and then OnChange. The commit
// is waited for even if ctx ends meanwhile, so that the cache never
// disagrees with what was stored.
func (e *Engine) persist(ctx context.Context, c Change, g *Grant) error {
	ctx = context.WithoutCancel(ctx)
	if e.commit != nil {
		return e.commit(ctx, c, func(ctx context.Context, tx *sql.Tx) error {
			return e.store.writeTx(ctx, tx, c.At, c.Action, c.By, c.Grant, g)
		})
	}
	if err := e.store.write(ctx, c.At, c.Action, c.By, c.Grant, g); err != nil {
		return err
	}
	e.onChange(c)
	return nil
}

func sameFrequency(a, b *Frequency) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}
