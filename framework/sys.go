package framework

import (
	"context"
	"runtime"
	"slices"
	"time"

	"permd/ledger/store"
)

// VersionInfo is the result of sys.version.
type VersionInfo struct {
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
	Driver   string `json:"sqlite_driver"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// Health is the result of sys.health.
type Health struct {
	Status        string                 `json:"status"` // "ok" or "degraded"
	UptimeMS      int64                  `json:"uptime_ms"`
	Storage       StorageHealth          `json:"storage"`
	Connections   int                    `json:"connections"`
	ConfigDir     string                 `json:"config_dir"`
	ConfigLoads   uint64                 `json:"config_reloads"`
	ConfigRejects uint64                 `json:"config_rejects"`
	QueueDepth    int                    `json:"queue_depth"`       // ledger records waiting for the writer
	Dropped       int64                  `json:"dropped"`           // ledger records lost to overload since start (each loss is itself recorded)
	Methods       map[string]MethodCount `json:"methods,omitempty"` // only with {"detail": true}
	Parts         map[string]any         `json:"parts,omitempty"`   // only with {"detail": true}
	You           Actor                  `json:"you"`
}

// StorageHealth says whether the database answers, is sound and can be
// written now; Error says why not.
type StorageHealth struct {
	OK     bool   `json:"ok"`
	Driver string `json:"driver"`
	Error  string `json:"error,omitempty"`
	// Path is the database file.
	Path string `json:"path"`
	// FreeBytes is the space left to permd on the data dir's filesystem.
	FreeBytes int64 `json:"free_bytes"`
	// Integrity lists what the last structural check found wrong.
	Integrity []string `json:"integrity,omitempty"`
	// IntegrityChecking is true while the check made at start runs.
	IntegrityChecking bool `json:"integrity_checking,omitempty"`
	// WriteFailingSinceMS is when commits began to fail, 0 when they do not.
	WriteFailingSinceMS int64 `json:"write_failing_since_ms,omitempty"`
	// Unrecorded counts records not written yet; each is recorded in an
	// overload row once a commit succeeds.
	Unrecorded int64 `json:"unrecorded,omitempty"`
}

// detailRoles may see sys.health's detail: per-method call counts and
// each part's figures (grant counts, the apps the indicator shows, active
// uses). Those describe every app on the device, so an app (or SystemUI,
// or the dialog) sees only the summary; the roles that may read every
// app's records anyway see the detail.
var detailRoles = Readers

func (s *Service) coreMethods() []Method {
	all := AllRoles
	return []Method{
		{Name: "sys.version", Roles: all, Handler: s.sysVersion, Fast: true},
		{Name: "sys.health", Roles: all, Handler: s.sysHealth, Fast: true},
	}
}

func (s *Service) sysVersion(ctx context.Context, c *Call) (any, error) {
	if err := DecodeParams(c.Params, &struct{}{}); err != nil {
		return nil, err
	}
	return VersionInfo{
		Version: s.opt.Version, Protocol: ProtocolVersion, Driver: store.Driver,
		Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}, nil
}

// sysHealth is deliberately cheap (it is the baseline the benchmarks
// compare hot methods with): no SQL beyond a ping of an idle pool, and
// the parts' own figures only when asked for with {"detail": true}.
func (s *Service) sysHealth(ctx context.Context, c *Call) (any, error) {
	var p struct {
		Detail bool `json:"detail"`
	}
	if err := DecodeParams(c.Params, &p); err != nil {
		return nil, err
	}
	if p.Detail && !slices.Contains(detailRoles, c.Actor.Role) {
		return nil, Errorf(CodePermissionDenied, "role %s may not see daemon-wide figures (sys.health detail); call without detail", c.Actor.Role)
	}
	h := Health{
		Status:        "ok",
		UptimeMS:      time.Since(s.started).Milliseconds(),
		Storage:       s.storageHealth(ctx),
		ConfigLoads:   s.configLoads.Load(),
		ConfigRejects: s.configRejects.Load(),
		You:           c.Actor,
	}
	if snap := s.snap.Load(); snap != nil {
		h.ConfigDir = snap.Dir
	}
	if !h.Storage.OK {
		h.Status = "degraded"
	}
	if s.server != nil {
		h.Connections = s.server.connCount()
	}
	if s.ledger.l != nil {
		st := s.ledger.l.Stats()
		h.QueueDepth, h.Dropped = st.QueueDepth, st.Dropped
	}
	if !p.Detail {
		return h, nil
	}
	if s.server != nil {
		h.Methods = s.server.stats.snapshot()
	}
	for _, p := range s.parts() {
		if ph := p.health(); ph != nil {
			if h.Parts == nil {
				h.Parts = map[string]any{}
			}
			h.Parts[p.name()] = ph
		}
	}
	return h, nil
}
