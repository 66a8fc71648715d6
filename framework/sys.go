package framework

import (
	"context"
	"runtime"
	"slices"
	"time"

	"permd/framework/protocol"
	"permd/ledger/store"
)

// VersionInfo is the result of sys.version.
type VersionInfo = protocol.VersionInfo

// Health is the result of sys.health.
type Health = protocol.Health

// StorageHealth says whether the database answers, is sound and can be
// written now.
type StorageHealth = protocol.StorageHealth

// detailRoles may see sys.health's detail: per-method call counts and
// each part's figures (grant counts, the apps the indicator shows, active
// uses). Those describe every app on the device, so an app (or SystemUI,
// or the dialog) sees only the summary; the roles that may read every
// app's records anyway see the detail.
var detailRoles = Readers

func (s *Service) coreMethods() []Method {
	all := AllRoles
	return []Method{
		{Name: protocol.MethodSysVersion, Roles: all, Handler: s.sysVersion, Fast: true},
		{Name: protocol.MethodSysHealth, Roles: all, Handler: s.sysHealth, Fast: true},
	}
}

func (s *Service) sysVersion(ctx context.Context, c *Call) (any, error) {
	if err := DecodeParams(c.Params, &protocol.NoParams{}); err != nil {
		return nil, err
	}
	return protocol.VersionInfo{
		Version: s.opt.Version, Protocol: ProtocolVersion, Driver: store.Driver,
		Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}, nil
}

// sysHealth is deliberately cheap (it is the baseline the benchmarks
// compare hot methods with): no SQL beyond a ping of an idle pool, and
// the parts' own figures only when asked for with {"detail": true}.
func (s *Service) sysHealth(ctx context.Context, c *Call) (any, error) {
	var p protocol.HealthParams
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
		You:           protocol.Actor(c.Actor),
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
		h.Methods = wireMethodCounts(s.server.stats.snapshot())
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

func wireMethodCounts(m map[string]MethodCount) map[string]protocol.MethodCount {
	if m == nil {
		return nil
	}
	out := make(map[string]protocol.MethodCount, len(m))
	for k, v := range m {
		out[k] = protocol.MethodCount(v)
	}
	return out
}
