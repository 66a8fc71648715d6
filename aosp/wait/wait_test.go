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

// fatalMessage runs f with a recorder and returns the message it failed
// with; the test fails if f returns without failing.
func fatalMessage(t *testing.T, f func(tb testing.TB)) string {
	t.Helper()
	r := &recorder{TB: t}
	func() {
		defer func() {
			if v := recover(); v != r {
				t.Fatalf("a wait on a false condition: recovered %v, want the Fatalf of the recorder", v)
			}
		}()
		f(r)
	}()
	return r.msg
}

func TestUntilFailsNamingWhatNeverCame(t *testing.T) {
	msg := fatalMessage(t, func(tb testing.TB) {
		Within(tb, 20*time.Millisecond, "a condition that never holds", func() bool { return false })
	})
	if !strings.Contains(msg, "a condition that never holds") {
		t.Errorf("failure message %q does not name what was awaited", msg)
	}
}

func TestUntilSeenShowsWhatCameInstead(t *testing.T) {
	n := 0
	msg := fatalMessage(t, func(tb testing.TB) {
		WithinSeen(tb, 20*time.Millisecond, "three rows", func() (bool, string) {
			n++
			return false, fmt.Sprintf("rows %d", n)
		})
	})
	if want := fmt.Sprintf("rows %d", n); !strings.Contains(msg, "three rows") || !strings.Contains(msg, want) {
		t.Errorf("failure message %q does not name what was awaited and the last thing seen (%s)", msg, want)
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
