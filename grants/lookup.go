package grants

import (
	"context"
	"sort"
)

// Filter selects grants for List; zero fields match all.
type Filter struct {
	User     *int
	Package  string
	Category string
	UID      int
}

// List returns current grants, sorted by user, package, category.
func (e *Engine) List(f Filter) []Grant {
	e.Sweep()
	e.mu.RLock()
	out := make([]Grant, 0, len(e.grants))
	for _, ent := range e.grants {
		g := ent.g
		if (f.User != nil && g.User != *f.User) || (f.Package != "" && g.Package != f.Package) ||
			(f.Category != "" && g.Category != f.Category) || (f.UID != 0 && g.UID != f.UID) {
			continue
		}
		out = append(out, g)
	}
	e.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.User != b.User {
			return a.User < b.User
		}
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		return e.mustCat(a.Category).Code < e.mustCat(b.Category).Code
	})
	return out
}

// Get returns one grant (nil if none now) and its history, newest last.
func (e *Engine) Get(ctx context.Context, user int, pkg, category string, limit int) (*Grant, []HistoryEntry, error) {
	cat, ok := e.cat.Category(category)
	if !ok {
		return nil, nil, perr("category", "unknown category %q (known: %v)", category, e.cat.IDs())
	}
	e.Sweep()
	e.mu.RLock()
	ent := e.grants[key{user, pkg, cat.Code}]
	e.mu.RUnlock()
	hist, err := e.store.history(ctx, user, pkg, category, limit)
	if err != nil {
		return nil, nil, err
	}
	if ent == nil {
		return nil, hist, nil
	}
	g := ent.g
	return &g, hist, nil
}

// Current returns the grant in force for the first of pkgs that has one
// and its precision level (with a custom radius filled in), without
// counting an access.
func (e *Engine) Current(uid int, pkgs []string, category string) (Grant, Level, bool) {
	cat, ok := e.cat.Category(category)
	if !ok {
		return Grant{}, Level{}, false
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, p := range pkgs {
		if ent := e.grants[key{UserOf(uid), p, cat.Code}]; ent != nil && ent.belongsTo(uid) {
			return ent.g, ent.lvl, true
		}
	}
	return Grant{}, Level{}, false
}

// Len is the number of grants in the cache (cheap: for sys.health).
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.grants)
}
