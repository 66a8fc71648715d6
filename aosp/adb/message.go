package adb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Commands of the transport, as the little-endian words of their names.
const (
	CmdSYNC = 0x434e5953
	CmdCNXN = 0x4e584e43
	CmdAUTH = 0x48545541
	CmdOPEN = 0x4e45504f
	CmdOKAY = 0x59414b4f
	CmdCLSE = 0x45534c43
	CmdWRTE = 0x45545257
	CmdSTLS = 0x534c5453
)

// Protocol versions. From VersionSkipChecksum on, senders may leave the
// payload checksum zero and receivers do not check it.
const (
	VersionMin          = 0x01000000
	VersionSkipChecksum = 0x01000001
	// Version is the version this package announces.
	Version = VersionSkipChecksum
)

// Payload limits. MaxPayloadV1 is what a peer of VersionMin accepts before
// CNXN; MaxPayload is what this package announces (adb's own since
// Android 9).
const (
	MaxPayloadV1 = 4 * 1024
	MaxPayload   = 1024 * 1024
)

// AUTH arg0 values.
const (
	AuthToken        = 1
	AuthSignature    = 2
	AuthRSAPublicKey = 3
)

// HeaderSize is the size of a message header on the wire.
const HeaderSize = 24

// ErrProtocol is wrapped by every error caused by bytes that are not a
// valid ADB message, so callers can tell a broken peer from a lost one.
var ErrProtocol = errors.New("adb protocol error")

// Message is one transport message: a header and its payload.
type Message struct {
	Command uint32
	Arg0    uint32
	Arg1    uint32
	Data    []byte
}

// String shows a message for errors and logs: command, arguments and
// payload size.
func (m Message) String() string {
	return fmt.Sprintf("%s(%#x, %#x, %d bytes)", commandName(m.Command), m.Arg0, m.Arg1, len(m.Data))
}

// commandName shows a command word as its four letters, or in hex when it
// is not printable (garbage).
func commandName(c uint32) string {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], c)
	for _, x := range b {
		if x < 'A' || x > 'Z' {
			return fmt.Sprintf("%#08x", c)
		}
	}
	return string(b[:])
}

func knownCommand(c uint32) bool {
	switch c {
	case CmdSYNC, CmdCNXN, CmdAUTH, CmdOPEN, CmdOKAY, CmdCLSE, CmdWRTE, CmdSTLS:
		return true
	}
	return false
}

// Checksum is the payload checksum of protocol.txt: the sum of the bytes.
func Checksum(data []byte) uint32 {
	var s uint32
	for _, b := range data {
		s += uint32(b)
	}
	return s
}

// EncodeHeader fills the 24-byte header of m. The checksum is computed
// only when withChecksum is set (peers before VersionSkipChecksum).
func EncodeHeader(hdr []byte, m Message, withChecksum bool) {
	le := binary.LittleEndian
	le.PutUint32(hdr[0:], m.Command)
	le.PutUint32(hdr[4:], m.Arg0)
	le.PutUint32(hdr[8:], m.Arg1)
	le.PutUint32(hdr[12:], uint32(len(m.Data)))
	var sum uint32
	if withChecksum {
		sum = Checksum(m.Data)
	}
	le.PutUint32(hdr[16:], sum)
	le.PutUint32(hdr[20:], m.Command^0xffffffff)
}

// CheckMode says when ReadMessage verifies the payload checksum.
type CheckMode int

// Checksum verification modes.
const (
	// CheckAlways verifies every payload: the peer speaks VersionMin.
	CheckAlways CheckMode = iota
	// CheckNonZero verifies a checksum the peer filled in: before CNXN,
	// when the peer's version is not known yet.
	CheckNonZero
	// CheckNever skips it: both sides speak VersionSkipChecksum or later.
	CheckNever
)

// ReadMessage reads one message from r. A header that is not an ADB
// header, a payload longer than maxData or a wrong checksum is an error
// wrapping ErrProtocol; a peer that goes away is io.EOF or
// io.ErrUnexpectedEOF.
func ReadMessage(r io.Reader, maxData uint32, mode CheckMode) (Message, error) {
	return readMessage(r, maxData, mode, func(n int) []byte { return make([]byte, n) })
}

// readMessage is ReadMessage with the payload buffer from alloc.
func readMessage(r io.Reader, maxData uint32, mode CheckMode, alloc func(int) []byte) (Message, error) {
	var hdr [HeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Message{}, err
	}
	le := binary.LittleEndian
	m := Message{Command: le.Uint32(hdr[0:]), Arg0: le.Uint32(hdr[4:]), Arg1: le.Uint32(hdr[8:])}
	n, sum, magic := le.Uint32(hdr[12:]), le.Uint32(hdr[16:]), le.Uint32(hdr[20:])
	if magic != m.Command^0xffffffff {
		return Message{}, fmt.Errorf("%w: bad magic %#08x for command %s (header % x)", ErrProtocol, magic, commandName(m.Command), hdr[:])
	}
	if !knownCommand(m.Command) {
		return Message{}, fmt.Errorf("%w: unknown command %s", ErrProtocol, commandName(m.Command))
	}
	if n > maxData {
		return Message{}, fmt.Errorf("%w: %s payload of %d bytes exceeds the limit of %d", ErrProtocol, commandName(m.Command), n, maxData)
	}
	if n > 0 {
		m.Data = alloc(int(n))
		if _, err := io.ReadFull(r, m.Data); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Message{}, fmt.Errorf("read %s payload: %w", commandName(m.Command), err)
		}
	}
	if mode == CheckAlways || (mode == CheckNonZero && sum != 0) {
		if got := Checksum(m.Data); got != sum {
			return Message{}, fmt.Errorf("%w: %s payload checksum %#x, header says %#x", ErrProtocol, commandName(m.Command), got, sum)
		}
	}
	return m, nil
}
