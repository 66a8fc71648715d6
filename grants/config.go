package grants

import (
	"fmt"
	"time"

	"permd/aosp/etc"
)

// ConfigFile is the grants capability's config file in the config dir.
const ConfigFile = "grants.json"

// File is grants.json as written. Every field is optional; absent means
// the built-in default (DefaultPolicy, DefaultSweep).
type File struct {
	Version        int          `json:"version"`
	OnceGrace      etc.Duration `json:"once_grace"`
	OnceDeathGrace etc.Duration `json:"once_death_grace"`
	AskTTL         etc.Duration `json:"ask_ttl"`
	// SessionLookback bounds "once per session" counts after a restart.
	SessionLookback etc.Duration `json:"session_lookback"`
	FudgePeriod     etc.Duration `json:"fudge_period"`
	// FudgeRotation is how long a user's location secret lives.
	FudgeRotation etc.Duration `json:"fudge_rotation"`
	// SweepInterval is how often ended grants are expired (and recorded)
	// when nothing checks them.
	SweepInterval etc.Duration `json:"sweep_interval"`
	// TimeZone names the zone of daily windows and day limits until the
	// device's zone is known ("" = the process's local zone, UTC on
	// Android); the device's zone (Engine.SetZone) wins.
	TimeZone string `json:"time_zone"`
}

// DefaultSweep is how often ended grants are expired when grants.json
// does not say.
const DefaultSweep = 10 * time.Second

// Settings is grants.json validated.
type Settings struct {
	Policy Policy
	// Sweep is how often the daemon expires ended grants (Engine.Sweep).
	Sweep time.Duration
}

// Compile validates a decoded grants.json; nil means no file (the
// defaults). Errors are *etc.FieldError naming the field as written.
func Compile(f *File) (Settings, error) {
	out := Settings{Policy: DefaultPolicy(), Sweep: DefaultSweep}
	if f == nil {
		return out, nil
	}
	if f.Version != 1 {
		return Settings{}, &etc.FieldError{Field: "version", Problem: fmt.Sprintf("unsupported version %d (this permd reads version 1)", f.Version)}
	}
	for _, d := range []struct {
		name   string
		v      etc.Duration
		dst    *time.Duration
		lo, hi time.Duration
	}{
		{"once_grace", f.OnceGrace, &out.Policy.OnceGrace, 0, time.Hour},
		{"once_death_grace", f.OnceDeathGrace, &out.Policy.OnceDeathGrace, 0, time.Hour},
		{"ask_ttl", f.AskTTL, &out.Policy.AskTTL, time.Second, 24 * time.Hour},
		{"session_lookback", f.SessionLookback, &out.Policy.SessionLookback, time.Minute, 7 * 24 * time.Hour},
		{"fudge_period", f.FudgePeriod, &out.Policy.FudgePeriod, time.Minute, 30 * 24 * time.Hour},
		{"fudge_rotation", f.FudgeRotation, &out.Policy.FudgeRotation, 24 * time.Hour, 366 * 24 * time.Hour},
		{"sweep_interval", f.SweepInterval, &out.Sweep, time.Second, time.Hour},
	} {
		if d.v == 0 {
			continue
		}
		v := time.Duration(d.v)
		if v < d.lo || v > d.hi {
			return Settings{}, &etc.FieldError{Field: d.name, Problem: v.String() + " is outside " + d.lo.String() + ".." + d.hi.String()}
		}
		*d.dst = v
	}
	if f.TimeZone != "" {
		loc, err := time.LoadLocation(f.TimeZone)
		if err != nil {
			return Settings{}, &etc.FieldError{Field: "time_zone", Problem: err.Error()}
		}
		out.Policy.Location = loc
	}
	return out, nil
}
