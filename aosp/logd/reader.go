package logd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"
)

// RecvBuffer is the receive buffer for one packet. logd's largest entry
// (LOGGER_ENTRY_MAX_LEN) is 5 KiB; a seqpacket read into a smaller buffer
// would silently truncate.
const RecvBuffer = 16 << 10

// Reader streams the event log from logd and reconnects when logd goes
// away (it restarts on crashes and on some updates).
type Reader struct {
	// Path is the logdr socket, <root>/dev/socket/logdr.
	Path string
	// Command is sent once after connecting; default "stream lids=2"
	// (the events buffer, live). A reconnect asks for entries since the
	// last one seen, so a logd restart loses nothing it still holds.
	Command string
	// Tags names event numbers; nil means BuiltinTags.
	Tags Tags
	// MinBackoff and MaxBackoff bound the wait between connection
	// attempts; it doubles after each failure and resets once a
	// connection delivered entries.
	MinBackoff, MaxBackoff time.Duration
	Log                    *slog.Logger

	connected atomic.Bool
	attempts  atomic.Uint64
	connects  atomic.Uint64
	entries   atomic.Uint64
	bad       atomic.Uint64
	lastSec   uint32
	lastNsec  uint32
}

// Stats is what the reader has seen.
type Stats struct {
	Connected bool   `json:"connected"`
	Attempts  uint64 `json:"attempts"`
	Connects  uint64 `json:"connects"`
	Entries   uint64 `json:"entries"`
	Bad       uint64 `json:"bad"`
}

// Stats returns counters for health reports.
func (r *Reader) Stats() Stats {
	return Stats{Connected: r.connected.Load(), Attempts: r.attempts.Load(), Connects: r.connects.Load(), Entries: r.entries.Load(), Bad: r.bad.Load()}
}

// Run connects and calls fn for each events-buffer entry until ctx ends.
// It returns only ctx's error: connection failures are retried with
// capped exponential backoff, never in a tight loop.
func (r *Reader) Run(ctx context.Context, fn func(Event)) error {
	if r.MinBackoff <= 0 {
		r.MinBackoff = 200 * time.Millisecond
	}
	if r.MaxBackoff < r.MinBackoff {
		r.MaxBackoff = 30 * time.Second
	}
	if r.Log == nil {
		r.Log = slog.Default()
	}
	tags := r.Tags
	if tags == nil {
		tags = BuiltinTags
	}
	wait := r.MinBackoff
	var lastErr string
	for {
		got, err := r.session(ctx, tags, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if got {
			wait = r.MinBackoff
		}
		if msg := err.Error(); msg != lastErr {
			// Log each distinct failure once, not once per retry.
			r.Log.Warn("logd reader disconnected; retrying", "path", r.Path, "err", err, "retry_in", wait)
			lastErr = msg
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, r.MaxBackoff)
	}
}

// session runs one connection. got reports whether any entry arrived.
func (r *Reader) session(ctx context.Context, tags Tags, fn func(Event)) (got bool, err error) {
	r.attempts.Add(1)
	var d net.Dialer
	c, err := d.DialContext(ctx, "unixpacket", r.Path)
	if err != nil {
		return false, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	cmd := r.Command
	if cmd == "" {
		cmd = "stream lids=2"
	}
	if r.lastSec != 0 {
		// Resume after the last entry we delivered; logd sends entries at
		// or after start, and the duplicate at exactly that time is
		// dropped below.
		cmd += fmt.Sprintf(" start=%d.%09d", r.lastSec, r.lastNsec)
	}
	if len(cmd) > 254 {
		return false, fmt.Errorf("logd command of %d bytes exceeds 254", len(cmd))
	}
	if _, err := c.Write([]byte(cmd)); err != nil {
		return false, fmt.Errorf("send command: %w", err)
	}
	r.connected.Store(true)
	r.connects.Add(1)
	defer r.connected.Store(false)

	resumeSec, resumeNsec := r.lastSec, r.lastNsec
	buf := make([]byte, RecvBuffer)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return got, err
		}
		if n == 0 {
			return got, errors.New("logd closed the connection")
		}
		got = true
		e, err := ParseEntry(buf[:n])
		if err != nil {
			r.bad.Add(1)
			continue
		}
		sec, nsec := uint32(e.Time.Unix()), uint32(e.Time.Nanosecond())
		if resumeSec != 0 && (sec < resumeSec || sec == resumeSec && nsec <= resumeNsec) {
			continue // already delivered before the reconnect
		}
		r.lastSec, r.lastNsec = sec, nsec
		if e.LID != 0 && e.LID != LogEvents {
			continue
		}
		tag, v, err := DecodeEvent(e.Payload)
		if err != nil {
			r.bad.Add(1)
			continue
		}
		r.entries.Add(1)
		fn(Event{Time: e.Time, PID: e.PID, UID: e.UID, Tag: tag, Name: tags[tag], Value: v})
	}
}
