package framework

// This file: reading grants (grants.get, grants.list, grants.catalogue).

import (
	"context"

	"permd/framework/protocol"
	"permd/framework/wire"
	"permd/grants"
)

func (p *grantsPart) get(ctx context.Context, c *Call) (any, error) {
	q := protocol.GrantsGetParams{History: 50}
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if err := p.checkKey(q); err != nil {
		return nil, err
	}
	if q.History < 0 || q.History > 10000 {
		return nil, InvalidParams("history", "%d is outside 0..10000", q.History)
	}
	g, hist, err := p.eng.Get(ctx, q.User, q.Package, q.Category, q.History)
	if err != nil {
		return nil, grantError(err)
	}
	if hist == nil {
		hist = []grants.HistoryEntry{}
	}
	return protocol.GrantsGetResult{Grant: wire.GrantPtr(g), History: wire.List(hist, wire.History)}, nil
}

func (p *grantsPart) list(c *Call) (any, error) {
	var q protocol.GrantsListParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.Category != "" {
		if _, err := p.resolveCategory(q.Category, ""); err != nil {
			return nil, err
		}
	}
	if q.Package != "" && !grants.ValidPackage(q.Package) {
		return nil, InvalidParams("package", "%q is not a valid package name", q.Package)
	}
	return protocol.GrantsListResult{Grants: wire.List(p.eng.List(grants.Filter{User: q.User, Package: q.Package, Category: q.Category, UID: q.UID}), wire.Grant)}, nil
}

func (p *grantsPart) catalogue(c *Call) (any, error) {
	var q protocol.CatalogueParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	switch q.Lang {
	case "":
		return wire.Catalogue(p.eng.Catalogue()), nil
	case "en", "zh-CN":
		return wire.Catalogue(p.eng.Catalogue().Localized(q.Lang)), nil
	}
	return nil, InvalidParams("lang", "unsupported language %q (en, zh-CN)", q.Lang)
}
