package wait

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	go func() {
		for range 3 {
			n.Add(1)
		}
	}()
	Until(t, "three increments", func() bool { return n.Load() == 3 })
}

// recorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as the real one does.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = format
	for _, a := range args {
		r.msg += " " + toString(a)
	}
	panic(r)
}

func toString(a any) string {
	if s, ok := a.(string); ok {
		return s
	}
	return "?"
}

func TestUntilFailsNamingWhatNeverCame(t *testing.T) {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if v := recover(); v != r {
				t.Fatalf("Until on a false condition: recovered %v, want the Fatalf of the recorder", v)
			}
		}()
		Within(r, 20*time.Millisecond, "a condition that never holds", func() bool { return false })
	}()
	if !strings.Contains(r.msg, "a condition that never holds") {
		t.Errorf("failure message %q does not name what was awaited", r.msg)
	}
}

func TestUntilSeenShowsWhatCameInstead(t *testing.T) {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if v := recover(); v != r {
				t.Fatalf("WithinSeen on a false condition: recovered %v, want the Fatalf of the recorder", v)
			}
		}()
		n := 0
		WithinSeen(r, 20*time.Millisecond, "three rows", func() (bool, string) {
			n++
			return false, fmt.Sprintf("rows %d", n)
		})
	}()
	if !strings.Contains(r.msg, "three rows") || !strings.Contains(r.msg, "rows ") {
		t.Errorf("failure message %q does not name what was awaited and what came", r.msg)
	}
}

func TestUntilSeenReturnsOnceTheConditionHolds(t *testing.T) {
	n := 0
	UntilSeen(t, "a third look", func() (bool, string) {
		n++
		return n == 3, fmt.Sprint(n)
	})
	if n != 3 {
		t.Errorf("UntilSeen returned after %d looks, want 3", n)
	}
}
