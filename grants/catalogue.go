// Package grants is permd's Art. 30 consent model: the catalogue of
// sensitive permission categories, grants by time, frequency and
// precision per (user, package, category), the decision made on every
// access, frequency limits that survive restarts, and location fudging.
// It knows nothing of sockets or the ledger: the framework wires it.
package grants

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

//go:embed catalogue.json
var catalogueJSON []byte

// Text is a string in several languages, keyed by BCP 47 tag ("en",
// "zh-CN").
type Text map[string]string

// In returns the text in lang, falling back to English.
func (t Text) In(lang string) string {
	if s, ok := t[lang]; ok {
		return s
	}
	return t["en"]
}

// Level is one precision level of a category. Its Effect is one of a
// small closed set the enforcement code knows; a new level with a known
// effect (another radius, another media type) is a data row only.
type Level struct {
	ID     string `json:"id"`
	Effect string `json:"effect"` // full | radius | selected | subset | empty
	// RadiusM is the location radius for effect "radius" (0 when Custom).
	RadiusM int `json:"radius_m,omitempty"`
	// Custom levels take the radius from the grant, within Min/Max.
	Custom     bool   `json:"custom,omitempty"`
	MinRadiusM int    `json:"min_radius_m,omitempty"`
	MaxRadiusM int    `json:"max_radius_m,omitempty"`
	Scope      string `json:"scope,omitempty"` // for effect "subset": what part of the data
	Label      Text   `json:"label"`
}

// Level effects.
const (
	EffectFull     = "full"
	EffectRadius   = "radius"
	EffectSelected = "selected"
	EffectSubset   = "subset"
	EffectEmpty    = "empty"
)

// Background policies of a category.
const (
	BackgroundAllowed  = "allowed"  // time grants may include background use
	BackgroundExplicit = "explicit" // only when chosen explicitly (location, Art. 14)
	BackgroundNever    = "never"    // foreground only (camera, microphone)
)

// Category is one Art. 30 permission category.
type Category struct {
	ID          string   `json:"id"`
	Code        int      `json:"code"` // integer code stored in SQLite
	Icon        string   `json:"icon"`
	Label       Text     `json:"label"`
	Risk        Text     `json:"risk"`
	Permissions []string `json:"permissions"`
	AppOps      []string `json:"app_ops"`
	Dimensions  []string `json:"dimensions"`
	TimeModes   []string `json:"time_modes"`
	Background  string   `json:"background"`
	Levels      []Level  `json:"levels"`
	// DefaultLevel is the most protective reasonable level, preselected
	// in the dialog.
	DefaultLevel string `json:"default_level"`
}

// Level returns the category's level by id.
func (c *Category) Level(id string) (Level, bool) {
	for _, l := range c.Levels {
		if l.ID == id {
			return l, true
		}
	}
	return Level{}, false
}

// HasTimeMode reports whether mode is offered for the category.
func (c *Category) HasTimeMode(mode string) bool {
	for _, m := range c.TimeModes {
		if m == mode {
			return true
		}
	}
	return false
}

// Catalogue is the shipped list of categories.
type Catalogue struct {
	Version          int             `json:"version"`
	Durations        []string        `json:"durations"`
	FrequencyWindows []string        `json:"frequency_windows"`
	Categories       []Category      `json:"categories"`
	TimeLabels       map[string]Text `json:"time_labels"`
	Titles           Text            `json:"titles"`

	byID   map[string]*Category
	byCode map[int]*Category
	byName map[string]*Category
}

// Time modes.
const (
	ModeOnce       = "once"
	ModeWhileInUse = "while_in_use"
	ModeDuration   = "duration"
	ModeUntil      = "until"
	ModeWindow     = "window"
	ModeAlways     = "always"
)

var allModes = []string{ModeOnce, ModeWhileInUse, ModeDuration, ModeUntil, ModeWindow, ModeAlways}

var allEffects = []string{EffectFull, EffectRadius, EffectSelected, EffectSubset, EffectEmpty}

// LoadCatalogue returns the embedded catalogue.
func LoadCatalogue() (*Catalogue, error) { return ParseCatalogue(catalogueJSON) }

// ParseCatalogue decodes and checks a catalogue: every category needs a
// unique id and code, labels and risk texts in en and zh-CN, known time
// modes and effects, and a default level among its levels.
func ParseCatalogue(b []byte) (*Catalogue, error) {
	var c Catalogue
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	c.byID = map[string]*Category{}
	c.byCode = map[int]*Category{}
	c.byName = map[string]*Category{}
	for _, d := range c.Durations {
		if _, err := time.ParseDuration(d); err != nil {
			return nil, fmt.Errorf("catalogue: duration %q: %w", d, err)
		}
	}
	for i := range c.Categories {
		cat := &c.Categories[i]
		where := fmt.Sprintf("catalogue: category %q", cat.ID)
		if cat.ID == "" || cat.Code <= 0 {
			return nil, fmt.Errorf("%s: needs an id and a positive code", where)
		}
		if c.byID[cat.ID] != nil || c.byCode[cat.Code] != nil {
			return nil, fmt.Errorf("%s: duplicate id or code", where)
		}
		for _, lang := range []string{"en", "zh-CN"} {
			if cat.Label[lang] == "" || cat.Risk[lang] == "" {
				return nil, fmt.Errorf("%s: label and risk needed in %s", where, lang)
			}
		}
		for _, m := range cat.TimeModes {
			if !contains(allModes, m) {
				return nil, fmt.Errorf("%s: unknown time mode %q", where, m)
			}
		}
		if !contains([]string{BackgroundAllowed, BackgroundExplicit, BackgroundNever}, cat.Background) {
			return nil, fmt.Errorf("%s: background %q", where, cat.Background)
		}
		if len(cat.Levels) == 0 {
			return nil, fmt.Errorf("%s: no precision levels", where)
		}
		seen := map[string]bool{}
		for _, l := range cat.Levels {
			if l.ID == "" || seen[l.ID] || !contains(allEffects, l.Effect) {
				return nil, fmt.Errorf("%s: level %q: duplicate id or unknown effect %q", where, l.ID, l.Effect)
			}
			seen[l.ID] = true
			if l.Effect == EffectRadius && !l.Custom && l.RadiusM <= 0 {
				return nil, fmt.Errorf("%s: level %q: radius level without radius_m", where, l.ID)
			}
			if l.Custom && (l.MinRadiusM <= 0 || l.MaxRadiusM < l.MinRadiusM) {
				return nil, fmt.Errorf("%s: level %q: custom level needs 0 < min_radius_m <= max_radius_m", where, l.ID)
			}
			if l.Label["en"] == "" || l.Label["zh-CN"] == "" {
				return nil, fmt.Errorf("%s: level %q: label needed in en and zh-CN", where, l.ID)
			}
		}
		if !seen[cat.DefaultLevel] {
			return nil, fmt.Errorf("%s: default_level %q is not one of its levels", where, cat.DefaultLevel)
		}
		c.byID[cat.ID] = cat
		c.byCode[cat.Code] = cat
		for _, p := range cat.Permissions {
			if c.byName[p] != nil {
				return nil, fmt.Errorf("%s: permission %s listed twice", where, p)
			}
			c.byName[p] = cat
			c.byName[p[strings.LastIndexByte(p, '.')+1:]] = cat
		}
		for _, op := range cat.AppOps {
			if c.byName[op] != nil {
				return nil, fmt.Errorf("%s: app-op %s listed twice", where, op)
			}
			c.byName[op] = cat
		}
	}
	return &c, nil
}

// Category returns a category by id ("location").
func (c *Catalogue) Category(id string) (*Category, bool) {
	cat, ok := c.byID[id]
	return cat, ok
}

// ByCode returns a category by its stored integer code.
func (c *Catalogue) ByCode(code int) (*Category, bool) {
	cat, ok := c.byCode[code]
	return cat, ok
}

// Lookup maps an Android permission ("android.permission.CAMERA" or
// "CAMERA") or app-op ("android:camera") to its category.
func (c *Catalogue) Lookup(name string) (*Category, bool) {
	cat, ok := c.byName[name]
	return cat, ok
}

// IDs lists the category ids in catalogue order.
func (c *Catalogue) IDs() []string {
	out := make([]string, len(c.Categories))
	for i, cat := range c.Categories {
		out[i] = cat.ID
	}
	return out
}

// Localized returns a copy of the catalogue with every text reduced to
// lang (falling back to English), for a client that shows one language.
func (c *Catalogue) Localized(lang string) *Catalogue {
	one := func(t Text) Text { return Text{lang: t.In(lang)} }
	out := &Catalogue{Version: c.Version, Durations: c.Durations, FrequencyWindows: c.FrequencyWindows, TimeLabels: map[string]Text{}, Titles: one(c.Titles)}
	for k, t := range c.TimeLabels {
		out.TimeLabels[k] = one(t)
	}
	for _, cat := range c.Categories {
		cc := cat
		cc.Label, cc.Risk = one(cat.Label), one(cat.Risk)
		cc.Levels = make([]Level, len(cat.Levels))
		for i, l := range cat.Levels {
			l.Label = one(l.Label)
			cc.Levels[i] = l
		}
		out.Categories = append(out.Categories, cc)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
