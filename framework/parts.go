package framework

import (
	"context"
)

// part is one capability wired into the service (ledger, grants,
// indicator, process tracking, preinstall audit). Each lives in its own
// file here and keeps its state in its own struct, so capabilities are
// added without touching the server.
//
// Lifecycle: prepare is called with every config snapshot (at start and on
// each reload) and must only validate, returning a function that applies
// the new config, so that a bad file leaves the old config in force; start
// runs once after the first apply, in the order of Service.parts; methods
// contributes rows to the method table; stop runs in reverse order at
// shutdown after the server stopped accepting and in-flight calls ended.
type part interface {
	prepare(s *Service, snap *Snapshot) (apply func(), err error)
	start(ctx context.Context, s *Service) error
	methods(s *Service) []Method
	stop(s *Service)
}
