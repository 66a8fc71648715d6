// Package logd reads Android's event log from logd's reader socket
// (/dev/socket/logdr) and decodes the ActivityManager and WindowManager
// events that say which app processes start, die and come to the front.
package logd

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// Log buffer ids (log_id_t).
const (
	LogMain   = 0
	LogRadio  = 1
	LogEvents = 2
	LogSystem = 3
	LogCrash  = 4
)

// minHeader is the v1 header without the fields later versions add; any
// header at least this long carries pid, tid, sec and nsec.
const (
	minHeader = 20
	v4Header  = 28
)

// Entry is one logger_entry as logd sends it to a reader.
type Entry struct {
	PID     int32
	TID     uint32
	Time    time.Time
	LID     uint32 // log buffer id; 0 when the header predates it
	UID     uint32 // writer's uid; 0 when the header predates it
	Payload []byte // aliases the receive buffer: copy to keep
}

// ErrShort means a packet is shorter than its header says.
var ErrShort = errors.New("short log entry")

// ParseEntry decodes one packet: a little-endian header
//
//	u16 len, u16 hdr_size, i32 pid, u32 tid, u32 sec, u32 nsec, u32 lid, u32 uid
//
// followed by len payload bytes starting at hdr_size. hdr_size is
// honoured, not assumed: older logd sent shorter headers and a newer one
// may send longer.
func ParseEntry(b []byte) (Entry, error) {
	if len(b) < 4 {
		return Entry{}, fmt.Errorf("%w: %d bytes", ErrShort, len(b))
	}
	n := int(binary.LittleEndian.Uint16(b[0:]))
	hs := int(binary.LittleEndian.Uint16(b[2:]))
	if hs == 0 {
		hs = minHeader // v1 entries had no hdr_size (the field was padding)
	}
	if hs < minHeader {
		return Entry{}, fmt.Errorf("header size %d below %d", hs, minHeader)
	}
	if len(b) < hs+n {
		return Entry{}, fmt.Errorf("%w: %d bytes, header %d + payload %d", ErrShort, len(b), hs, n)
	}
	e := Entry{
		PID:     int32(binary.LittleEndian.Uint32(b[4:])),
		TID:     binary.LittleEndian.Uint32(b[8:]),
		Time:    time.Unix(int64(binary.LittleEndian.Uint32(b[12:])), int64(binary.LittleEndian.Uint32(b[16:]))),
		Payload: b[hs : hs+n],
	}
	if hs >= 24 {
		e.LID = binary.LittleEndian.Uint32(b[20:])
	}
	if hs >= v4Header {
		e.UID = binary.LittleEndian.Uint32(b[24:])
	}
	return e, nil
}

// Event value type bytes on the wire (AndroidEventLogType).
const (
	TypeInt    = 0
	TypeLong   = 1
	TypeString = 2
	TypeList   = 3
	TypeFloat  = 4
)

// maxDepth bounds list nesting: real tags nest at most once.
const maxDepth = 8

// DecodeEvent splits an events-buffer payload into its tag and value.
// A value is int32, int64, string, float32 or []any of those.
func DecodeEvent(p []byte) (tag int32, v any, err error) {
	if len(p) < 4 {
		return 0, nil, fmt.Errorf("%w: event payload of %d bytes", ErrShort, len(p))
	}
	tag = int32(binary.LittleEndian.Uint32(p))
	if len(p) == 4 {
		return tag, nil, nil // a tag with no value
	}
	v, rest, err := decodeValue(p[4:], 0)
	if err != nil {
		return tag, nil, fmt.Errorf("tag %d: %w", tag, err)
	}
	// liblog appends a '\n' after the value; anything else trailing is
	// tolerated as well (a newer writer may add fields).
	_ = rest
	return tag, v, nil
}

func decodeValue(p []byte, depth int) (any, []byte, error) {
	if len(p) < 1 {
		return nil, nil, fmt.Errorf("%w: missing type byte", ErrShort)
	}
	t, p := p[0], p[1:]
	switch t {
	case TypeInt:
		if len(p) < 4 {
			return nil, nil, fmt.Errorf("%w: int32", ErrShort)
		}
		return int32(binary.LittleEndian.Uint32(p)), p[4:], nil
	case TypeLong:
		if len(p) < 8 {
			return nil, nil, fmt.Errorf("%w: int64", ErrShort)
		}
		return int64(binary.LittleEndian.Uint64(p)), p[8:], nil
	case TypeFloat:
		if len(p) < 4 {
			return nil, nil, fmt.Errorf("%w: float", ErrShort)
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(p)), p[4:], nil
	case TypeString:
		if len(p) < 4 {
			return nil, nil, fmt.Errorf("%w: string length", ErrShort)
		}
		n := int(int32(binary.LittleEndian.Uint32(p)))
		p = p[4:]
		if n < 0 || n > len(p) {
			return nil, nil, fmt.Errorf("%w: string of %d bytes with %d left", ErrShort, n, len(p))
		}
		return string(p[:n]), p[n:], nil
	case TypeList:
		if depth >= maxDepth {
			return nil, nil, fmt.Errorf("lists nested deeper than %d", maxDepth)
		}
		if len(p) < 1 {
			return nil, nil, fmt.Errorf("%w: list count", ErrShort)
		}
		n := int(p[0])
		p = p[1:]
		list := make([]any, 0, n)
		for i := 0; i < n; i++ {
			var v any
			var err error
			v, p, err = decodeValue(p, depth+1)
			if err != nil {
				return nil, nil, fmt.Errorf("list item %d: %w", i, err)
			}
			list = append(list, v)
		}
		return list, p, nil
	}
	return nil, nil, fmt.Errorf("unknown value type %d", t)
}

// Tags maps event tag numbers to names.
type Tags map[int32]string

// BuiltinTags are the tags this package decodes, with the numbers of
// frameworks/base's EventLogTags.logtags. They stand in when the
// device's event-log-tags file is absent.
var BuiltinTags = Tags{
	30010: "am_proc_bound",
	30011: "am_proc_died",
	30014: "am_proc_start",
	30023: "am_kill",
	30043: "wm_set_resumed_activity",
	30052: "am_uid_running",
	30053: "am_uid_stopped",
	30054: "am_uid_active",
	30055: "am_uid_idle",
}

// ParseTags reads an event-log-tags file: "<number> <name> [fields]"
// per line, '#' comments. Lines that do not parse are skipped.
func ParseTags(r io.Reader) (Tags, error) {
	t := Tags{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 32)
		if err != nil {
			continue
		}
		t[int32(n)] = f[1]
	}
	return t, sc.Err()
}

// LoadTags reads the device's tag file, falling back to BuiltinTags for
// numbers it lacks (or entirely, when the file is absent).
func LoadTags(path string) (Tags, error) {
	out := Tags{}
	for k, v := range BuiltinTags {
		out[k] = v
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	defer f.Close()
	t, err := ParseTags(f)
	if err != nil {
		return out, fmt.Errorf("read %s: %w", path, err)
	}
	// The file is the authority; a built-in entry is kept only when the
	// file names neither its number nor its name.
	names := map[string]bool{}
	for _, v := range t {
		names[v] = true
	}
	for k, v := range out {
		if _, ok := t[k]; ok || names[v] {
			delete(out, k)
		}
	}
	for k, v := range t {
		out[k] = v
	}
	return out, nil
}
