package framework

import (
	"slices"

	"permd/framework/protocol"
)

// docs/openrpc.json, the machine-readable contract, is generated from
// package protocol and the method table below; TestOpenRPC fails when
// it is stale.
//go:generate go test -run ^TestOpenRPC$ -update .

// methodTable is every method the daemon serves: the core methods and
// each part's rows, in that order.
func (s *Service) methodTable() []Method {
	table := s.coreMethods()
	for _, p := range s.parts() {
		table = append(table, p.methods(s)...)
	}
	return table
}

// contractAccess is what the contract says of each method beyond its
// wire shape: the roles that may call it by default, those permd.json
// may add, and whether it never blocks.
func contractAccess(table []Method) map[string]protocol.Access {
	out := make(map[string]protocol.Access, len(table))
	for _, m := range table {
		a := protocol.Access{Fast: m.Fast}
		for _, r := range m.Roles {
			a.Roles = append(a.Roles, string(r))
		}
		for r, ms := range widenable {
			if slices.Contains(ms, m.Name) && !m.Allows(r) {
				a.Widen = append(a.Widen, string(r))
			}
		}
		slices.Sort(a.Widen)
		out[m.Name] = a
	}
	return out
}
