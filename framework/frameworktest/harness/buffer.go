package harness

import (
	"strings"
	"sync"
)

// Buffer collects what a daemon or a command writes (exec's copying
// goroutine, a logger) while the test reads it: a strings.Builder behind
// a mutex, so the race detector has nothing to say about either side.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
