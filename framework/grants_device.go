package framework

// This file: what the device tells the grants part (app.state,
// time.zone, app.removed) and location fudging (loc.fudge).

import (
	"context"
	"math"
	"time"

	"permd/framework/protocol"
	"permd/framework/wire"
	"permd/grants"
)

func (p *grantsPart) appState(s *Service, c *Call) (any, error) {
	var q protocol.AppStateParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.UID == nil || *q.UID < 0 {
		return nil, InvalidParams("uid", "missing or negative")
	}
	if !grants.ValidState(q.State) {
		return nil, InvalidParams("state", "unknown state %q (foreground, visible, background, not_running)", q.State)
	}
	p.eng.ReportState(*q.UID, q.State)
	p.id.states.ReportAppState(*q.UID, q.State)
	return protocol.Empty{}, nil
}

// FudgeResult is loc.fudge's answer.
type FudgeResult = protocol.FudgeResult

func (p *grantsPart) fudge(s *Service, c *Call) (any, error) {
	var q protocol.FudgeParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.UID == nil {
		return nil, InvalidParams("uid", "missing")
	}
	if q.Lat == nil || math.IsNaN(*q.Lat) || *q.Lat < -90 || *q.Lat > 90 {
		return nil, InvalidParams("lat", "missing or outside -90..90")
	}
	if q.Lon == nil || math.IsNaN(*q.Lon) || *q.Lon < -180 || *q.Lon > 180 {
		return nil, InvalidParams("lon", "missing or outside -180..180")
	}
	if q.AccuracyM < 0 || math.IsNaN(q.AccuracyM) {
		return nil, InvalidParams("accuracy_m", "negative")
	}
	pkgs, err := p.packagesOf(s, *q.UID, q.Package)
	if err != nil {
		return nil, err
	}
	g, lvl, ok := p.eng.Current(*q.UID, pkgs, "location")
	if !ok || g.Decision != grants.Allow {
		return nil, Errorf(CodeConflict, "no location grant allows uid %d a location", *q.UID)
	}
	lat, lon, acc := p.fudger.Fudge(grants.UserOf(*q.UID), *q.Lat, *q.Lon, float64(lvl.RadiusM), q.AccuracyM)
	return protocol.FudgeResult{Lat: lat, Lon: lon, AccuracyM: acc, RadiusM: lvl.RadiusM, Level: lvl.ID}, nil
}

// timeZone is time.zone: the framework tells permd the device's zone
// changed (ACTION_TIMEZONE_CHANGED). It applies from the next decision,
// without a restart; nothing stored depends on the zone, so nothing is
// lost. With no params it only reports the zone in force.
func (p *grantsPart) timeZone(s *Service, c *Call) (any, error) {
	var q protocol.TimeZoneParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	prev := p.eng.Zone().String()
	if q.Zone == nil {
		return protocol.TimeZoneResult{Zone: prev}, nil
	}
	if *q.Zone == "" || *q.Zone == "Local" {
		return nil, InvalidParams("zone", "want an IANA zone name such as Asia/Shanghai, got %q", *q.Zone)
	}
	loc, err := time.LoadLocation(*q.Zone)
	if err != nil {
		return nil, InvalidParams("zone", "unknown time zone %q", *q.Zone)
	}
	p.eng.SetZone(loc)
	if prev != loc.String() {
		s.log.Info("grants: device time zone changed", "from", prev, "to", loc.String())
	}
	return protocol.TimeZoneResult{Zone: loc.String(), Previous: prev}, nil
}

// appRemoved is app.removed: the framework saw a package removed for one
// user (ACTION_PACKAGE_FULLY_REMOVED, or ACTION_PACKAGE_REMOVED without
// EXTRA_REPLACING, whose EXTRA_UID names the user). packages.list keeps
// listing a package while any user has it, so a removal for one user of
// a multi-user device reaches permd only this way. The user's grants for
// the package are revoked as for an uninstall.
func (p *grantsPart) appRemoved(ctx context.Context, c *Call) (any, error) {
	var q protocol.AppRemovedParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.UID == nil || *q.UID < 0 {
		return nil, InvalidParams("uid", "missing or negative")
	}
	if !grants.ValidPackage(q.Package) {
		return nil, InvalidParams("package", "%q is not a valid package name", q.Package)
	}
	revoked := p.eng.Removed(ctx, grants.UserOf(*q.UID), q.Package)
	out := make([]protocol.Grant, len(revoked))
	for i, ch := range revoked {
		out[i] = wire.Grant(ch.Grant)
	}
	return protocol.AppRemovedResult{Revoked: out}, nil
}
