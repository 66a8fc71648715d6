package indicator

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
)

// ledWriter makes sysfs LED brightness follow the shown state. It runs
// as a subscription, so a slow sysfs write never delays an op.start; it
// writes only when a value changes, and an LED shared by several
// resources is on while any of them is.
type ledWriter struct {
	log    *slog.Logger
	mu     sync.Mutex
	on     map[string]int // path → brightness when on, learned once
	errors atomic.Uint64
	failed map[string]bool // paths whose last write failed (logged once)
	// written is the value last written per path; paths dropped from the
	// config are turned off once and forgotten.
	written map[string]int
}

func (w *ledWriter) apply(s *Snapshot) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	want := map[string]int{}
	for res, led := range s.leds {
		if _, seen := want[led.Path]; !seen {
			want[led.Path] = 0
		}
		if s.On(res) {
			want[led.Path] = w.onValue(led)
		}
	}
	for p := range w.written {
		if _, ok := want[p]; !ok {
			want[p] = 0
			defer delete(w.written, p)
		}
	}
	for p, v := range want {
		if old, ok := w.written[p]; ok && old == v {
			continue
		}
		if err := os.WriteFile(p, []byte(strconv.Itoa(v)+"\n"), 0o644); err != nil {
			w.errors.Add(1)
			if w.failed == nil {
				w.failed = map[string]bool{}
			}
			if !w.failed[p] {
				w.failed[p] = true
				w.log.Error("indicator LED write failed", "path", p, "err", err)
			}
			// Not marked written: the next change tries again.
			continue
		}
		delete(w.failed, p)
		w.written[p] = v
	}
	return nil
}

// onValue is the configured brightness, else the LED's max_brightness,
// else 1.
func (w *ledWriter) onValue(l LED) int {
	if l.On > 0 {
		return l.On
	}
	if v, ok := w.on[l.Path]; ok {
		return v
	}
	v := 1
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(l.Path), "max_brightness")); err == nil {
		if n, err := strconv.Atoi(string(bytes.TrimSpace(b))); err == nil && n > 0 {
			v = n
		}
	}
	if w.on == nil {
		w.on = map[string]int{}
	}
	w.on[l.Path] = v
	return v
}
