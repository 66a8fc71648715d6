package grants

import (
	"context"
)

// Why a grant ended with its app.
const (
	// ReasonUninstalled: the package is no longer installed.
	ReasonUninstalled = "uninstalled"
	// ReasonUIDChanged: the package is installed under another uid than
	// the grant was made for: it was removed and installed again, and the
	// new install is another app as far as consent goes.
	ReasonUIDChanged = "uid_changed"
)

// belongsTo reports whether a grant may serve uid: a grant made for a
// known uid never serves another one, so a reinstall under a new uid
// starts with no grant even before the package list is reconciled.
func (ent *entry) belongsTo(uid int) bool { return ent.g.UID == 0 || ent.g.UID == uid }

// Resolve maps a package to its uid for an Android user; ok false means
// the package is not installed.
type Resolve func(pkg string, user int) (uid int, ok bool)

// Reconcile revokes every grant whose app is gone: its package is not
// installed (ReasonUninstalled; only when absent is true, that is when
// the list resolve reads is complete), or is installed under another uid
// than the grant's (ReasonUIDChanged). Each revocation is written with its
// history row and reported to OnChange with the reason, by
// ByPackageManager. It returns the revocations made; a grant it cannot
// persist stays (and is logged), to be tried at the next reconcile.
func (e *Engine) Reconcile(ctx context.Context, resolve Resolve, absent bool) []Change {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	var ended []gone
	e.mu.RLock()
	for _, ent := range e.grants {
		uid, ok := resolve(ent.g.Package, ent.g.User)
		switch {
		case !ok:
			if absent {
				ended = append(ended, gone{ent, ReasonUninstalled})
			}
		case ent.g.UID != 0 && uid != ent.g.UID:
			ended = append(ended, gone{ent, ReasonUIDChanged})
		}
	}
	e.mu.RUnlock()
	return e.revokeGone(ctx, ended)
}

// Removed revokes every grant of pkg in user: the framework saw the
// package removed for that user only (packages.list, which lists a
// package while any user has it, cannot show that). It returns the
// revocations made.
func (e *Engine) Removed(ctx context.Context, user int, pkg string) []Change {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	var ended []gone
	e.mu.RLock()
	for k, ent := range e.grants {
		if k.user == user && k.pkg == pkg {
			ended = append(ended, gone{ent, ReasonUninstalled})
		}
	}
	e.mu.RUnlock()
	return e.revokeGone(ctx, ended)
}

type gone struct {
	ent    *entry
	reason string
}

// revokeGone revokes grants whose app is gone; the caller holds writeMu.
func (e *Engine) revokeGone(ctx context.Context, ended []gone) []Change {
	now := e.now()
	var out []Change
	for _, g := range ended {
		ent := g.ent
		ch := Change{At: now, Action: ActionRevoke, By: ByPackageManager, Grant: ent.g, Reason: g.reason}
		if err := e.persist(ctx, ch, nil); err != nil {
			e.log.Error("grants: cannot revoke the grant of a removed app", "user", ent.g.User, "package", ent.g.Package, "category", ent.g.Category, "reason", g.reason, "err", err)
			continue
		}
		ent.expiring.Store(true)
		e.mu.Lock()
		if e.grants[ent.key()] == ent {
			delete(e.grants, ent.key())
		}
		e.mu.Unlock()
		e.resetCounters(ent.g.User, ent.cat.Code)
		out = append(out, ch)
	}
	if len(out) > 0 {
		e.log.Info("grants: revoked the grants of removed apps", "revoked", len(out))
	}
	return out
}
