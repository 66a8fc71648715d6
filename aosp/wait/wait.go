// Package wait is the tests' one way to wait for an asynchronous effect
// (a reload, a commit, a watcher noticing a rename): poll a condition
// until it holds or a generous deadline passes. It asserts no timing: the
// deadline only turns a hang into a failure that says what never came.
// It sits under aosp/ because the top-level layout is fixed and both the
// domain packages and framework's tests use it (a domain package may not
// import framework); the layering test keeps it out of every binary.
package wait

import (
	"testing"
	"time"
)

// Timeout is how long Until waits before failing the test: long enough
// for a loaded 2-core machine running -race, short enough to fail a hang.
const Timeout = 10 * time.Second

// Until polls cond until it holds, failing tb after Timeout with what it
// was waiting for.
func Until(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	Within(tb, Timeout, what, cond)
}

// Within is Until with another deadline, for effects that take longer
// by design (a tracker's resync period).
func Within(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	WithinSeen(tb, d, what, func() (bool, string) { return cond(), "" })
}

// UntilSeen is Until for a condition that also returns what it saw (a
// command's output, a count): on a timeout the failure shows the last of
// it, so it says what came instead.
func UntilSeen(tb testing.TB, what string, cond func() (bool, string)) {
	tb.Helper()
	WithinSeen(tb, Timeout, what, cond)
}

// WithinSeen is UntilSeen with another deadline.
func WithinSeen(tb testing.TB, d time.Duration, what string, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			if seen == "" {
				tb.Fatalf("timed out after %v waiting for %s", d, what)
			}
			tb.Fatalf("timed out after %v waiting for %s; last seen:\n%s", d, what, seen)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
