package framework

import (
	"context"
)

// part is one capability wired into the service (identity, ledger,
// grants, indicator, process tracking, preinstall audit). Each lives in
// its own file here and keeps its state in its own struct, so
// capabilities are added without touching the server; Service.wire gives
// each the parts it depends on.
//
// Lifecycle: prepare is called with every config snapshot (at start and on
// each reload) and must only validate, returning a function that applies
// the new config, so that a bad file leaves the old config in force; start
// runs once after the first apply, in the order of Service.parts; methods
// contributes rows to the method table; stop runs in reverse order at
// shutdown after the server stopped accepting and in-flight calls ended.
// name and health are the part's entry in sys.health's detail (a nil
// health map shows nothing).
type part interface {
	name() string
	prepare(s *Service, snap *Snapshot) (apply func(), err error)
	start(ctx context.Context, s *Service) error
	methods(s *Service) []Method
	health() map[string]any
	stop(s *Service)
}

var (
	_ part = (*identityPart)(nil)
	_ part = (*ledgerPart)(nil)
	_ part = (*grantsPart)(nil)
	_ part = (*indicatorPart)(nil)
	_ part = (*procPart)(nil)
	_ part = (*preinstallPart)(nil)
)
