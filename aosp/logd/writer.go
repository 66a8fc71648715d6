package logd

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// Android log priorities (android_LogPriority in log/log.h).
const (
	PriorityVerbose = 2
	PriorityDebug   = 3
	PriorityInfo    = 4
	PriorityWarn    = 5
	PriorityError   = 6
	PriorityFatal   = 7
)

// MaxPayload is LOGGER_ENTRY_MAX_PAYLOAD: logd drops a datagram whose
// payload (priority, tag, message and their NULs) is longer, so the
// message is cut to fit.
const MaxPayload = 4068

// WriterHeader is the size of android_log_header_t, the packed header of
// a datagram to /dev/socket/logdw: log id (1 byte), thread id (uint16),
// realtime seconds and nanoseconds (uint32 each), little-endian.
const WriterHeader = 11

// Priority maps a slog level to an Android priority: Debug → D, Info →
// I, Warn → W, Error and above → E, below Debug → V.
func Priority(l slog.Level) byte {
	switch {
	case l < slog.LevelDebug:
		return PriorityVerbose
	case l < slog.LevelInfo:
		return PriorityDebug
	case l < slog.LevelWarn:
		return PriorityInfo
	case l < slog.LevelError:
		return PriorityWarn
	}
	return PriorityError
}

// AppendWriterPacket appends one logdw datagram to b: the header for the
// main buffer, then priority, tag and message, each string
// NUL-terminated, the message cut (at a UTF-8 boundary) so the payload
// fits MaxPayload. This is what liblog's logd_writer.cpp sends
// (system/logging/liblog/logd_writer.cpp, header type in
// private/android_logger.h).
func AppendWriterPacket(b []byte, t time.Time, tid uint16, prio byte, tag, msg string) []byte {
	b = append(b, LogMain)
	b = binary.LittleEndian.AppendUint16(b, tid)
	b = binary.LittleEndian.AppendUint32(b, uint32(t.Unix()))
	b = binary.LittleEndian.AppendUint32(b, uint32(t.Nanosecond()))
	b = append(b, prio)
	b = append(b, tag...)
	b = append(b, 0)
	room := MaxPayload - 1 - len(tag) - 1 - 1
	if len(msg) > room {
		cut := room
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut]
	}
	b = append(b, msg...)
	return append(b, 0)
}

// conn is the datagram socket shared by a Handler and the handlers
// derived from it (WithAttrs, WithGroup).
type conn struct {
	path    string
	mu      sync.Mutex
	c       *net.UnixConn
	dropped atomic.Uint64
}

// send writes one packet; when logd restarted (the socket was
// re-created) it redials once. A packet logd cannot take right away is
// dropped and counted: logging must never stall the daemon, and liblog
// drops the same way (its socket is non-blocking).
func (c *conn) send(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for attempt := 0; attempt < 2; attempt++ {
		if c.c == nil {
			uc, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: c.path, Net: "unixgram"})
			if err != nil {
				break
			}
			c.c = uc
		}
		c.c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := c.c.Write(p); err == nil {
			return
		}
		c.c.Close()
		c.c = nil
	}
	c.dropped.Add(1)
}

// Handler is a slog.Handler that writes each record to logd as one
// line of the main buffer under one tag, so "adb logcat -s permd" shows
// it. The line is the message followed by the attributes as key=value
// (values quoted when they contain spaces), the way slog's text handler
// writes them, without time and level, which logcat prints itself.
type Handler struct {
	c      *conn
	tag    string
	level  slog.Leveler
	prefix string // attributes from WithAttrs, formatted
	group  string // open groups, "a.b."
}

// NewHandler dials logd's writer socket at path (/dev/socket/logdw on a
// device) and returns a handler that logs under tag at level and above
// (nil level: Info).
func NewHandler(path, tag string, level slog.Leveler) (*Handler, error) {
	if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("logd writer: %w", err)
	} else if fi.Mode().Type() != os.ModeSocket {
		return nil, fmt.Errorf("logd writer: %s is not a socket", path)
	}
	uc, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("logd writer: %w", err)
	}
	if level == nil {
		level = slog.LevelInfo
	}
	return &Handler{c: &conn{path: path, c: uc}, tag: tag, level: level}, nil
}

// Dropped counts records logd did not take (socket gone or full).
func (h *Handler) Dropped() uint64 { return h.c.dropped.Load() }

// Close closes the socket; later records redial.
func (h *Handler) Close() error {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	if h.c.c == nil {
		return nil
	}
	err := h.c.c.Close()
	h.c.c = nil
	return err
}

// Enabled reports whether l is at or above the handler's level.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// Handle formats r and sends it as one datagram.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	var b bytes.Buffer
	b.WriteString(r.Message)
	b.WriteString(h.prefix)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, h.group, a)
		return true
	})
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	msg := b.String()
	p := AppendWriterPacket(make([]byte, 0, WriterHeader+len(h.tag)+len(msg)+3), t, uint16(syscall.Gettid()), Priority(r.Level), h.tag, msg)
	h.c.send(p)
	return nil
}

// WithAttrs returns a handler that adds attrs to every record.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b bytes.Buffer
	for _, a := range attrs {
		appendAttr(&b, h.group, a)
	}
	h2 := *h
	h2.prefix += b.String()
	return &h2
}

// WithGroup returns a handler that qualifies later keys with name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.group += name + "."
	return &h2
}

func appendAttr(b *bytes.Buffer, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		g := group
		if a.Key != "" {
			g += a.Key + "."
		}
		for _, x := range a.Value.Group() {
			appendAttr(b, g, x)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(group)
	b.WriteString(a.Key)
	b.WriteByte('=')
	s := a.Value.String()
	if needsQuote(s) {
		s = strconv.Quote(s)
	}
	b.WriteString(s)
}

func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		if r <= ' ' || r == '=' || r == '"' || r == 0x7f || !utf8.ValidRune(r) {
			return true
		}
	}
	return false
}
