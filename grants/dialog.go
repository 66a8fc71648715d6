package grants

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

type pending struct {
	uid     int
	user    int
	pkg     string
	cat     string
	expires time.Time
}

// Request statuses.
const (
	StatusGranted = "granted"
	StatusDenied  = "denied"
	StatusAsk     = "ask"
)

// RequestResult answers perm.request.
type RequestResult struct {
	Status    string  `json:"status"`
	Grant     *Grant  `json:"grant,omitempty"`
	RequestID string  `json:"request_id,omitempty"`
	Dialog    *Dialog `json:"dialog,omitempty"`
}

// Dialog is what the consent dialog shows: localized texts, the options
// that apply to this permission, and the preselected choice.
type Dialog struct {
	Lang        string   `json:"lang"`
	Category    string   `json:"category"`
	Icon        string   `json:"icon"`
	Title       string   `json:"title"`
	Risk        string   `json:"risk"`
	TimeModes   []Option `json:"time_modes"`
	Durations   []string `json:"durations"`
	Background  string   `json:"background"`
	Levels      []Option `json:"levels,omitempty"`
	Frequency   []string `json:"frequency_windows,omitempty"`
	Preselected Grant    `json:"preselected"`
}

// Option is one choice in the dialog.
type Option struct {
	ID      string `json:"id"`
	Label   string `json:"label"`
	Effect  string `json:"effect,omitempty"`
	RadiusM int    `json:"radius_m,omitempty"`
	Custom  bool   `json:"custom,omitempty"`
}

// Request answers an app's request for a category: the standing grant,
// a standing denial, or a dialog to show.
func (e *Engine) Request(uid int, pkg, category, lang string) (RequestResult, error) {
	cat, ok := e.cat.Category(category)
	if !ok {
		return RequestResult{}, perr("category", "unknown category %q (known: %v)", category, e.cat.IDs())
	}
	if !ValidPackage(pkg) {
		return RequestResult{}, perr("package", "%q is not a valid package name", pkg)
	}
	now := e.now()
	pol := e.policy.Load()
	user := UserOf(uid)
	e.mu.RLock()
	ent := e.grants[key{user, pkg, cat.Code}]
	e.mu.RUnlock()
	if ent != nil && !ent.belongsTo(uid) {
		ent = nil // another install's grant: this one has none
	}
	if ent != nil {
		g := ent.g
		if g.Decision == Deny {
			return RequestResult{Status: StatusDenied, Grant: &g}, nil
		}
		if _, _, expired := e.applies(ent, e.stateOf(uid), StateForeground, now, pol); !expired {
			return RequestResult{Status: StatusGranted, Grant: &g}, nil
		}
		e.expire(ent, now)
	}
	id := newID()
	e.askMu.Lock()
	for k, p := range e.asks {
		if now.After(p.expires) {
			delete(e.asks, k)
		}
	}
	if len(e.asks) >= 4096 {
		e.askMu.Unlock()
		return RequestResult{}, errTooManyAsks
	}
	e.asks[id] = pending{uid: uid, user: user, pkg: pkg, cat: category, expires: now.Add(pol.AskTTL)}
	e.askMu.Unlock()
	return RequestResult{Status: StatusAsk, RequestID: id, Dialog: e.dialog(cat, pkg, lang)}, nil
}

var errTooManyAsks = errors.New("too many pending permission requests")

// ErrTooManyAsks reports that the pending-dialog table is full.
func IsTooManyAsks(err error) bool { return errors.Is(err, errTooManyAsks) }

func (e *Engine) dialog(cat *Category, pkg, lang string) *Dialog {
	if lang == "" {
		lang = "en"
	}
	d := &Dialog{
		Lang: lang, Category: cat.ID, Icon: cat.Icon,
		Title:      fmt.Sprintf(e.cat.Titles.In(lang), pkg, cat.Label.In(lang)),
		Risk:       cat.Risk.In(lang),
		Durations:  e.cat.Durations,
		Background: cat.Background,
		Frequency:  e.cat.FrequencyWindows,
		Preselected: Grant{Package: pkg, Category: cat.ID, Decision: Allow,
			Time: TimeRule{Mode: ModeOnce}, Precision: Precision{Level: cat.DefaultLevel}},
	}
	for _, m := range cat.TimeModes {
		d.TimeModes = append(d.TimeModes, Option{ID: m, Label: e.cat.TimeLabels[m].In(lang)})
	}
	if len(cat.Levels) > 1 {
		for _, l := range cat.Levels {
			d.Levels = append(d.Levels, Option{ID: l.ID, Label: l.Label.In(lang), Effect: l.Effect, RadiusM: l.RadiusM, Custom: l.Custom})
		}
	}
	return d
}

// Decide records the user's dialog choice for a pending request. With an
// empty requestID the grant's own key is used (a dialog shown without a
// prior perm.request).
func (e *Engine) Decide(ctx context.Context, requestID string, g Grant) (Grant, error) {
	if requestID != "" {
		e.askMu.Lock()
		p, ok := e.asks[requestID]
		e.askMu.Unlock()
		if !ok || e.now().After(p.expires) {
			return g, ErrNotFound
		}
		if g.Package == "" {
			g.Package = p.pkg
		}
		if g.Category == "" {
			g.Category = p.cat
		}
		if g.Package != p.pkg || g.Category != p.cat {
			return g, perr("package", "request %s was for %s/%s", requestID, p.pkg, p.cat)
		}
		g.User, g.UID = p.user, p.uid
	}
	out, err := e.Set(ctx, g, ByDialog)
	if err == nil && requestID != "" {
		e.askMu.Lock()
		delete(e.asks, requestID)
		e.askMu.Unlock()
	}
	return out, err
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
