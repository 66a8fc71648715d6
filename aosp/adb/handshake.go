package adb

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// ErrUnauthorized is wrapped when the device did not accept any of the
// host's keys (adb devices shows it as "unauthorized").
var ErrUnauthorized = errors.New("device unauthorized: none of the host's adb keys is accepted; allow USB debugging on the device")

// HostBanner is the CNXN payload this package sends as a host.
const HostBanner = "host::features=shell_v2,cmd"

// HostOptions configure the host side of the handshake.
type HostOptions struct {
	// Keys are offered in order when the device asks for AUTH.
	Keys []*Key
	// SendPublicKey offers the first key's public half when every
	// signature was refused, so the device can ask its user; the
	// handshake then waits for the user until ctx ends.
	SendPublicKey bool
}

// Connect runs the host side of CNXN/AUTH on carrier and returns the
// connection. ctx bounds the handshake only; on failure carrier is closed.
func Connect(ctx context.Context, carrier Carrier, opts HostOptions) (*Conn, error) {
	c := newConn(carrier)
	stop := context.AfterFunc(ctx, func() { carrier.Close() })
	err := c.hostHandshake(opts)
	if !stop() || err != nil {
		carrier.Close()
		if ctx.Err() != nil {
			if errors.Is(err, ErrUnauthorized) || errors.Is(err, errAuthPending) {
				return nil, fmt.Errorf("%w (gave up waiting: %v)", ErrUnauthorized, ctx.Err())
			}
			return nil, fmt.Errorf("adb handshake: %w", ctx.Err())
		}
		return nil, err
	}
	go c.loop()
	return c, nil
}

var errAuthPending = errors.New("waiting for the device's user to allow the key")

func (c *Conn) hostHandshake(opts HostOptions) error {
	if err := c.send(Message{Command: CmdCNXN, Arg0: Version, Arg1: MaxPayload, Data: []byte(HostBanner + "\x00")}); err != nil {
		return fmt.Errorf("adb handshake: %w", err)
	}
	next, sentKey := 0, false
	for {
		m, err := ReadMessage(c.c, MaxPayload, CheckNonZero)
		if err != nil {
			if sentKey {
				return fmt.Errorf("%w: %v", errAuthPending, err)
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("adb handshake: device closed the connection: %w", err)
			}
			return fmt.Errorf("adb handshake: %w", err)
		}
		switch m.Command {
		case CmdCNXN:
			return c.accept(m)
		case CmdAUTH:
			if m.Arg0 != AuthToken {
				return fmt.Errorf("adb handshake: %w: AUTH type %d from the device, want a token", ErrProtocol, m.Arg0)
			}
			switch {
			case next < len(opts.Keys):
				sig, err := opts.Keys[next].Sign(m.Data)
				if err != nil {
					return fmt.Errorf("adb handshake: sign with %s: %w", opts.Keys[next].Path, err)
				}
				next++
				if err := c.send(Message{Command: CmdAUTH, Arg0: AuthSignature, Data: sig}); err != nil {
					return fmt.Errorf("adb handshake: %w", err)
				}
			case opts.SendPublicKey && len(opts.Keys) > 0 && !sentKey:
				sentKey = true
				if err := c.send(Message{Command: CmdAUTH, Arg0: AuthRSAPublicKey, Data: []byte(opts.Keys[0].PublicKeyText() + "\x00")}); err != nil {
					return fmt.Errorf("adb handshake: %w", err)
				}
			default:
				return ErrUnauthorized
			}
		case CmdSTLS:
			return fmt.Errorf("adb handshake: the device asks for TLS (Android 11 wireless debugging), which this transport does not speak")
		default:
			return fmt.Errorf("adb handshake: %w: %s before CNXN", ErrProtocol, m)
		}
	}
}

// accept takes the peer's CNXN: version and payload limit are the lower
// of both sides'.
func (c *Conn) accept(m Message) error {
	if m.Arg0 < VersionMin {
		return fmt.Errorf("adb handshake: %w: peer protocol version %#x is older than %#x", ErrProtocol, m.Arg0, VersionMin)
	}
	if m.Arg1 < 1024 {
		return fmt.Errorf("adb handshake: %w: peer payload limit %d is too small", ErrProtocol, m.Arg1)
	}
	c.version = min(m.Arg0, Version)
	c.maxData = min(m.Arg1, MaxPayload)
	c.banner = strings.TrimRight(string(m.Data), "\x00")
	return nil
}

// DeviceOptions configure the device side of a connection (Serve).
type DeviceOptions struct {
	// Banner is sent in CNXN, e.g.
	// "device::ro.product.model=X;features=shell_v2".
	Banner string
	// AuthorizedKeys may connect; with none, AUTH is skipped (like a
	// device with ro.adb.secure=0).
	AuthorizedKeys []*rsa.PublicKey
	// OfferedKey, if set, is called with a public key a host offered
	// after its signatures were refused; returning true accepts it (the
	// user allowed it), false leaves the host waiting, as adbd does.
	OfferedKey func(pub *rsa.PublicKey, comment string) bool
	// Open dispatches services; an error refuses the OPEN.
	Open func(service string) (func(*Stream), error)
}

// Serve runs the device side of CNXN/AUTH on carrier, then serves streams
// through opts.Open. It returns once the host is connected; ctx bounds
// the handshake only.
func Serve(ctx context.Context, carrier Carrier, opts DeviceOptions) (*Conn, error) {
	c := newConn(carrier)
	c.open = opts.Open
	stop := context.AfterFunc(ctx, func() { carrier.Close() })
	err := c.deviceHandshake(opts)
	if !stop() || err != nil {
		carrier.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("adb handshake: %w", ctx.Err())
		}
		return nil, err
	}
	go c.loop()
	return c, nil
}

func (c *Conn) deviceHandshake(opts DeviceOptions) error {
	var token []byte
	mode := CheckNonZero
	cnxn := Message{Command: CmdCNXN, Arg0: Version, Arg1: MaxPayload, Data: []byte(opts.Banner + "\x00")}
	sendToken := func() error {
		token = make([]byte, TokenSize)
		rand.Read(token)
		return c.send(Message{Command: CmdAUTH, Arg0: AuthToken, Data: token})
	}
	for {
		m, err := ReadMessage(c.c, MaxPayload, mode)
		if err != nil {
			return fmt.Errorf("adb handshake: %w", err)
		}
		switch {
		case m.Command == CmdCNXN:
			if err := c.accept(m); err != nil {
				return err
			}
			mode = c.checkMode()
			if len(opts.AuthorizedKeys) == 0 {
				return c.send(cnxn)
			}
			if err := sendToken(); err != nil {
				return err
			}
		case m.Command == CmdAUTH && token == nil:
			return fmt.Errorf("adb handshake: %w: AUTH before CNXN", ErrProtocol)
		case m.Command == CmdAUTH && m.Arg0 == AuthSignature:
			for _, k := range opts.AuthorizedKeys {
				if VerifyToken(k, token, m.Data) == nil {
					return c.send(cnxn)
				}
			}
			if err := sendToken(); err != nil {
				return err
			}
		case m.Command == CmdAUTH && m.Arg0 == AuthRSAPublicKey:
			pub, comment, err := ParsePublicKey(string(m.Data))
			if err != nil {
				return fmt.Errorf("adb handshake: offered key: %w", err)
			}
			if opts.OfferedKey != nil && opts.OfferedKey(pub, comment) {
				return c.send(cnxn)
			}
		default:
			return fmt.Errorf("adb handshake: %w: %s before the host is authorised", ErrProtocol, m)
		}
	}
}

// streamCarrier carries messages over a byte stream such as TCP.
type streamCarrier struct {
	rwc io.ReadWriteCloser
	r   *bufio.Reader
}

// NewStreamCarrier carries messages over a byte stream: a TCP connection
// to adbd (Cuttlefish listens on port 6520) or, in tests, a pipe.
func NewStreamCarrier(rwc io.ReadWriteCloser) Carrier {
	if tc, ok := rwc.(*net.TCPConn); ok {
		// Room for a few full messages each way: fewer wake-ups per
		// megabyte, which is what limits throughput on a loaded host.
		tc.SetReadBuffer(4 << 20)
		tc.SetWriteBuffer(4 << 20)
	}
	return &streamCarrier{rwc: rwc, r: bufio.NewReaderSize(rwc, 256<<10)}
}

func (s *streamCarrier) Read(p []byte) (int, error) { return s.r.Read(p) }
func (s *streamCarrier) Close() error               { return s.rwc.Close() }

func (s *streamCarrier) WritePacket(hdr, payload []byte) error {
	if nc, ok := s.rwc.(net.Conn); ok {
		bufs := net.Buffers{hdr, payload}
		_, err := bufs.WriteTo(nc)
		return err
	}
	if _, err := s.rwc.Write(hdr); err != nil {
		return err
	}
	if len(payload) > 0 {
		_, err := s.rwc.Write(payload)
		return err
	}
	return nil
}

// DialTCP connects to adbd at addr (host:port) and runs the handshake.
func DialTCP(ctx context.Context, addr string, opts HostOptions) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("adb tcp: %w", err)
	}
	c, err := Connect(ctx, NewStreamCarrier(nc), opts)
	if err != nil {
		return nil, fmt.Errorf("adb tcp %s: %w", addr, err)
	}
	return c, nil
}
