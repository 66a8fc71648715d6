package framework

import (
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"time"
)

// Limits bounds what one client can cost the daemon.
type Limits struct {
	MaxLineBytes         int      `json:"max_line_bytes"`
	MaxBatch             int      `json:"max_batch"`
	MaxConnections       int      `json:"max_connections"`
	MaxConnectionsPerUID int      `json:"max_connections_per_uid"`
	MaxInFlight          int      `json:"max_inflight_per_connection"`
	OutQueue             int      `json:"out_queue"`
	IdleTimeout          Duration `json:"idle_timeout"`
	ReadTimeout          Duration `json:"read_timeout"`
	WriteTimeout         Duration `json:"write_timeout"`
}

// DefaultLimits are the limits when permd.json names none. 64 KiB lines
// hold any real request with room to spare; per-uid connection caps keep
// one app from starving system_server.
func DefaultLimits() Limits {
	return Limits{
		MaxLineBytes:         64 << 10,
		MaxBatch:             1000,
		MaxConnections:       512,
		MaxConnectionsPerUID: 64,
		MaxInFlight:          16,
		OutQueue:             256,
		IdleTimeout:          Duration(5 * time.Minute),
		ReadTimeout:          Duration(10 * time.Second),
		WriteTimeout:         Duration(5 * time.Second),
	}
}

// coreConfig is the daemon's own share of permd.json.
type coreConfig struct {
	Version int        `json:"version"`
	Roles   []RoleRule `json:"roles"`
	Limits  Limits     `json:"limits"`
	// Widen lets a role call methods beyond its default set; see
	// widenable for what may be widened.
	Widen []WidenRule `json:"widen"`

	roles []RoleRule // Roles, validated
}

// parseCoreConfig validates permd.json's roles and limits.
func parseCoreConfig(snap *Snapshot) (*coreConfig, error) {
	cfg := &coreConfig{Limits: DefaultLimits()}
	// permd.json holds only the core's roles and limits, decoded
	// strictly; other parts own their own files.
	raw, _ := snap.File(MainFile)
	if err := decodeFile(raw, cfg); err != nil {
		return nil, configError(MainFile, err)
	}
	if cfg.Version != 1 {
		return nil, &ConfigError{File: MainFile, Field: "version", Problem: fmt.Sprintf("unsupported version %d (this permd reads version 1)", cfg.Version)}
	}
	for i, r := range cfg.Roles {
		field := fmt.Sprintf("roles[%d]", i)
		if !slices.Contains(AllRoles, r.Role) {
			return nil, &ConfigError{File: MainFile, Field: field + ".role", Problem: fmt.Sprintf("unknown role %q (known: %v)", r.Role, AllRoles)}
		}
		if r.UID == nil && r.ContextType == "" {
			return nil, &ConfigError{File: MainFile, Field: field, Problem: "a rule must name a uid, a context_type or both; a rule matching everyone would give every app that role"}
		}
		if r.Package != "" && r.ContextType == "" {
			return nil, &ConfigError{File: MainFile, Field: field + ".context_type", Problem: "a package rule must also name a context_type: without it any app installed under that package name would get the role"}
		}
		if r.UID != nil && *r.UID < 0 {
			return nil, &ConfigError{File: MainFile, Field: field + ".uid", Problem: "negative uid"}
		}
	}
	l := cfg.Limits
	// Durations are named and shown as the file writes them ("5m").
	for _, c := range []struct {
		name   string
		v      Duration
		lo, hi time.Duration
	}{
		{"idle_timeout", l.IdleTimeout, 100 * time.Millisecond, 24 * time.Hour},
		{"read_timeout", l.ReadTimeout, 10 * time.Millisecond, time.Hour},
		{"write_timeout", l.WriteTimeout, 10 * time.Millisecond, time.Hour},
	} {
		if v := time.Duration(c.v); v < c.lo || v > c.hi {
			return nil, &ConfigError{File: MainFile, Field: "limits." + c.name, Problem: fmt.Sprintf("%s is outside %s..%s", v, c.lo, c.hi)}
		}
	}
	checks := []struct {
		name      string
		v, lo, hi int
	}{
		{"max_line_bytes", l.MaxLineBytes, 1024, 16 << 20},
		{"max_batch", l.MaxBatch, 1, 100000},
		{"max_connections", l.MaxConnections, 1, 65536},
		{"max_connections_per_uid", l.MaxConnectionsPerUID, 1, 65536},
		{"max_inflight_per_connection", l.MaxInFlight, 1, 1024},
		{"out_queue", l.OutQueue, 1, 1 << 20},
	}
	for _, c := range checks {
		if c.v < c.lo || c.v > c.hi {
			return nil, &ConfigError{File: MainFile, Field: "limits." + c.name, Problem: fmt.Sprintf("%d is outside %d..%d", c.v, c.lo, c.hi)}
		}
	}
	for i, w := range cfg.Widen {
		field := fmt.Sprintf("widen[%d]", i)
		allowed, ok := widenable[w.Role]
		if !ok {
			return nil, &ConfigError{File: MainFile, Field: field + ".role", Problem: fmt.Sprintf("role %q cannot be widened (only %v)", w.Role, slices.Collect(maps.Keys(widenable)))}
		}
		if len(w.Methods) == 0 {
			return nil, &ConfigError{File: MainFile, Field: field + ".methods", Problem: "empty: name the methods the role may call"}
		}
		for j, m := range w.Methods {
			if !slices.Contains(allowed, m) {
				return nil, &ConfigError{File: MainFile, Field: fmt.Sprintf("%s.methods[%d]", field, j), Problem: fmt.Sprintf("%q cannot be given to %s (only %v)", m, w.Role, allowed)}
			}
		}
	}
	cfg.roles = cfg.Roles
	return cfg, nil
}

// WidenRule is a row of permd.json's widen table: Role may also call
// Methods.
type WidenRule struct {
	Role    Role     `json:"role"`
	Methods []string `json:"methods"`
}

// widenable is what a widen row may grant. The shell role is read-only
// by default (adb shell reads and verifies the record); a product whose
// service engineers must change grants from adb may give it the grant
// management methods, and nothing else: the hot-path and reporting
// methods stay with the framework, whose word the record takes.
var widenable = map[Role][]string{RoleShell: {"grants.set", "grants.revoke"}}

// widens reports whether a widen row lets role call method.
func (c *coreConfig) widens(role Role, method string) bool {
	for _, w := range c.Widen {
		if w.Role == role && slices.Contains(w.Methods, method) {
			return true
		}
	}
	return false
}

// methodStats counts calls per method for sys.health. The map is built
// once from the method table, so counting is lock-free.
type methodStats struct {
	calls map[string]*callCount
}

type callCount struct{ ok, failed atomic.Uint64 }

func newMethodStats(methods map[string]Method) *methodStats {
	st := &methodStats{calls: map[string]*callCount{"(unknown)": {}}}
	for name := range methods {
		st.calls[name] = &callCount{}
	}
	return st
}

func (st *methodStats) count(method string, ok bool) {
	c := st.calls[method]
	if c == nil {
		return
	}
	if ok {
		c.ok.Add(1)
	} else {
		c.failed.Add(1)
	}
}

// MethodCount is one method's line in sys.health.
type MethodCount struct {
	OK     uint64 `json:"ok"`
	Failed uint64 `json:"failed"`
}

func (st *methodStats) snapshot() map[string]MethodCount {
	out := make(map[string]MethodCount, len(st.calls))
	for name, c := range st.calls {
		ok, f := c.ok.Load(), c.failed.Load()
		if ok+f > 0 {
			out[name] = MethodCount{OK: ok, Failed: f}
		}
	}
	return out
}
