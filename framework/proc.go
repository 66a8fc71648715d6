package framework

import "context"

// procPart wires the proc capability into the service.
type procPart struct{}

func (p *procPart) prepare(s *Service, snap *Snapshot) (func(), error) { return nil, nil }
func (p *procPart) start(ctx context.Context, s *Service) error        { return nil }
func (p *procPart) methods(s *Service) []Method                        { return nil }
func (p *procPart) stop(s *Service)                                    {}
