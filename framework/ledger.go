package framework

import "context"

// ledgerPart wires the ledger capability into the service.
type ledgerPart struct{}

func (p *ledgerPart) prepare(s *Service, snap *Snapshot) (func(), error) { return nil, nil }
func (p *ledgerPart) start(ctx context.Context, s *Service) error        { return nil }
func (p *ledgerPart) methods(s *Service) []Method                        { return nil }
func (p *ledgerPart) stop(s *Service)                                    {}
