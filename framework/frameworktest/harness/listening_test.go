package harness

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"permd/aosp/wait"
)

// TestWaitListeningReturnsOnceSomethingAccepts: a socket that starts
// listening while WaitListening polls ends the wait.
func TestWaitListeningReturnsOnceSomethingAccepts(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "d.sock")
	var out Buffer
	fmt.Fprint(&out, "starting")
	go func() {
		time.Sleep(50 * time.Millisecond)
		ln, err := net.Listen("unix", socket)
		if err != nil {
			return // WaitListening then fails the test, showing why
		}
		t.Cleanup(func() { ln.Close() })
	}()
	WaitListening(t, socket, wait.Timeout, &out)
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatalf("after WaitListening the socket refuses: %v", err)
	}
	c.Close()
}
