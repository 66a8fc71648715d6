package harness

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestBufferKeepsEveryWriteWhileRead writes from several goroutines
// while another reads (run with -race): every line arrives whole.
func TestBufferKeepsEveryWriteWhileRead(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				fmt.Fprintf(&b, "w%d-%d\n", w, i)
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				_ = b.String()
			}
		}
	}()
	wg.Wait()
	close(done)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("got %d lines, want 400", len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l] = true
	}
	for w := range 4 {
		for i := range 100 {
			if l := fmt.Sprintf("w%d-%d", w, i); !seen[l] {
				t.Errorf("line %q lost or torn", l)
			}
		}
	}
}
