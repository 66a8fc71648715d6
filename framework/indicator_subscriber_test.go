package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"permd/aosp/wait"
)

// TestSubscriberReconnectNeverMissesAChange: while the framework keeps
// changing the state, a subscriber connects, reads a little, drops the
// connection and reconnects, many times. Seqs never go back across
// reconnects, a notification's seq always increases on one connection,
// and once changes stop the subscriber holds exactly the daemon's state.
func TestSubscriberReconnectNeverMissesAChange(t *testing.T) {
	ts := startTestService(t, testOptions{Config: map[string]string{IndicatorFile: `{"version":1,"hold":"0s"}`}})
	fw := ts.dial(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx := context.Background()
		for i := 0; ; i++ {
			select {
			case <-stop:
				// Leave something on, so the final state is not trivial.
				fw.Call(ctx, "op.start", map[string]any{"resource": "location", "uid": 10999, "package": "com.last"}, nil)
				return
			default:
			}
			var st started
			if err := fw.Call(ctx, "op.start", map[string]any{"resource": []string{"camera", "microphone", "location"}[i%3], "uid": 10100 + i%4, "package": "com.app"}, &st); err != nil {
				t.Error(err)
				return
			}
			fw.Call(ctx, "op.finish", map[string]any{"use": st.Use}, nil)
		}
	}()
	var last uint64
	var held snapshotMsg
	for round := range 30 {
		sub := subscribeIndicator(t, ts)
		if sub.first.Seq < last {
			t.Fatalf("round %d: reconnect snapshot seq %d < last seen %d", round, sub.first.Seq, last)
		}
		held, last = sub.first, sub.first.Seq
		for range 3 + round%5 {
			m := <-sub.snaps
			// A notification may overtake the subscribe reply; the rule
			// is to keep the highest seq.
			if m.Seq > last {
				held, last = m, m.Seq
			} else if m.Seq == last && fmt.Sprint(m) != fmt.Sprint(held) {
				t.Fatalf("round %d: two different snapshots with seq %d", round, m.Seq)
			}
		}
		sub.c.Close()
	}
	close(stop)
	wg.Wait()
	sub := subscribeIndicator(t, ts)
	if sub.first.Seq < last {
		t.Fatalf("final reconnect: seq %d < %d", sub.first.Seq, last)
	}
	var want snapshotMsg
	if err := fw.Call(context.Background(), "indicator.get", nil, &want); err != nil {
		t.Fatal(err)
	}
	if sub.first.Seq != want.Seq || !sub.first.on("location") {
		// A change may still be in flight: the notification brings it.
		got := sub.until(t, fmt.Sprintf("seq %d", want.Seq), func(m snapshotMsg) bool { return m.Seq >= want.Seq })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("subscriber holds %+v, daemon has %+v", got, want)
		}
	} else if fmt.Sprint(sub.first) != fmt.Sprint(want) {
		t.Fatalf("subscriber holds %+v, daemon has %+v", sub.first, want)
	}
}

// TestStuckSubscriberDoesNotSlowOthers: one subscriber never reads its
// socket. Thousands of changes later the framework's calls all returned,
// the reading subscriber holds the final state, and the stuck one was
// coalesced (its queue filled and deliveries were retried, not queued).
func TestStuckSubscriberDoesNotSlowOthers(t *testing.T) {
	ts := startTestService(t, testOptions{Config: map[string]string{
		IndicatorFile: `{"version":1,"hold":"0s"}`,
		MainFile:      strings.Replace(testRolesJSON, `"idle_timeout": "30s"`, `"idle_timeout": "30s", "out_queue": 16, "write_timeout": "30s"`, 1),
	}})
	stuck := dialRaw(t, ts.socket)
	stuck.send(`{"jsonrpc":"2.0","id":1,"method":"indicator.subscribe"}` + "\n")
	// Never read from stuck again. The reader reads every line itself
	// (the Go client drops notifications its caller does not take).
	reader := dialRaw(t, ts.socket)
	reader.send(`{"jsonrpc":"2.0","id":1,"method":"indicator.subscribe"}` + "\n")
	var latest atomic.Uint64
	go func() {
		for {
			line, err := reader.r.ReadBytes('\n')
			if err != nil {
				return
			}
			var m struct {
				Result *snapshotMsg `json:"result"`
				Params *snapshotMsg `json:"params"`
			}
			json.Unmarshal(line, &m)
			for _, s := range []*snapshotMsg{m.Result, m.Params} {
				if s != nil && s.Seq > latest.Load() {
					latest.Store(s.Seq)
				}
			}
		}
	}()
	fw := ts.dial(t)
	ctx := context.Background()
	var last uint64
	for i := range 3000 {
		var st started
		if err := fw.Call(ctx, "op.start", map[string]any{"resource": "camera", "uid": 10100 + i%50, "package": "com.app"}, &st); err != nil {
			t.Fatal(err)
		}
		var fin struct{ Seq uint64 }
		if err := fw.Call(ctx, "op.finish", map[string]any{"use": st.Use}, &fin); err != nil {
			t.Fatal(err)
		}
		last = fin.Seq
	}
	wait.Until(t, fmt.Sprintf("final seq %d at the reading subscriber", last), func() bool { return latest.Load() == last })
	if st := ts.svc.indicator.eng.Stats(); st.Retries == 0 {
		t.Fatalf("the stuck subscriber never filled its queue (stats %+v): the test did not exercise coalescing", st)
	}
	// The stuck subscriber reads again: its socket filled mid-line, so
	// what it gets must still be whole lines, in increasing seq, ending
	// at the latest state.
	stuck.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	var seen uint64
	lines := 0
	for seen < last {
		line, err := stuck.r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("stuck subscriber after %d lines, at seq %d of %d: %v", lines, seen, last, err)
		}
		lines++
		var m struct {
			Result *snapshotMsg `json:"result"`
			Params *snapshotMsg `json:"params"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %d is not whole JSON (%v): %.200q", lines, err, line)
		}
		s := m.Result
		if s == nil {
			s = m.Params
		}
		if s == nil || s.Seq <= seen && lines > 1 {
			t.Fatalf("line %d: want a snapshot with seq above %d, got %.200q", lines, seen, line)
		}
		seen = s.Seq
	}
	if lines > 3000 {
		t.Errorf("stuck subscriber got %d lines for 6000 changes: want coalescing", lines)
	}
}

// TestSubscriberOutlivesWriteTimeout keeps a subscriber for longer than
// write_timeout while it only ever gets notifications (written straight
// to its socket): the deadline that guards blocking writes must not cut
// it off.
func TestSubscriberOutlivesWriteTimeout(t *testing.T) {
	ts := startTestService(t, testOptions{Config: map[string]string{
		IndicatorFile: `{"version":1,"hold":"0s"}`,
		MainFile:      strings.Replace(testRolesJSON, `"idle_timeout": "30s"`, `"idle_timeout": "30s", "write_timeout": "100ms"`, 1),
	}})
	sub := ts.dial(t)
	ctx := context.Background()
	if err := sub.Call(ctx, "indicator.subscribe", nil, nil); err != nil {
		t.Fatal(err)
	}
	fw := ts.dial(t)
	change := func() uint64 {
		var st started
		if err := fw.Call(ctx, "op.start", map[string]any{"resource": "camera", "uid": 10100, "package": "com.app"}, &st); err != nil {
			t.Fatal(err)
		}
		return st.Seq
	}
	wantSeq := func(seq uint64) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case n, ok := <-sub.Notifications():
				if !ok {
					t.Fatalf("subscriber connection closed while waiting for seq %d", seq)
				}
				var s snapshotMsg
				if err := json.Unmarshal(n.Params, &s); err != nil {
					t.Fatal(err)
				}
				if s.Seq >= seq {
					return
				}
			case <-deadline:
				t.Fatalf("no notification with seq %d", seq)
			}
		}
	}
	wantSeq(change())
	time.Sleep(300 * time.Millisecond) // three write timeouts with nothing but notifications
	wantSeq(change())
}
