package framework

import "context"

// preinstallPart wires the preinstall capability into the service.
type preinstallPart struct{}

func (p *preinstallPart) prepare(s *Service, snap *Snapshot) (func(), error) { return nil, nil }
func (p *preinstallPart) start(ctx context.Context, s *Service) error        { return nil }
func (p *preinstallPart) methods(s *Service) []Method                        { return nil }
func (p *preinstallPart) stop(s *Service)                                    {}
