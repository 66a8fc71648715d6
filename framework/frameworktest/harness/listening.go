package harness

import (
	"fmt"
	"net"
	"testing"
	"time"

	"permd/aosp/wait"
)

// WaitListening waits until a daemon process accepts connections on
// socket, for at most within (a binary built and started from a test can
// take longer than wait.Timeout on a loaded machine). On a timeout the
// test fails and shows output, what the daemon wrote so far.
func WaitListening(t testing.TB, socket string, within time.Duration, output fmt.Stringer) {
	t.Helper()
	listening := false
	// wait.Within ends the test's goroutine on a timeout; deferred calls
	// still run, so the daemon's output reaches the failure.
	defer func() {
		if !listening {
			t.Logf("daemon output so far:\n%s", output)
		}
	}()
	wait.Within(t, within, "a daemon to accept connections on "+socket, func() bool {
		c, err := net.Dial("unix", socket)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	listening = true
}
