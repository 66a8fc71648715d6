package grants

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Grant is the user's choice for one (user, package, category).
type Grant struct {
	User     int    `json:"user"`
	Package  string `json:"package"`
	Category string `json:"category"`
	// UID is the app's uid when known (from a request or check), else 0.
	UID int `json:"uid,omitempty"`
	// Decision is "allow" or "deny".
	Decision  string     `json:"decision"`
	Time      TimeRule   `json:"time"`
	Frequency *Frequency `json:"frequency,omitempty"`
	Precision Precision  `json:"precision"`
	// Set, By and Version are stamped by the engine.
	Set     time.Time `json:"set,omitzero"`
	By      string    `json:"by,omitempty"`
	Version int64     `json:"version,omitempty"`
}

// Decisions.
const (
	Allow = "allow"
	Deny  = "deny"
)

// Who changed a grant.
const (
	ByDialog   = "dialog"
	BySettings = "settings"
	ByShell    = "shell"
	ByPolicy   = "policy"
	ByExpiry   = "expiry"
	// ByPackageManager: the app was uninstalled or reinstalled (seen in
	// packages.list); its grants end with it.
	ByPackageManager = "package_manager"
)

// TimeRule says when a grant applies.
type TimeRule struct {
	Mode string `json:"mode"` // once | while_in_use | duration | until | window | always
	// For is the length of a duration grant ("1h"); the end is Set+For.
	For string `json:"for,omitempty"`
	// Until ends an until grant (RFC 3339).
	Until time.Time `json:"until,omitzero"`
	// Window is a daily window "09:00-18:00" in the device's time zone;
	// "22:00-06:00" crosses midnight.
	Window string `json:"window,omitempty"`
	// Background allows use while the app is not visible. Never for once
	// and while_in_use; implied by always, which for location must be
	// chosen explicitly.
	Background bool `json:"background,omitempty"`
}

// Frequency caps accesses per window.
type Frequency struct {
	Max int    `json:"max"`
	Per string `json:"per"` // minute | hour | day | session
}

// Precision is the granted level and its parameters.
type Precision struct {
	Level   string   `json:"level"`
	RadiusM int      `json:"radius_m,omitempty"` // for custom radius levels
	Items   []string `json:"items,omitempty"`    // for "selected": ids the user chose
}

// ParamError is a bad grant: Field names the part at fault, so the
// framework can return an InvalidParams naming it.
type ParamError struct {
	Field   string
	Problem string
}

func (e *ParamError) Error() string { return e.Field + ": " + e.Problem }

func perr(field, format string, args ...any) error {
	return &ParamError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// ErrNotFound means no grant exists for the key.
var ErrNotFound = errors.New("no such grant")

// packageRE is Android's package name syntax: two or more dot-separated
// Java identifiers.
var packageRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$`)

// ValidPackage reports whether name is a syntactically valid package
// (packageRE). It scans by hand: perm.check asks for every call, and the
// regexp took a third of the handler. FuzzValidPackage holds the two
// equal.
func ValidPackage(name string) bool {
	if len(name) > 255 {
		return false
	}
	dots, start := 0, true // start: the next byte begins a segment
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		switch {
		case start && !letter:
			return false
		case c == '.':
			dots++
			start = true
		case letter || c == '_' || c >= '0' && c <= '9':
			start = false
		default:
			return false
		}
	}
	return dots > 0 && !start
}

var windowRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$`)

// ParseWindow parses "HH:MM-HH:MM" into minutes since midnight. A window
// whose end is before its start crosses midnight ("22:00-06:00": from
// 22:00 until 06:00 the next morning); one that ends where it starts is
// refused (empty, or the whole day, which is what always means).
func ParseWindow(s string) (start, end int, err error) {
	m := windowRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("%q is not HH:MM-HH:MM", s)
	}
	var h1, m1, h2, m2 int
	fmt.Sscanf(m[1]+" "+m[2]+" "+m[3]+" "+m[4], "%d %d %d %d", &h1, &m1, &h2, &m2)
	start, end = h1*60+m1, h2*60+m2
	if end > 24*60 {
		return 0, 0, fmt.Errorf("%q ends after 24:00", s)
	}
	if end == start {
		return 0, 0, fmt.Errorf("%q ends where it starts; for the whole day use always", s)
	}
	return start, end, nil
}

// Normalize checks g against the catalogue and fills implied fields
// (default level, background for always). It returns a *ParamError
// naming the field at fault; g is not changed on error.
func (c *Catalogue) Normalize(g Grant, now time.Time) (Grant, error) {
	if g.User < 0 {
		return g, perr("user", "negative user id %d", g.User)
	}
	if !ValidPackage(g.Package) {
		return g, perr("package", "%q is not a valid package name", g.Package)
	}
	cat, ok := c.Category(g.Category)
	if !ok {
		return g, perr("category", "unknown category %q (known: %v)", g.Category, c.IDs())
	}
	switch g.Decision {
	case Allow:
	case Deny:
		// A denial is complete by itself: options would be contradictory.
		if g.Time != (TimeRule{}) || g.Frequency != nil || g.Precision.Level != "" || g.Precision.RadiusM != 0 || len(g.Precision.Items) > 0 {
			return g, perr("decision", "a deny takes no time, frequency or precision options")
		}
		g.Time = TimeRule{Mode: ModeAlways}
		return g, nil
	default:
		return g, perr("decision", "want %q or %q, got %q", Allow, Deny, g.Decision)
	}
	t := g.Time
	if t.Mode == "" {
		return g, perr("time.mode", "missing (one of %v)", cat.TimeModes)
	}
	if !contains(allModes, t.Mode) {
		return g, perr("time.mode", "unknown mode %q (one of %v)", t.Mode, allModes)
	}
	if !cat.HasTimeMode(t.Mode) {
		return g, perr("time.mode", "%q is not offered for %s (one of %v)", t.Mode, cat.ID, cat.TimeModes)
	}
	// Each mode takes exactly its own parameter.
	if (t.For != "") != (t.Mode == ModeDuration) {
		return g, perr("time.for", "only a duration grant takes a length, and it needs one")
	}
	if !t.Until.IsZero() != (t.Mode == ModeUntil) {
		return g, perr("time.until", "only an until grant takes an end date, and it needs one")
	}
	if (t.Window != "") != (t.Mode == ModeWindow) {
		return g, perr("time.window", "only a window grant takes a daily window, and it needs one")
	}
	switch t.Mode {
	case ModeOnce, ModeWhileInUse:
		if t.Background {
			return g, perr("time.background", "%s is foreground only and cannot include background use", t.Mode)
		}
	case ModeDuration:
		d, err := time.ParseDuration(t.For)
		if err != nil || d <= 0 {
			return g, perr("time.for", "%q is not a positive duration such as 1h or 24h", t.For)
		}
		if d > 366*24*time.Hour {
			return g, perr("time.for", "%q is longer than a year; use until or always", t.For)
		}
	case ModeUntil:
		if !t.Until.After(now) {
			return g, perr("time.until", "%s is not in the future", t.Until.Format(time.RFC3339))
		}
	case ModeWindow:
		if _, _, err := ParseWindow(t.Window); err != nil {
			return g, perr("time.window", "%v", err)
		}
	case ModeAlways:
		if cat.Background == BackgroundExplicit && !t.Background {
			return g, perr("time.background", "always for %s includes background use, which must be chosen explicitly (set background: true) or choose while_in_use", cat.ID)
		}
		if cat.Background != BackgroundNever {
			t.Background = true
		}
	}
	if t.Background && cat.Background == BackgroundNever {
		return g, perr("time.background", "%s is never granted in the background", cat.ID)
	}
	g.Time = t
	if f := g.Frequency; f != nil {
		if f.Max <= 0 {
			return g, perr("frequency.max", "must be at least 1, got %d", f.Max)
		}
		if !contains(c.FrequencyWindows, f.Per) {
			return g, perr("frequency.per", "unknown window %q (one of %v)", f.Per, c.FrequencyWindows)
		}
	}
	p := g.Precision
	if p.Level == "" {
		p.Level = cat.DefaultLevel
	}
	lvl, ok := cat.Level(p.Level)
	if !ok {
		ids := make([]string, len(cat.Levels))
		for i, l := range cat.Levels {
			ids[i] = l.ID
		}
		return g, perr("precision.level", "unknown level %q for %s (one of %v)", p.Level, cat.ID, ids)
	}
	if lvl.Custom {
		if p.RadiusM < lvl.MinRadiusM || p.RadiusM > lvl.MaxRadiusM {
			return g, perr("precision.radius_m", "%d is outside %d..%d metres", p.RadiusM, lvl.MinRadiusM, lvl.MaxRadiusM)
		}
	} else if p.RadiusM != 0 {
		return g, perr("precision.radius_m", "only a custom level takes a radius")
	}
	if lvl.Effect != EffectSelected && len(p.Items) > 0 {
		return g, perr("precision.items", "only a selected level takes items")
	}
	if len(p.Items) > 10000 {
		return g, perr("precision.items", "%d items; at most 10000", len(p.Items))
	}
	g.Precision = p
	return g, nil
}
