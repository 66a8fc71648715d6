package logd

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// logdwPacket is one datagram decoded from the format alone (liblog's
// logd_writer.cpp and private/android_logger.h): a packed header of log
// id (u8), tid (u16 LE), realtime sec and nsec (u32 LE each), then the
// payload: priority (u8), tag NUL, message NUL. It shares no code with
// the writer.
type logdwPacket struct {
	id       byte
	tid      int
	sec, ns  uint32
	prio     byte
	tag, msg string
	payload  int
}

func decodeLogdw(t *testing.T, p []byte) logdwPacket {
	t.Helper()
	if len(p) < 11+1+2 {
		t.Fatalf("datagram of %d bytes is shorter than a header and an empty entry", len(p))
	}
	le32 := func(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24 }
	d := logdwPacket{id: p[0], tid: int(p[1]) | int(p[2])<<8, sec: le32(p[3:7]), ns: le32(p[7:11]), payload: len(p) - 11}
	rest := p[11:]
	d.prio = rest[0]
	parts := strings.SplitN(string(rest[1:]), "\x00", 3)
	if len(parts) != 3 || parts[2] != "" {
		t.Fatalf("payload %q: want tag NUL message NUL and nothing after", rest[1:])
	}
	d.tag, d.msg = parts[0], parts[1]
	return d
}

// listenLogdw is a stand-in for logd's writer socket: a real unixgram
// socket at path.
func listenLogdw(t *testing.T, path string) *net.UnixConn {
	t.Helper()
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func recv(t *testing.T, l *net.UnixConn) logdwPacket {
	t.Helper()
	buf := make([]byte, 8192)
	l.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := l.Read(buf)
	if err != nil {
		t.Fatalf("no datagram from the handler: %v", err)
	}
	return decodeLogdw(t, buf[:n])
}

func TestHandlerWritesLogdwDatagrams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logdw")
	l := listenLogdw(t, path)
	h, err := NewHandler(path, "permd", slog.LevelDebug)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	log := slog.New(h).With("part", "grants").WithGroup("req")

	at := time.Date(2026, 12, 1, 9, 30, 15, 123456789, time.UTC)
	for _, tc := range []struct {
		level slog.Level
		prio  byte
		msg   string
		attrs []any
		want  string
	}{
		{slog.LevelInfo, 4, "config rejected", []any{"file", "grants.json", "problem", "bad level"}, `config rejected part=grants req.file=grants.json req.problem="bad level"`},
		{slog.LevelWarn, 5, "denied", []any{"uid", 10123}, "denied part=grants req.uid=10123"},
		{slog.LevelError, 6, "storage failing", nil, "storage failing part=grants"},
		{slog.LevelDebug, 3, "tick", nil, "tick part=grants"},
		{slog.LevelDebug - 4, 0, "", nil, ""}, // below the handler's level: nothing sent
		{slog.LevelError + 4, 6, "fatal-ish", nil, "fatal-ish part=grants"},
	} {
		r := slog.NewRecord(at, tc.level, tc.msg, 0)
		r.Add(tc.attrs...)
		if !log.Handler().Enabled(context.Background(), tc.level) {
			if tc.prio != 0 {
				t.Errorf("level %v not enabled", tc.level)
			}
			continue
		}
		if err := log.Handler().Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		d := recv(t, l)
		if d.id != 0 || d.tid == 0 || d.sec != uint32(at.Unix()) || d.ns != 123456789 || d.prio != tc.prio || d.tag != "permd" || d.msg != tc.want {
			t.Errorf("level %v: decoded %+v; want main buffer, a tid, %d.123456789, priority %d, tag permd, message %q", tc.level, d, at.Unix(), tc.prio, tc.want)
		}
	}
	if h.Dropped() != 0 {
		t.Errorf("dropped %d", h.Dropped())
	}
}

func TestHandlerCutsLongMessagesAtRuneBoundary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logdw")
	l := listenLogdw(t, path)
	h, err := NewHandler(path, "permd", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	long := strings.Repeat("位置", 3000) // 18000 bytes
	slog.New(h).Info(long)
	d := recv(t, l)
	if d.payload > 4068 || d.payload < 4060 || !utf8.ValidString(d.msg) || !strings.HasPrefix(long, d.msg) {
		t.Errorf("long message: payload %d bytes, valid UTF-8 %v; want at most 4068 (LOGGER_ENTRY_MAX_PAYLOAD), cut at a character", d.payload, utf8.ValidString(d.msg))
	}
}

// TestHandlerSurvivesLogdRestart: logd re-creates its socket when it
// restarts; the handler redials, and what it could not deliver while
// logd was away is counted, not blocked on.
func TestHandlerSurvivesLogdRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logdw")
	l := listenLogdw(t, path)
	h, err := NewHandler(path, "permd", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	log := slog.New(h)
	log.Info("before")
	if d := recv(t, l); d.msg != "before" {
		t.Fatalf("got %q", d.msg)
	}
	l.Close()
	os.Remove(path)
	log.Info("while logd is away")
	if h.Dropped() != 1 {
		t.Errorf("dropped %d while logd was away, want 1", h.Dropped())
	}
	l2 := listenLogdw(t, path)
	log.Info("after")
	if d := recv(t, l2); d.msg != "after" {
		t.Errorf("after restart got %q", d.msg)
	}
}

func TestNewHandlerRefusesNonSocket(t *testing.T) {
	dir := t.TempDir()
	if _, err := NewHandler(filepath.Join(dir, "absent"), "permd", nil); err == nil {
		t.Error("absent path accepted")
	}
	f := filepath.Join(dir, "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := NewHandler(f, "permd", nil); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("regular file: %v", err)
	}
}
