package adb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Carrier moves messages between the two ends: TCP, or a USB interface's
// bulk endpoints. Header and payload are given separately because USB
// adbd expects them as separate transfers.
type Carrier interface {
	io.Reader
	WritePacket(header, payload []byte) error
	Close() error
}

// ErrClosed is returned by operations on a connection closed by Close.
var ErrClosed = errors.New("adb connection closed")

// Conn is one ADB transport connection after CNXN: many streams share it.
// It is used both as a host (Dial) and, in tests, as a device (Serve).
type Conn struct {
	c       Carrier
	version uint32 // negotiated
	maxData uint32 // negotiated largest payload we may send
	banner  string // the peer's CNXN banner

	wmu sync.Mutex // one message at a time on the carrier
	hdr [HeaderSize]byte

	mu      sync.Mutex
	streams map[uint32]*Stream
	nextID  uint32
	err     error         // why the connection ended
	done    chan struct{} // closed when it ended

	// open is the device side's service dispatcher; nil on a host, which
	// refuses OPEN from the device.
	open func(service string) (func(*Stream), error)
}

func newConn(c Carrier) *Conn {
	return &Conn{c: c, version: VersionMin, maxData: MaxPayloadV1, streams: map[uint32]*Stream{}, done: make(chan struct{})}
}

// Banner is the peer's CNXN payload, e.g.
// "device::ro.product.model=Pixel;features=shell_v2,cmd".
func (c *Conn) Banner() string { return c.banner }

// Version is the negotiated protocol version.
func (c *Conn) Version() uint32 { return c.version }

// MaxData is the negotiated largest payload of one message.
func (c *Conn) MaxData() uint32 { return c.maxData }

// State is the first field of the banner: device, recovery, sideload,
// bootloader, or host for a host peer.
func (c *Conn) State() string {
	s, _, _ := strings.Cut(c.banner, ":")
	return s
}

// Prop returns one ro.* property the peer put in its banner.
func (c *Conn) Prop(name string) string {
	_, rest, _ := strings.Cut(c.banner, "::")
	for _, kv := range strings.Split(strings.TrimRight(rest, "\x00"), ";") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// HasFeature says whether the peer announced a feature such as shell_v2.
func (c *Conn) HasFeature(f string) bool {
	for _, x := range strings.Split(c.Prop("features"), ",") {
		if x == f {
			return true
		}
	}
	return false
}

// Err is why the connection ended, or nil while it is up.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Close ends the connection and every stream on it.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	return nil
}

// fail ends the connection once, with err as the reason every waiting
// stream gets.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.done)
	c.mu.Unlock()
	c.c.Close()
}

func (c *Conn) checkMode() CheckMode {
	if c.version < VersionSkipChecksum {
		return CheckAlways
	}
	return CheckNever
}

// payloads recycles full-size payload buffers: a pull moves a fresh
// megabyte per message otherwise, and faulting in and collecting that
// memory costs more than the copy itself.
var payloads = sync.Pool{New: func() any { b := make([]byte, MaxPayload); return &b }}

func getPayload(n int) []byte {
	if n > MaxPayload {
		return make([]byte, n)
	}
	return (*payloads.Get().(*[]byte))[:n]
}

// putPayload returns a buffer from getPayload once nothing refers to it.
func putPayload(b []byte) {
	if cap(b) == MaxPayload {
		b = b[:MaxPayload]
		payloads.Put(&b)
	}
}

func (c *Conn) read() (Message, error) {
	return readMessage(c.c, MaxPayload, c.checkMode(), getPayload)
}

func (c *Conn) send(m Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	EncodeHeader(c.hdr[:], m, c.version < VersionSkipChecksum)
	if err := c.c.WritePacket(c.hdr[:], m.Data); err != nil {
		err = fmt.Errorf("send %s: %w", commandName(m.Command), err)
		go c.fail(err)
		return err
	}
	return nil
}

// connErr is the error a stream reports once the connection has ended.
func (c *Conn) connErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == ErrClosed {
		return ErrClosed
	}
	return fmt.Errorf("adb connection lost: %w", c.err)
}

// loop reads messages until the carrier fails or the peer breaks the
// protocol, and hands each to its stream.
func (c *Conn) loop() {
	for {
		m, err := c.read()
		if err != nil {
			if err == io.EOF {
				// Not wrapped: a lost connection must not look like the
				// normal end of a stream to errors.Is(err, io.EOF).
				err = errors.New("peer closed the connection")
			}
			c.fail(err)
			return
		}
		switch m.Command {
		case CmdOPEN:
			c.handleOpen(m)
		case CmdOKAY:
			if s := c.stream(m.Arg1); s != nil {
				s.okay(m.Arg0)
			} else if m.Arg0 != 0 {
				// The answer to an OPEN we gave up on: close it there.
				c.send(Message{Command: CmdCLSE, Arg0: m.Arg1, Arg1: m.Arg0})
			}
		case CmdWRTE:
			if s := c.stream(m.Arg1); s != nil {
				s.deliver(m.Data)
			} else {
				putPayload(m.Data)
				// A stream we already closed: tell the peer again.
				c.send(Message{Command: CmdCLSE, Arg0: 0, Arg1: m.Arg0})
			}
		case CmdCLSE:
			if s := c.stream(m.Arg1); s != nil {
				s.remoteClose()
			}
		default:
			// CNXN, AUTH, SYNC, STLS after the handshake: nothing a
			// running connection acts on.
		}
	}
}

func (c *Conn) stream(id uint32) *Stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[id]
}

func (c *Conn) newStream(ctx context.Context, service string, remote uint32) (*Stream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	c.nextID++
	if c.nextID == 0 {
		c.nextID++
	}
	s := &Stream{
		c: c, ctx: ctx, service: service, local: c.nextID, remote: remote,
		isOpen: remote != 0,
		opened: make(chan error, 1), rcv: make(chan struct{}, 1), ack: make(chan struct{}, 1), closed: make(chan struct{}),
	}
	c.streams[s.local] = s
	return s, nil
}

func (c *Conn) forget(s *Stream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.streams[s.local] == s {
		delete(c.streams, s.local)
	}
}

// Open opens a stream to a service on the device, such as "shell:id" or
// "sync:". ctx bounds the open and every later Read and Write on the
// stream.
func (c *Conn) Open(ctx context.Context, service string) (*Stream, error) {
	s, err := c.newStream(ctx, service, 0)
	if err != nil {
		return nil, c.connErr()
	}
	if err := c.send(Message{Command: CmdOPEN, Arg0: s.local, Data: append([]byte(service), 0)}); err != nil {
		c.forget(s)
		return nil, err
	}
	select {
	case err := <-s.opened:
		if err != nil {
			c.forget(s)
			return nil, fmt.Errorf("open %q: %w", service, err)
		}
		return s, nil
	case <-c.done:
		return nil, fmt.Errorf("open %q: %w", service, c.connErr())
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("open %q: %w", service, ctx.Err())
	}
}

// ErrRefused is wrapped when the device closes a stream it was asked to
// open: the service does not exist or was refused.
var ErrRefused = errors.New("device refused the service")

func (c *Conn) handleOpen(m Message) {
	service := strings.TrimRight(string(m.Data), "\x00")
	if c.open == nil || m.Arg0 == 0 {
		c.send(Message{Command: CmdCLSE, Arg0: 0, Arg1: m.Arg0})
		return
	}
	run, err := c.open(service)
	if err != nil {
		c.send(Message{Command: CmdCLSE, Arg0: 0, Arg1: m.Arg0})
		return
	}
	s, err := c.newStream(context.Background(), service, m.Arg0)
	if err != nil {
		return
	}
	if c.send(Message{Command: CmdOKAY, Arg0: s.local, Arg1: s.remote}) != nil {
		return
	}
	go func() {
		defer s.Close()
		run(s)
	}()
}
