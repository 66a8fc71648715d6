package grants

import (
	"fmt"
	"time"
)

// Summary is a one-line description of a grant for records and
// listings: "com.a.b location: allow while_in_use, 10/hour, approx_1km".
func (g Grant) Summary() string {
	s := g.Package + " " + g.Category + ": " + g.Decision
	if g.Decision == Deny {
		return s
	}
	t := g.Time
	s += " " + t.Mode
	switch t.Mode {
	case ModeDuration:
		s += " " + t.For
	case ModeUntil:
		s += " " + t.Until.UTC().Format(time.RFC3339)
	case ModeWindow:
		s += " " + t.Window
	}
	if t.Background && t.Mode != ModeAlways {
		s += " +background"
	}
	if f := g.Frequency; f != nil {
		s += fmt.Sprintf(", %d/%s", f.Max, f.Per)
	}
	s += ", " + g.Precision.Level
	if g.Precision.RadiusM > 0 {
		s += fmt.Sprintf(" %dm", g.Precision.RadiusM)
	}
	if n := len(g.Precision.Items); n > 0 {
		s += fmt.Sprintf(" (%d items)", n)
	}
	return s
}

// Ends returns when a duration or until grant ends, zero otherwise.
func (g Grant) Ends() time.Time {
	switch g.Time.Mode {
	case ModeDuration:
		if d, err := time.ParseDuration(g.Time.For); err == nil {
			return g.Set.Add(d)
		}
	case ModeUntil:
		return g.Time.Until
	}
	return time.Time{}
}

// Result is what a check under the grant's level yields when allowed:
// allowed, reduced or decoy (denied for a deny).
func (c *Catalogue) Result(g Grant) string {
	if g.Decision != Allow {
		return ResultDenied
	}
	cat, ok := c.Category(g.Category)
	if !ok {
		return ""
	}
	l, _ := cat.Level(g.Precision.Level)
	switch l.Effect {
	case EffectFull:
		return ResultAllowed
	case EffectEmpty:
		return ResultDecoy
	}
	return ResultReduced
}
