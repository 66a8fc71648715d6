package framework

// This file: grant changes (perm.decide, grants.set, grants.revoke) and
// the records each change commits with it.

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"permd/framework/protocol"
	"permd/framework/wire"
	"permd/grants"
	"permd/ledger"
)

// toGrant checks identity fields and resolves user and uid.
func (p *grantsPart) toGrant(s *Service, q protocol.GrantParams) (grants.Grant, error) {
	g := grants.Grant{Package: q.Package, Category: q.Category, Decision: q.Decision, Time: grants.TimeRule(q.Time), Frequency: (*grants.Frequency)(q.Frequency), Precision: grants.Precision(q.Precision)}
	if g.Decision == "" {
		g.Decision = grants.Allow
	}
	if q.User != nil {
		if *q.User < 0 {
			return g, InvalidParams("user", "negative user id %d", *q.User)
		}
		g.User = *q.User
	}
	if q.UID != nil {
		if *q.UID < 0 {
			return g, InvalidParams("uid", "negative uid %d", *q.UID)
		}
		if q.User != nil && grants.UserOf(*q.UID) != *q.User {
			return g, InvalidParams("user", "uid %d belongs to user %d, not %d", *q.UID, grants.UserOf(*q.UID), *q.User)
		}
		g.UID, g.User = *q.UID, grants.UserOf(*q.UID)
		if g.Package != "" {
			if _, err := p.packagesOf(s, g.UID, g.Package); err != nil {
				return g, err
			}
		}
	} else if r := p.id.resolver; r != nil && g.Package != "" && grants.ValidPackage(g.Package) {
		uid, known := r.UIDOf(g.Package, g.User)
		if !known {
			return g, InvalidParams("package", "no package %q is installed for user %d", g.Package, g.User)
		}
		g.UID = uid
	}
	return g, nil
}

func (p *grantsPart) decide(ctx context.Context, s *Service, c *Call) (any, error) {
	var q protocol.GrantParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.RequestID == "" && q.UID == nil {
		return nil, InvalidParams("request_id", "missing: name the pending request (or the app's uid)")
	}
	g, err := p.toGrant(s, q)
	if err != nil {
		return nil, err
	}
	out, err := p.eng.Decide(ctx, q.RequestID, g)
	if errors.Is(err, grants.ErrNotFound) {
		return nil, NotFound("no pending request %q (unknown or older than ask_ttl)", q.RequestID)
	}
	if err != nil {
		return nil, grantError(err)
	}
	return protocol.GrantResult{Grant: wire.Grant(out)}, nil
}

// decisionDetail is a grant_decision record's detail, in the keys
// rules.json defines: option (the time mode, or "deny"), duration_ms,
// expires_ms, max_per_hour (when the cap is per minute or hour; other
// windows are in the grant_change record), precision.
func decisionDetail(g grants.Grant) json.RawMessage {
	d := map[string]any{"option": g.Time.Mode}
	if g.Decision == grants.Deny {
		d["option"] = "deny"
		return detailJSON(d)
	}
	if g.Time.Mode == grants.ModeDuration {
		if v, err := time.ParseDuration(g.Time.For); err == nil {
			d["duration_ms"] = v.Milliseconds()
		}
	}
	if end := g.Ends(); !end.IsZero() {
		d["expires_ms"] = end.UnixMilli()
	}
	if f := g.Frequency; f != nil {
		switch f.Per {
		case "minute":
			d["max_per_hour"] = f.Max * 60
		case "hour":
			d["max_per_hour"] = f.Max
		}
	}
	prec := g.Precision.Level
	if g.Precision.RadiusM > 0 {
		prec += " " + strconv.Itoa(g.Precision.RadiusM) + "m"
	}
	d["precision"] = prec
	return detailJSON(d)
}

// changeRecords are the records of a change: a grant_change record
// saying who (by), what it was (from) and what it is now (to), the
// action as reason, and when it ends; and for the user's dialog choice
// (perm.decide) also its grant_decision record. A grant whose app uid is
// unknown (set by package name without a package list) is recorded
// under uid 0; from and to name the package.
func changeRecords(cat *grants.Catalogue, c grants.Change) []ledger.Record {
	detail := map[string]any{"by": c.By, "reason": c.Action}
	if c.Reason != "" {
		detail["reason"] = c.Reason
	}
	switch c.Action {
	case grants.ActionSet:
		detail["to"] = c.Grant.Summary()
		if c.Prev != nil {
			detail["from"] = c.Prev.Summary()
		}
		if end := c.Grant.Ends(); !end.IsZero() {
			detail["expires_ms"] = end.UnixMilli()
		}
	default:
		detail["from"] = c.Grant.Summary()
	}
	recs := []ledger.Record{{Time: c.At, UID: c.Grant.UID, Kind: "grant_change", Category: c.Grant.Category, Detail: detailJSON(detail)}}
	if c.By == grants.ByDialog && c.Action == grants.ActionSet {
		g := c.Grant
		recs = append(recs, ledger.Record{
			Time: g.Set, UID: g.UID, Kind: "grant_decision", Category: g.Category,
			Result: cat.Result(g), Detail: decisionDetail(g),
		})
	}
	return recs
}

func detailJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// actorBy names who made a change from the caller's role.
func actorBy(r Role) string {
	if r == RoleSettings {
		return grants.BySettings
	}
	return grants.ByShell
}

func (p *grantsPart) set(ctx context.Context, s *Service, c *Call) (any, error) {
	var q protocol.GrantParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.RequestID != "" {
		return nil, InvalidParams("request_id", "only perm.decide takes a request id")
	}
	g, err := p.toGrant(s, q)
	if err != nil {
		return nil, err
	}
	out, err := p.eng.Set(ctx, g, actorBy(c.Actor.Role))
	if err != nil {
		return nil, grantError(err)
	}
	return protocol.GrantResult{Grant: wire.Grant(out)}, nil
}

// checkKey checks the key of grants.get, grants.revoke and
// perm.android_revoked. The latter two decode grants.get's params (a
// superset of theirs) so that a history limit sent to them is named as
// belonging to grants.get rather than reported as an unknown field.
func (p *grantsPart) checkKey(q protocol.GrantsGetParams) error {
	if q.User < 0 {
		return InvalidParams("user", "negative user id %d", q.User)
	}
	if !grants.ValidPackage(q.Package) {
		return InvalidParams("package", "%q is not a valid package name", q.Package)
	}
	_, err := p.resolveCategory(q.Category, "")
	return err
}

// grantKey reads the params of a call that names one grant (user,
// package, category) and nothing else: grants.revoke and
// perm.android_revoked.
func (p *grantsPart) grantKey(c *Call) (protocol.GrantsGetParams, error) {
	var q protocol.GrantsGetParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return q, err
	}
	if q.History != 0 {
		return q, InvalidParams("history", "only grants.get takes a history limit")
	}
	return q, p.checkKey(q)
}

func (p *grantsPart) revoke(ctx context.Context, s *Service, c *Call) (any, error) {
	q, err := p.grantKey(c)
	if err != nil {
		return nil, err
	}
	g, err := p.eng.Revoke(ctx, q.User, q.Package, q.Category, actorBy(c.Actor.Role))
	if err != nil {
		return nil, grantError(err)
	}
	return protocol.RevokeResult{Revoked: wire.Grant(g)}, nil
}
