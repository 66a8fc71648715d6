package framework

import (
	"context"

	"permd/framework/protocol"
	"permd/framework/wire"
	"permd/grants"
)

// androidRevoked ends permd's allow grant of an app because Android's
// own permission state for it was revoked (the user in Settings, `pm
// revoke`): the bridge reports it so that the two never disagree, and
// the change is recorded with by "android". A denial is left alone:
// Android's revoke agrees with it.
func (p *grantsPart) androidRevoked(ctx context.Context, c *Call) (any, error) {
	q, err := p.grantKey(c)
	if err != nil {
		return nil, err
	}
	g, _, err := p.eng.Get(ctx, q.User, q.Package, q.Category, 0)
	if err != nil {
		return nil, grantError(err)
	}
	if g == nil {
		return nil, NotFound("no such grant")
	}
	if g.Decision == grants.Deny {
		return nil, Errorf(CodeConflict, "the grant is a denial: Android's revoke agrees with it")
	}
	// Between Get and Revoke another caller may replace the grant; the
	// revoke then ends the newer one, as grants.revoke would: Android's
	// state is revoked either way.
	out, err := p.eng.Revoke(ctx, q.User, q.Package, q.Category, grants.ByAndroid)
	if err != nil {
		return nil, grantError(err)
	}
	return protocol.RevokeResult{Revoked: wire.Grant(out)}, nil
}

// OffsetResult is loc.offset's answer.
type OffsetResult = protocol.OffsetResult

// locOffset gives system_server one user's secret location offset, so
// the LocationProviderManager patch can coarsen fixes in-process exactly
// as loc.fudge does. The offset is what keeps a coarse point from
// revealing where in its cell the truth lies, so among framework
// callers only system_server gets it: the bridge app, also framework,
// has no use for it. Where the kernel gives no SELinux context (a host
// without SELinux), the framework role alone decides.
func (p *grantsPart) locOffset(c *Call) (any, error) {
	if c.Actor.Role == RoleFramework && c.Actor.Context != "" && contextType(c.Actor.Context) != "system_server" {
		return nil, Errorf(CodePermissionDenied, "loc.offset: only system_server may read the location offset")
	}
	var q protocol.OffsetParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.User == nil {
		return nil, InvalidParams("user", "missing")
	}
	if *q.User < 0 {
		return nil, InvalidParams("user", "negative user id %d", *q.User)
	}
	x, y, next := p.fudger.Offset(*q.User)
	return protocol.OffsetResult{User: *q.User, X: x, Y: y, NextMS: next.UnixMilli()}, nil
}
