package framework

import "context"

// grantsPart wires the grants capability into the service.
type grantsPart struct{}

func (p *grantsPart) prepare(s *Service, snap *Snapshot) (func(), error) { return nil, nil }
func (p *grantsPart) start(ctx context.Context, s *Service) error        { return nil }
func (p *grantsPart) methods(s *Service) []Method                        { return nil }
func (p *grantsPart) stop(s *Service)                                    {}
