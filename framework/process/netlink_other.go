//go:build !linux

package process

import "errors"

// ErrConnectorUnavailable: the process connector is Linux-only.
var ErrConnectorUnavailable = errors.New("process connector unavailable")

type EventKind int

const (
	EvFork EventKind = iota + 1
	EvExec
	EvUID
	EvComm
	EvExit
	EvLost
)

type KernelEvent struct {
	Kind EventKind
	PID  int
	PPID int
}

type Connector struct{}

func OpenConnector() (*Connector, error) { return nil, ErrConnectorUnavailable }

func (c *Connector) Read(buf []byte, out []KernelEvent) ([]KernelEvent, error) {
	return out, ErrConnectorUnavailable
}

func (c *Connector) Close() error { return nil }
