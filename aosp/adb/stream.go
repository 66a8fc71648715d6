package adb

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// Stream is one OPEN'd service on a connection: a byte stream in both
// directions. Flow control is adb's: a writer waits for the OKAY of one
// WRTE before sending the next. A reader acknowledges a WRTE as soon as
// it is buffered while the stream holds less than streamWindow unread
// bytes, and otherwise once the application has read below that, so a
// slow reader stops the device after at most streamWindow plus one
// message, while a fast one lets the device produce the next message
// while this one is consumed (as adb's server does through its socket
// buffers).
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
	chunks       []chunk // received, unread, oldest first
	buffered     int     // bytes in chunks
	ackOwed      bool    // a WRTE waits for its OKAY until the reader catches up
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

// chunk is a received payload and how much of it was read.
type chunk struct {
	buf []byte
	off int
}

// streamWindow bounds what a stream buffers before it stops
// acknowledging the device's writes.
const streamWindow = 4 << 20

// deliver takes a WRTE's payload (owning it) and acknowledges it now or,
// past the window, when the reader has caught up.
func (s *Stream) deliver(data []byte) {
	s.mu.Lock()
	if len(data) > 0 {
		s.chunks = append(s.chunks, chunk{buf: data})
		s.buffered += len(data)
	}
	ack := s.buffered < streamWindow && !s.localClosed && !s.remoteClosed
	if !ack {
		s.ackOwed = true
	}
	s.mu.Unlock()
	signal(s.rcv)
	if ack {
		s.c.send(Message{Command: CmdOKAY, Arg0: s.local, Arg1: s.remote})
	}
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
		if s.buffered > 0 {
			n := 0
			for n < len(p) && len(s.chunks) > 0 {
				ch := &s.chunks[0]
				c := copy(p[n:], ch.buf[ch.off:])
				n += c
				ch.off += c
				if ch.off == len(ch.buf) {
					putPayload(ch.buf)
					s.chunks[0] = chunk{}
					s.chunks = s.chunks[1:]
				}
			}
			s.buffered -= n
			ack := s.ackOwed && s.buffered < streamWindow && !s.remoteClosed && !s.localClosed
			if ack {
				s.ackOwed = false
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
			n := s.buffered
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
