package adb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Shell runs cmd with the legacy "shell:" service and returns its output
// (stdout and stderr mixed, as adbd sends them). The exit status is not
// carried by this service; use Run for it.
func (c *Conn) Shell(ctx context.Context, cmd string) ([]byte, error) {
	return c.collect(ctx, "shell:"+cmd)
}

// Exec runs cmd with the "exec:" service (adb exec-out): the raw bytes of
// its output, without a terminal or any translation.
func (c *Conn) Exec(ctx context.Context, cmd string) ([]byte, error) {
	return c.collect(ctx, "exec:"+cmd)
}

func (c *Conn) collect(ctx context.Context, service string) ([]byte, error) {
	s, err := c.Open(ctx, service)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out bytes.Buffer
	if _, err := io.Copy(&out, s); err != nil {
		return out.Bytes(), err
	}
	return out.Bytes(), nil
}

// Shell protocol v2 packet ids (shell_protocol.h): each packet is an id
// byte, a little-endian uint32 length and that many bytes.
const (
	ShellStdin      = 0
	ShellStdout     = 1
	ShellStderr     = 2
	ShellExit       = 3
	ShellCloseStdin = 4
	ShellWindowSize = 5
)

// shellMaxPacket bounds one v2 packet; adbd's buffer is far smaller.
const shellMaxPacket = 1 << 20

// ErrNoShellV2 is returned by Run on a device without the shell_v2
// feature (before Android 7), which cannot report exit codes.
var ErrNoShellV2 = errors.New("device lacks shell protocol v2 (Android 7+), exit codes unavailable")

// WriteShellPacket writes one shell protocol v2 packet.
func WriteShellPacket(w io.Writer, id byte, data []byte) error {
	b := make([]byte, 5+len(data))
	b[0] = id
	binary.LittleEndian.PutUint32(b[1:], uint32(len(data)))
	copy(b[5:], data)
	_, err := w.Write(b)
	return err
}

// ReadShellPacket reads one shell protocol v2 packet.
func ReadShellPacket(r io.Reader) (byte, []byte, error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := binary.LittleEndian.Uint32(h[1:])
	if n > shellMaxPacket {
		return 0, nil, fmt.Errorf("%w: shell packet of %d bytes", ErrProtocol, n)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, nil, fmt.Errorf("shell packet: %w", io.ErrUnexpectedEOF)
	}
	return h[0], data, nil
}

// Run runs cmd through the shell protocol v2 ("shell,v2,raw:"), copying
// its stdout and stderr apart, and returns its exit status.
func (c *Conn) Run(ctx context.Context, cmd string, stdout, stderr io.Writer) (int, error) {
	if !c.HasFeature("shell_v2") {
		return -1, ErrNoShellV2
	}
	s, err := c.Open(ctx, "shell,v2,raw:"+cmd)
	if err != nil {
		return -1, err
	}
	defer s.Close()
	// Nothing is fed to stdin: close it so commands that read it end. A
	// command may already have ended and the device closed the stream,
	// so a failed write is not an error: its output and exit status are
	// still read below, and a lost connection shows there.
	WriteShellPacket(s, ShellCloseStdin, nil)
	for {
		id, data, err := ReadShellPacket(s)
		if err != nil {
			if err == io.EOF {
				return -1, fmt.Errorf("run %q: stream ended without an exit status", cmd)
			}
			return -1, fmt.Errorf("run %q: %w", cmd, err)
		}
		switch id {
		case ShellStdout:
			if _, err := stdout.Write(data); err != nil {
				return -1, err
			}
		case ShellStderr:
			if _, err := stderr.Write(data); err != nil {
				return -1, err
			}
		case ShellExit:
			if len(data) != 1 {
				return -1, fmt.Errorf("run %q: %w: exit packet of %d bytes", cmd, ErrProtocol, len(data))
			}
			return int(data[0]), nil
		}
	}
}
