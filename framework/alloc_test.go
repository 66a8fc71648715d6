package framework

import (
	"bytes"
	"context"
	"net"
	"testing"
)

// maxHealthAllocs bounds the heap allocations of one sys.health round
// trip in the daemon besides the storage ping's, which depend on the
// SQLite driver (none with mattn, 3 with modernc): the handler's Call,
// its result and the ping's context, and one to spare. It was 17 (with mattn) before the
// read buffer was reused and requests were parsed in place, and modernc's
// ping added 4 more while it was given a cancellable context
// (docs/performance.md).
const maxHealthAllocs = 5

// TestSysHealthAllocations keeps the socket path's allocations per
// request from creeping back: a client that allocates nothing itself
// sends sys.health requests one at a time, and every allocation the
// process makes meanwhile is the daemon's.
func TestSysHealthAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("SKIP: allocation counts differ under the race detector")
	}
	ts := startTestService(t, testOptions{})
	nc, err := net.Dial("unix", ts.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	req := []byte(`{"jsonrpc":"2.0","id":1,"method":"sys.health"}` + "\n")
	buf := make([]byte, 64<<10)
	roundTrip := func() {
		if _, err := nc.Write(req); err != nil {
			t.Fatal(err)
		}
		n := 0
		for bytes.IndexByte(buf[:n], '\n') < 0 {
			m, err := nc.Read(buf[n:])
			if err != nil {
				t.Fatal(err)
			}
			n += m
		}
		if !bytes.Contains(buf[:n], []byte(`"result":`)) {
			t.Fatalf("reply %q is not a result", buf[:n])
		}
	}
	for range 200 {
		roundTrip() // warm up: pools, buffers
	}
	// The ping as sys.health makes it, with a context nothing cancels.
	ping := testing.AllocsPerRun(200, func() { ts.svc.db.PingContext(context.Background()) })
	got := testing.AllocsPerRun(2000, roundTrip)
	t.Logf("%.1f allocations per sys.health round trip, %.1f of them the storage ping's", got, ping)
	if got-ping > maxHealthAllocs {
		t.Errorf("%.1f allocations per sys.health round trip besides the storage ping's %.1f, want at most %d", got-ping, ping, maxHealthAllocs)
	}
}
