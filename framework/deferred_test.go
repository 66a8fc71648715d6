package framework

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCappedCheckCommitHoldsOnlyItsOwnReply: an allowed perm.check under
// a frequency cap is answered only once its record is committed, but
// that wait happens off the connection's read goroutine (perm.check is
// Fast). With the commit held, a sys.health sent after the check on the
// same connection is answered first; once released, the check's reply
// follows and its record is already in the ledger.
func TestCappedCheckCommitHoldsOnlyItsOwnReply(t *testing.T) {
	ts, entered, let := holdingDeferred(t)
	const uid, pkg = uidApp, "com.example.maps"
	c := ts.dial(t)
	mustCall(t, c, "grants.set", map[string]any{"uid": uid, "package": pkg, "category": "camera",
		"time": map[string]any{"mode": "while_in_use"}, "frequency": map[string]any{"max": 5, "per": "hour"}}, nil)
	before := countKind(t, c, "access")

	rc := dialRaw(t, ts.socket)
	rc.send(`{"jsonrpc":"2.0","id":"check","method":"perm.check","params":{"uid":10123,"package":"com.example.maps","category":"camera","state":"foreground"}}` + "\n")
	select {
	case m := <-entered:
		if m != "perm.check" {
			t.Fatalf("held a deferred reply of %q, want perm.check's", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an allowed capped perm.check did not defer its reply until the commit")
	}
	rc.send(`{"jsonrpc":"2.0","id":"health","method":"sys.health"}` + "\n")
	if r := rc.reply(); r["id"] != "health" || r["result"] == nil {
		t.Fatalf("with the check's commit held, the first reply is %v; want sys.health's result", r)
	}
	if n := countKind(t, c, "access"); n != before {
		t.Fatalf("while held: %d access records, want %d (the check's is not committed yet)", n, before)
	}

	let()
	r := rc.reply()
	res, _ := r["result"].(map[string]any)
	if r["id"] != "check" || res["allowed"] != true {
		t.Fatalf("after the release: reply %v, want the check's, allowed", r)
	}
	if n := countKind(t, c, "access"); n != before+1 {
		t.Fatalf("right after the check's reply: %d access records, want %d", n, before+1)
	}
}

// TestOpStartCommitHoldsOnlyItsOwnReply: op.start is answered once its
// use is committed, but the wait does not stop the connection (op.start
// is Fast): with the commit held, a sys.health sent after it is answered
// first, and the indicator already shows the use, which has begun
// whether or not its record is written yet.
func TestOpStartCommitHoldsOnlyItsOwnReply(t *testing.T) {
	ts, entered, let := holdingDeferred(t)
	rc := dialRaw(t, ts.socket)
	rc.send(`{"jsonrpc":"2.0","id":"start","method":"op.start","params":{"resource":"camera","uid":10123,"package":"com.example.maps"}}` + "\n")
	select {
	case m := <-entered:
		if m != "op.start" {
			t.Fatalf("held a deferred reply of %q, want op.start's", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("op.start did not defer its reply until its use was committed")
	}
	rc.send(`{"jsonrpc":"2.0","id":"now","method":"indicator.get"}` + "\n")
	r := rc.reply()
	if r["id"] != "now" || !strings.Contains(fmt.Sprint(r["result"]), "com.example.maps") {
		t.Fatalf("with op.start's commit held, the first reply is %v; want indicator.get's, showing the app on the camera", r)
	}
	let()
	r = rc.reply()
	res, _ := r["result"].(map[string]any)
	if r["id"] != "start" || res["use"] == nil {
		t.Fatalf("after the release: reply %v, want op.start's with its use id", r)
	}
}

// holdingDeferred starts a daemon whose deferred replies wait: entered
// names each method whose reply is held, and let releases them all (also
// when the test ends, before the service stops, should it fail while
// holding).
func holdingDeferred(t *testing.T) (*testService, <-chan string, func()) {
	t.Helper()
	entered := make(chan string, 4)
	release := make(chan struct{})
	var once sync.Once
	let := func() { once.Do(func() { close(release) }) }
	ts := startPrepared(t, testOptions{}, func(s *Service) {
		s.opt.HoldDeferred = func(method string) {
			entered <- method
			<-release
		}
	})
	t.Cleanup(let)
	return ts, entered, let
}
