package logd

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"permd/aosp/wait"
)

// The encoder below is written from the format's definition (liblog's
// logger_entry and the event payload encoding), independently of the
// decoder, so that a shared misunderstanding cannot pass unnoticed.

type i32 int32
type i64 int64
type str string
type f32 float32
type list []any

func encValue(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case i32:
		b.WriteByte(0)
		binary.Write(b, binary.LittleEndian, int32(x))
	case i64:
		b.WriteByte(1)
		binary.Write(b, binary.LittleEndian, int64(x))
	case str:
		b.WriteByte(2)
		binary.Write(b, binary.LittleEndian, int32(len(x)))
		b.WriteString(string(x))
	case list:
		b.WriteByte(3)
		b.WriteByte(byte(len(x)))
		for _, e := range x {
			encValue(b, e)
		}
	case f32:
		b.WriteByte(4)
		binary.Write(b, binary.LittleEndian, math.Float32bits(float32(x)))
	default:
		panic("test encoder: unsupported value")
	}
}

// eventPayload is tag + value + the '\n' liblog appends.
func eventPayload(tag int32, v any) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, tag)
	encValue(&b, v)
	b.WriteByte('\n')
	return b.Bytes()
}

// entry builds a packet with a header of hdrSize bytes (28 for v4;
// larger sizes pad, as a future logd might).
func entry(hdrSize int, pid int32, sec, nsec, lid, uid uint32, payload []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint16(len(payload)))
	binary.Write(&b, binary.LittleEndian, uint16(hdrSize))
	binary.Write(&b, binary.LittleEndian, pid)
	binary.Write(&b, binary.LittleEndian, uint32(pid)) // tid
	binary.Write(&b, binary.LittleEndian, sec)
	binary.Write(&b, binary.LittleEndian, nsec)
	binary.Write(&b, binary.LittleEndian, lid)
	binary.Write(&b, binary.LittleEndian, uid)
	for b.Len() < hdrSize {
		b.WriteByte(0xAA)
	}
	b.Write(payload)
	return b.Bytes()
}

func procStartPayload(pid, uid int32, proc, typ, comp string) []byte {
	return eventPayload(30014, list{i32(0), i32(pid), i32(uid), str(proc), str(typ), str(comp)})
}

// fakeLogd is a real SOCK_SEQPACKET server. Each accepted connection
// gets the next script: it records the command, writes the packets and,
// if hold is false, closes.
type fakeLogd struct {
	path     string
	ln       *net.UnixListener
	mu       sync.Mutex
	commands []string
	accepts  atomic.Int64
	scripts  chan script
}

type script struct {
	packets [][]byte
	hold    bool
}

func startFakeLogd(t testing.TB) *fakeLogd {
	t.Helper()
	path := filepath.Join(t.TempDir(), "logdr")
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		t.Fatalf("listen seqpacket: %v", err)
	}
	f := &fakeLogd{path: path, ln: ln, scripts: make(chan script, 16)}
	go f.serve()
	t.Cleanup(func() { ln.Close() })
	return f
}

func (f *fakeLogd) serve() {
	for {
		c, err := f.ln.AcceptUnix()
		if err != nil {
			return
		}
		f.accepts.Add(1)
		go func() {
			defer c.Close()
			buf := make([]byte, 512)
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			f.mu.Lock()
			f.commands = append(f.commands, string(buf[:n]))
			f.mu.Unlock()
			s := <-f.scripts
			for _, p := range s.packets {
				if _, err := c.Write(p); err != nil {
					return
				}
			}
			if s.hold {
				c.Read(buf) // until the client goes away
			}
		}()
	}
}

func (f *fakeLogd) command(i int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i < len(f.commands) {
		return f.commands[i]
	}
	return ""
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(new(bytes.Buffer), nil)) }

func TestReaderDecodesStreamFromFakeLogd(t *testing.T) {
	f := startFakeLogd(t)
	f.scripts <- script{hold: true, packets: [][]byte{
		entry(28, 1234, 1700000000, 5, LogEvents, 1000, procStartPayload(4321, 10113, "com.android.chrome", "activity", "com.android.chrome/com.google.android.apps.chrome.Main")),
		// A header longer than v4: the payload starts at hdr_size.
		entry(32, 1234, 1700000001, 0, LogEvents, 1000, eventPayload(30011, list{i32(0), i32(4321), str("com.android.chrome"), i32(900), i32(19)})),
		[]byte{1, 2, 3}, // garbage: counted, skipped
		entry(28, 1234, 1700000002, 0, LogEvents, 1000, eventPayload(30023, list{i32(0), i32(555), str("com.tencent.mm:push"), i32(905), str("empty for 1800s"), i64(81234)})),
		entry(28, 1234, 1700000003, 0, LogEvents, 1000, eventPayload(30043, list{i32(0), str("com.tencent.mm/.ui.LauncherUI"), str("resumeTopActivity")})),
		entry(28, 1234, 1700000004, 0, LogEvents, 1000, eventPayload(30053, i32(10078))),
		entry(28, 1234, 1700000005, 0, LogEvents, 1000, eventPayload(99999, list{f32(1.5), i64(-7)})),
	}}
	var mu sync.Mutex
	var got []Event
	ctx, cancel := context.WithCancel(context.Background())
	r := &Reader{Path: f.path, Log: quiet()}
	done := make(chan error)
	go func() {
		done <- r.Run(ctx, func(ev Event) {
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
		})
	}()
	wait.UntilSeen(t, "6 events", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 6, fmt.Sprintf("%d events", len(got))
	})
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	if c := f.command(0); c != "stream lids=2" {
		t.Errorf("command = %q, want %q", c, "stream lids=2")
	}
	want := []any{
		ProcStart{User: 0, PID: 4321, UID: 10113, Process: "com.android.chrome", HostingType: "activity", Component: "com.android.chrome/com.google.android.apps.chrome.Main"},
		ProcDied{User: 0, PID: 4321, Process: "com.android.chrome", OomAdj: 900, ProcState: 19},
		Kill{User: 0, PID: 555, Process: "com.tencent.mm:push", OomAdj: 905, Reason: "empty for 1800s"},
		Resumed{User: 0, Component: "com.tencent.mm/.ui.LauncherUI", Reason: "resumeTopActivity"},
		UIDState{UID: 10078, State: "stopped"},
		nil,
	}
	for i, ev := range got {
		d, err := Decode(ev)
		if err != nil {
			t.Errorf("event %d (%s): %v", i, ev.Name, err)
		}
		if !reflect.DeepEqual(d, want[i]) {
			t.Errorf("event %d (%s): got %#v, want %#v", i, ev.Name, d, want[i])
		}
	}
	if got[0].Time != time.Unix(1700000000, 5) || got[0].PID != 1234 || got[0].UID != 1000 {
		t.Errorf("header: got time %v pid %d uid %d", got[0].Time, got[0].PID, got[0].UID)
	}
	if v, ok := got[5].Value.([]any); !ok || !reflect.DeepEqual(v, []any{float32(1.5), int64(-7)}) {
		t.Errorf("float/long list: got %#v", got[5].Value)
	}
	if st := r.Stats(); st.Bad != 1 || st.Entries != 6 {
		t.Errorf("stats: got %+v, want 6 entries and 1 bad", st)
	}
}

func TestReaderReconnectsAndResumes(t *testing.T) {
	f := startFakeLogd(t)
	// First connection: one event, then logd "crashes" (closes).
	f.scripts <- script{packets: [][]byte{entry(28, 1, 100, 7, LogEvents, 1000, procStartPayload(10, 10001, "a.b", "service", "a.b/.S"))}}
	// Second: logd replays the last entry (start= is inclusive) and a new one.
	f.scripts <- script{hold: true, packets: [][]byte{
		entry(28, 1, 100, 7, LogEvents, 1000, procStartPayload(10, 10001, "a.b", "service", "a.b/.S")),
		entry(28, 1, 101, 0, LogEvents, 1000, procStartPayload(11, 10002, "c.d", "broadcast", "c.d/.R")),
	}}
	var pids []int
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &Reader{Path: f.path, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Log: quiet()}
	go r.Run(ctx, func(ev Event) {
		d, _ := Decode(ev)
		mu.Lock()
		pids = append(pids, d.(ProcStart).PID)
		mu.Unlock()
	})
	wait.UntilSeen(t, "2 process starts", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(pids) >= 2, fmt.Sprintf("pids %v", pids)
	})
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(pids, []int{10, 11}) {
		t.Errorf("pids delivered = %v, want [10 11] (the replayed entry dropped)", pids)
	}
	if c := f.command(1); c != "stream lids=2 start=100.000000007" {
		t.Errorf("reconnect command = %q, want %q", c, "stream lids=2 start=100.000000007")
	}
}

func TestReaderBacksOffWhenLogdIsAbsent(t *testing.T) {
	f := startFakeLogd(t)
	f.ln.Close() // the socket file is gone: every dial fails
	r := &Reader{Path: f.path, MinBackoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond, Log: quiet()}
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.Run(ctx, func(Event) {})
	if err != context.DeadlineExceeded {
		t.Errorf("Run returned %v, want DeadlineExceeded", err)
	}
	if el := time.Since(start); el < 550*time.Millisecond {
		t.Errorf("Run returned after %v, before its context ended", el)
	}
	// 20+40+80+80+... ms of waiting: about 9 attempts fit in 600 ms.
	if a := r.Stats().Attempts; a < 3 || a > 12 {
		t.Errorf("%d connection attempts in 600 ms, want 3..12 (backoff 20-80 ms)", a)
	}
	if r.Stats().Connects != 0 {
		t.Errorf("connects = %d with no server", r.Stats().Connects)
	}
}

func TestDecodeEventRejectsBadPayloads(t *testing.T) {
	cases := map[string][]byte{
		"short":           {1, 2},
		"unknown type":    append(le32(30014), 9),
		"string too long": append(append(le32(1), 2), le32(100)...),
		"truncated int64": append(le32(1), 1, 0, 0),
		"truncated list":  append(le32(1), 3, 2, 0, 1, 0, 0, 0),
		"deep lists":      append(le32(1), bytes.Repeat([]byte{3, 1}, 20)...),
	}
	for name, p := range cases {
		if _, _, err := DecodeEvent(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := ParseEntry(entry(28, 1, 1, 1, 2, 0, []byte{1, 2, 3, 4})[:30]); err == nil {
		t.Error("ParseEntry accepted a truncated payload")
	}
	if _, err := Decode(Event{Name: "am_proc_start", Value: []any{int32(0), "x"}}); err == nil || !strings.Contains(err.Error(), "am_proc_start") {
		t.Errorf("Decode of a malformed am_proc_start: %v", err)
	}
}

func le32(v int32) []byte {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, uint32(v))
	return b
}

func TestLoadTagsPrefersDeviceFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "event-log-tags")
	body := "# comment\n42 answer (to life|1|5)\n30014 am_proc_start (User|1|5),(PID|1|5),(UID|1|5),(Process Name|3),(Type|3),(Component|3)\n31043 wm_set_resumed_activity (User|1|5),(Component Name|3),(Reason|3)\nbogus line\n"
	if err := writeFile(p, body); err != nil {
		t.Fatal(err)
	}
	tags, err := LoadTags(p)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[int32]string{42: "answer", 30014: "am_proc_start", 31043: "wm_set_resumed_activity", 30011: "am_proc_died"}
	for n, want := range checks {
		if tags[n] != want {
			t.Errorf("tag %d = %q, want %q", n, tags[n], want)
		}
	}
	if _, ok := tags[30043]; ok {
		t.Errorf("built-in 30043 kept although the file moved wm_set_resumed_activity to 31043")
	}
	missing, err := LoadTags(filepath.Join(dir, "none"))
	if err != nil || missing[30014] != "am_proc_start" {
		t.Errorf("absent file: %v, %v", missing, err)
	}
}

func writeFile(p, body string) error { return os.WriteFile(p, []byte(body), 0o644) }
