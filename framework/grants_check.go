package framework

// This file: the hot path, perm.check and perm.request (decisions and
// the consent dialog's model), and the access record a check leaves.

import (
	"context"
	"encoding/json"
	"strconv"

	"permd/framework/protocol"
	"permd/framework/wire"
	"permd/grants"
	"permd/ledger"
)

func (p *grantsPart) check(ctx context.Context, s *Service, c *Call) (any, error) {
	var q protocol.CheckParams
	if err := decodeCheckParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.UID == nil {
		return nil, InvalidParams("uid", "missing")
	}
	cat, err := p.resolveCategory(q.Category, q.Op)
	if err != nil {
		return nil, err
	}
	pkgs, err := p.packagesOf(s, *q.UID, q.Package)
	if err != nil {
		return nil, err
	}
	state, err := p.stateOf(s, *q.UID, q.State)
	if err != nil {
		return nil, err
	}
	d := p.eng.Check(grants.Query{UID: *q.UID, Packages: pkgs, Category: cat, State: state})
	p.checks.Add(1)
	if d.Result == grants.ResultRateLimited {
		p.limited.Add(1)
	}
	rec := ledger.Record{
		Time: s.Now(), UID: *q.UID, Kind: "access", Category: cat, Op: q.Op,
		Result: d.Result, AppState: d.AppState, Detail: accessDetail(d, d.Limit),
	}
	// An access that counts toward a frequency cap is committed
	// before it is answered: counts are seeded from the ledger after
	// a restart, so a crash cannot hand out more than the cap. Other
	// checks keep the hot path's speed (the cap is what needs it).
	// If the record cannot be committed (storage failing), the
	// in-memory count still holds the cap while the daemon runs, and
	// the record goes the hot path's way (counted as dropped if it
	// cannot be written).
	if d.Limit != nil && d.Allowed {
		// The reply waits for the commit; the connection does not
		// (perm.check is Fast). Not cut short by the caller leaving:
		// the record is queued either way, and must not be queued twice.
		return &Deferred{Wait: func() (any, error) {
			if err := p.ledger.l.Append(context.WithoutCancel(ctx), rec); err != nil {
				s.log.Warn("capped access not durable before the answer", "uid", *q.UID, "category", cat, "err", err)
				p.ledger.l.Enqueue(rec)
			}
			return decisionReply(wire.Decision(d)), nil
		}}, nil
	}
	p.ledger.l.Enqueue(rec)
	return decisionReply(wire.Decision(d)), nil
}

// accessDetail builds the record's detail without reflection: this is
// the hot path. The keys are those rules.json lets an access record
// carry: reason (with the level applied, e.g.
// "reduced_precision:approx_1km") and limit (the frequency cap in force).
// Reasons, levels and windows are our own codes, so strconv quoting is
// valid JSON here.
func accessDetail(d grants.Decision, f *grants.Frequency) json.RawMessage {
	b := make([]byte, 0, 80)
	b = append(b, `{"reason":"`...)
	b = append(b, d.Reason...)
	if d.Level != "" && d.Effect != grants.EffectFull {
		b = append(b, ':')
		b = append(b, d.Level...)
	}
	b = append(b, '"')
	if f != nil {
		b = append(b, `,"limit":"`...)
		b = strconv.AppendInt(b, int64(f.Max), 10)
		b = append(b, '/')
		b = append(b, f.Per...)
		b = append(b, '"')
	}
	return append(b, '}')
}

func (p *grantsPart) request(s *Service, c *Call) (any, error) {
	var q protocol.RequestParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.UID == nil {
		return nil, InvalidParams("uid", "missing")
	}
	if q.Package == "" {
		return nil, InvalidParams("package", "missing")
	}
	cat, err := p.resolveCategory(q.Category, q.Op)
	if err != nil {
		return nil, err
	}
	if _, err := p.packagesOf(s, *q.UID, q.Package); err != nil {
		return nil, err
	}
	if q.Lang != "" && q.Lang != "en" && q.Lang != "zh-CN" {
		return nil, InvalidParams("lang", "unsupported language %q (en, zh-CN)", q.Lang)
	}
	res, err := p.eng.Request(*q.UID, q.Package, cat, q.Lang)
	if err != nil {
		return nil, grantError(err)
	}
	return wire.Request(res), nil
}
