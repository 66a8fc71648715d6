package adb

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// Stream is one OPEN'd service on a connection: a byte stream in both
// directions. Flow control is adb's: a WRTE is acknowledged with OKAY
// once its bytes have been read, and a writer waits for that OKAY before
// sending the next WRTE, so neither side buffers more than one message
// per stream.
type Stream struct {
	c       *Conn
	ctx     context.Context
	service string
	local   uint32
	remote  uint32 // the peer's id, set by its OKAY to our OPEN

	opened chan error    // the answer to our OPEN
	rcv    chan struct{} // data or close arrived
	ack    chan struct{} // OKAY for our WRTE arrived
	closed chan struct{} // the peer closed the stream

	mu           sync.Mutex
	buf          []byte // received, unread
	remoteClosed bool
	localClosed  bool
	isOpen       bool

	wmu sync.Mutex // one WRTE in flight
}

// Service is the service the stream was opened for.
func (s *Stream) Service() string { return s.service }

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// okay handles the peer's OKAY: the answer to OPEN the first time, then
// acknowledgements of our writes.
func (s *Stream) okay(remote uint32) {
	s.mu.Lock()
	first := !s.isOpen
	if first {
		s.remote, s.isOpen = remote, true
	}
	s.mu.Unlock()
	if first {
		s.opened <- nil
		return
	}
	signal(s.ack)
}

func (s *Stream) deliver(data []byte) {
	s.mu.Lock()
	s.buf = append(s.buf, data...)
	s.mu.Unlock()
	signal(s.rcv)
}

func (s *Stream) remoteClose() {
	s.mu.Lock()
	if s.remoteClosed {
		s.mu.Unlock()
		return
	}
	s.remoteClosed = true
	wasOpen := s.isOpen
	reply := !s.localClosed && wasOpen
	s.localClosed = true
	s.mu.Unlock()
	close(s.closed)
	signal(s.rcv)
	if !wasOpen {
		s.opened <- ErrRefused
	}
	if reply {
		s.c.send(Message{Command: CmdCLSE, Arg0: s.local, Arg1: s.remote})
	}
	// Unread data stays readable; the id is free for the map.
	s.c.forget(s)
}

// Read reads what the device wrote; io.EOF once it has closed the stream
// and everything is read.
func (s *Stream) Read(p []byte) (int, error) {
	for {
		s.mu.Lock()
		if len(s.buf) > 0 {
			n := copy(p, s.buf)
			s.buf = s.buf[n:]
			drained := len(s.buf) == 0
			ack := drained && !s.remoteClosed && !s.localClosed
			if drained {
				s.buf = nil
			}
			s.mu.Unlock()
			if ack {
				s.c.send(Message{Command: CmdOKAY, Arg0: s.local, Arg1: s.remote})
			}
			return n, nil
		}
		if s.remoteClosed {
			s.mu.Unlock()
			return 0, io.EOF
		}
		if s.localClosed {
			s.mu.Unlock()
			return 0, fmt.Errorf("read %s: stream closed", s.service)
		}
		s.mu.Unlock()
		select {
		case <-s.rcv:
		case <-s.c.done:
			// Data that arrived before the loss is still read first.
			s.mu.Lock()
			n := len(s.buf)
			s.mu.Unlock()
			if n == 0 {
				return 0, fmt.Errorf("read %s: %w", s.service, s.c.connErr())
			}
		case <-s.ctx.Done():
			return 0, fmt.Errorf("read %s: %w", s.service, s.ctx.Err())
		}
	}
}

// Write sends p in messages of at most the negotiated payload size, each
// after the previous one was acknowledged.
func (s *Stream) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	max := int(s.c.maxData)
	written := 0
	for len(p) > 0 {
		s.mu.Lock()
		closed := s.remoteClosed || s.localClosed
		s.mu.Unlock()
		if closed {
			return written, fmt.Errorf("write %s: stream closed", s.service)
		}
		chunk := p
		if len(chunk) > max {
			chunk = chunk[:max]
		}
		if err := s.c.send(Message{Command: CmdWRTE, Arg0: s.local, Arg1: s.remote, Data: chunk}); err != nil {
			return written, err
		}
		select {
		case <-s.ack:
		case <-s.closed:
			return written, fmt.Errorf("write %s: stream closed by the peer", s.service)
		case <-s.c.done:
			return written, fmt.Errorf("write %s: %w", s.service, s.c.connErr())
		case <-s.ctx.Done():
			return written, fmt.Errorf("write %s: %w", s.service, s.ctx.Err())
		}
		written += len(chunk)
		p = p[len(chunk):]
	}
	return written, nil
}

// Close closes the stream; the peer is told with CLSE.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.localClosed {
		s.mu.Unlock()
		return nil
	}
	s.localClosed = true
	remote := s.remote
	s.mu.Unlock()
	s.c.forget(s)
	if remote != 0 {
		return s.c.send(Message{Command: CmdCLSE, Arg0: s.local, Arg1: remote})
	}
	return nil
}
