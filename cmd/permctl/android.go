package main

import (
	"context"
	"strings"

	"permd/framework/protocol"
)

// resolveCategory maps what an Android engineer types to permd's
// category id, as pm grant and cmd appops users expect: a runtime
// permission ("android.permission.ACCESS_FINE_LOCATION", or just
// "ACCESS_FINE_LOCATION") or an app-op ("android:fine_location") becomes
// its category ("location"), by the catalogue permd serves. A category
// id passes through unchanged (permd checks it).
func resolveCategory(ctx context.Context, e *env, name string) (string, error) {
	if name == "" || (!strings.ContainsAny(name, ".:") && strings.ToLower(name) == name) {
		return name, nil
	}
	var cat protocol.Catalogue
	if err := e.call(ctx, protocol.MethodGrantsCatalogue, protocol.CatalogueParams{Lang: "en"}, &cat); err != nil {
		return "", err
	}
	var known []string
	for _, c := range cat.Categories {
		for _, p := range c.Permissions {
			if p == name || p[strings.LastIndexByte(p, '.')+1:] == name {
				return c.ID, nil
			}
			known = append(known, p)
		}
		for _, op := range c.AppOps {
			if op == name {
				return c.ID, nil
			}
			known = append(known, op)
		}
	}
	return "", usagef("%q is not a permission or app-op permd mediates%s (permctl catalogue lists them)", name, didYouMean(name, known))
}
