package framework

import (
	"fmt"
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

	roles []RoleRule // Roles, validated
}

// parseCoreConfig validates permd.json's roles and limits.
func parseCoreConfig(snap *Snapshot) (*coreConfig, error) {
	cfg := &coreConfig{Limits: DefaultLimits()}
	// permd.json holds only the core's roles and limits, decoded
	// strictly; other parts own their own files.
	raw, _ := snap.File(MainFile)
	if err := DecodeFile(MainFile, "", raw, cfg); err != nil {
		return nil, err
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
	cfg.roles = cfg.Roles
	return cfg, nil
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
