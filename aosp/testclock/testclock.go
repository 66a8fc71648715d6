// Package testclock is the tests' injected clock: a time that moves only
// when the test moves it, safe to read from the code under test's
// goroutines. It sits under aosp/ for the reason package wait does (the
// top-level layout is fixed; domain packages and framework's tests both
// use it), and the layering test keeps it out of every binary.
package testclock

import (
	"sync"
	"time"
)

// Clock is a settable clock; its Now is what the code under test gets
// as its time source.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock standing at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
