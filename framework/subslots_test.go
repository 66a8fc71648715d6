package framework

import (
	"permd/aosp/wait"
	"testing"
)

// TestSubscriberSlotsKeepSystemUIIn: one shell connection cannot take
// every indicator subscriber slot. Each connection holds at most
// subsPerConn, each uid of a non-reserved role at most subsPerUID, and
// those roles together leave reservedSubs slots free, so SystemUI can
// always subscribe. Callers are real processes with those uids.
func TestSubscriberSlotsKeepSystemUIIn(t *testing.T) {
	ts := startTestService(t, testOptions{})
	exe := asOtherUIDs(t, ts)
	okCount := func(rs []scriptResult) (n int) {
		for _, r := range rs {
			if r.Code == 0 {
				n++
			} else if r.Code != CodeOverloaded {
				t.Fatalf("subscribe refused with %+v, want %d (a limit)", r, CodeOverloaded)
			}
		}
		return n
	}
	// One shell connection asking again and again.
	one := runScript(t, exe, uidShell, ts.socket, []scriptStep{{Method: "indicator.subscribe", Repeat: 2 * maxSubscribers}})
	if n := okCount(one.Results[0]); n != subsPerConn {
		t.Fatalf("one shell connection got %d subscriptions, want %d", n, subsPerConn)
	}
	one.release()
	wait.Until(t, "the shell's slots released", func() bool { return ts.svc.indicator.eng.Stats().Subscribers == 0 })

	// Many connections from each non-reserved uid fill the shared slots.
	many := func(uid int) int {
		var steps []scriptStep
		for i := range 20 {
			steps = append(steps, scriptStep{Conn: i, Method: "indicator.subscribe", Repeat: subsPerConn})
		}
		sc := runScript(t, exe, uid, ts.socket, steps)
		n := 0
		for _, rs := range sc.Results {
			n += okCount(rs)
		}
		return n
	}
	for _, uid := range []int{uidShell, uidSettings, 0} {
		if n := many(uid); n != subsPerUID {
			t.Fatalf("uid %d over 20 connections got %d subscriptions, want %d", uid, n, subsPerUID)
		}
	}
	if got := ts.svc.indicator.eng.Stats().Subscribers; got != maxSubscribers-reservedSubs {
		t.Fatalf("%d subscribers after the shared slots filled, want %d", got, maxSubscribers-reservedSubs)
	}
	// SystemUI still gets its feed.
	sysui := runScript(t, exe, uidSystemUI, ts.socket, []scriptStep{{Method: "indicator.subscribe"}})
	if r := sysui.Results[0][0]; r.Code != 0 {
		t.Fatalf("SystemUI's subscription after shell, settings and root filled theirs: %+v, want success", r)
	}
}
