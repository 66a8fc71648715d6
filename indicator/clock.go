package indicator

import "time"

// Clock is the engine's time source and timer factory. Tests inject a
// manual clock so that hold and max-span expiry are deterministic.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	Stop() bool
}

// SystemClock is a Clock reading now (time.Now when nil) with real timers.
// Expiry never depends on a timer firing on time: every operation first
// expires whatever is due by now, so a late timer only delays a
// notification, never corrupts the state.
func SystemClock(now func() time.Time) Clock {
	if now == nil {
		now = time.Now
	}
	return systemClock{now}
}

type systemClock struct{ now func() time.Time }

func (c systemClock) Now() time.Time { return c.now() }

func (c systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
