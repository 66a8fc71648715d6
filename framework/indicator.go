package framework

import "context"

// indicatorPart wires the indicator capability into the service.
type indicatorPart struct{}

func (p *indicatorPart) prepare(s *Service, snap *Snapshot) (func(), error) { return nil, nil }
func (p *indicatorPart) start(ctx context.Context, s *Service) error        { return nil }
func (p *indicatorPart) methods(s *Service) []Method                        { return nil }
func (p *indicatorPart) stop(s *Service)                                    {}
