package process

import (
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestClassifyTable(t *testing.T) {
	cases := []struct {
		name       string
		s          Start
		procfsOnly bool
		fg         bool
		want       string
	}{
		{"launcher", Start{UID: 10113, Reason: "launcher", CallerUID: -1, AppState: "not_running"}, false, false, KindUser},
		{"recents even with an app caller", Start{UID: 10113, Reason: "recents", CallerUID: 10050, AppState: "background"}, false, false, KindUser},
		{"activity, no caller", Start{UID: 10113, Reason: "activity", CallerUID: -1, AppState: "not_running"}, false, false, KindUser},
		{"activity from another app", Start{UID: 10113, Reason: "activity", Caller: "com.a", CallerUID: 10050, AppState: "not_running"}, false, false, KindAssociated},
		{"service bound by another app", Start{UID: 10113, Reason: "service", Caller: "com.a", CallerUID: 10050, AppState: "not_running"}, false, false, KindAssociated},
		{"provider queried by another user's same app is self", Start{UID: 1010113, Reason: "provider", CallerUID: 10113, AppState: "not_running"}, false, false, KindSelf},
		{"broadcast from system", Start{UID: 10113, Reason: "broadcast", Caller: "android", CallerUID: 1000, AppState: "not_running"}, false, false, KindSelf},
		{"alarm while cached", Start{UID: 10113, Reason: "alarm", CallerUID: -1, AppState: "background"}, false, false, KindSelf},
		{"job", Start{UID: 10113, Reason: "job", CallerUID: -1, AppState: "not_running"}, false, false, KindSelf},
		{"boot", Start{UID: 10113, Reason: "boot", CallerUID: -1, AppState: "not_running"}, false, false, KindSelf},
		{"push", Start{UID: 10113, Reason: "push", CallerUID: -1, AppState: "not_running"}, false, false, KindSelf},
		{"service while app in foreground: not background", Start{UID: 10113, Reason: "service", CallerUID: -1, AppState: "foreground"}, false, false, ""},
		{"service while visible", Start{UID: 10113, Reason: "service", CallerUID: 10113, AppState: "visible"}, false, false, ""},
		{"procfs only, process in foreground", Start{UID: 10113, Reason: "unknown", CallerUID: -1, AppState: "not_running"}, true, true, KindUser},
		{"procfs only, background", Start{UID: 10113, Reason: "unknown", CallerUID: -1, AppState: "not_running"}, true, false, KindSelf},
	}
	for _, c := range cases {
		s := c.s
		if got := Classify(&s, c.procfsOnly, c.fg); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestNormalizeReason(t *testing.T) {
	cases := map[string]string{
		"activity": "activity", "top-activity": "activity", "next-top-activity": "activity",
		"started-service": "service", "bound-service": "service", "content provider": "provider",
		"added application": "system", "link fail": "other", "": "unknown", "PUSH_MESSAGE": "push",
		"BOOT_COMPLETE": "boot", "launcher_recents": "recents",
	}
	for in, want := range cases {
		if got, ok := NormalizeReason(in); !ok || got != want {
			t.Errorf("NormalizeReason(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	if _, ok := NormalizeReason("teleport"); ok {
		t.Error("an unknown reason was accepted")
	}
}

type collect struct {
	mu  sync.Mutex
	out []Start
}

func (c *collect) emit(s Start) { c.mu.Lock(); c.out = append(c.out, s); c.mu.Unlock() }

func TestCorrelatorDedupesAcrossSources(t *testing.T) {
	var got collect
	c := &Correlator{Window: 2 * time.Second, Emit: got.emit,
		Resolve: func(pkg string, user int) (int, bool) {
			return map[string]int{"com.caller": 10050}[pkg], pkg == "com.caller"
		}}
	t0 := time.Unix(5000, 0)
	// procfs, logd and the framework each see pid 3100 start.
	c.Observe(Observation{Source: SourceProcfs, Time: t0, UID: 10113, PID: 3100, Start: 777, Process: "com.android.chrome", Reason: "unknown", CallerUID: -1, AppState: "not_running"})
	c.Observe(Observation{Source: SourceLogd, Time: t0.Add(-10 * time.Millisecond), UID: 10113, PID: 3100, Start: 777, Reason: "service", Component: "com.android.chrome/.Svc", CallerUID: -1})
	c.Observe(Observation{Source: SourceFramework, Time: t0.Add(5 * time.Millisecond), UID: 10113, Reason: "service", Component: "com.android.chrome/.Svc", Caller: "com.caller", CallerUID: -1})
	// A different start of another app in the same window stays apart.
	c.Observe(Observation{Source: SourceLogd, Time: t0, UID: 10078, PID: 3300, Start: 0, Reason: "broadcast", Component: "com.tencent.mm/.Recv", CallerUID: -1, AppState: "not_running"})
	c.Flush(t0.Add(time.Second), false)
	if len(got.out) != 0 {
		t.Fatalf("emitted %d starts before the window passed", len(got.out))
	}
	c.Flush(t0.Add(3*time.Second), false)
	if len(got.out) != 2 {
		t.Fatalf("emitted %d starts, want 2: %+v", len(got.out), got.out)
	}
	s := got.out[0]
	want := Start{Kind: KindAssociated, Time: t0.Add(-10 * time.Millisecond), UID: 10113, PID: 3100, StartTick: 777, Process: "com.android.chrome",
		Reason: "service", Component: "com.android.chrome/.Svc", Caller: "com.caller", CallerUID: 10050, AppState: "not_running",
		Sources: []string{SourceFramework, SourceLogd, SourceProcfs}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("merged start:\n got  %+v\n want %+v", s, want)
	}
	if got.out[1].Kind != KindSelf || got.out[1].UID != 10078 {
		t.Errorf("second start: %+v, want a self_start of 10078", got.out[1])
	}
	// logd's view arrives again after emission: dropped as a duplicate.
	c.Observe(Observation{Source: SourceLogd, Time: t0.Add(4 * time.Second), UID: 10113, PID: 3100, Start: 777, Reason: "service", CallerUID: -1})
	c.Flush(t0.Add(10*time.Second), true)
	if len(got.out) != 2 || c.Stats().Late != 1 {
		t.Errorf("late duplicate: %d starts, %d late; want 2 and 1", len(got.out), c.Stats().Late)
	}
}

func TestCorrelatorRecordsDisagreement(t *testing.T) {
	var got collect
	c := &Correlator{Window: time.Second, Emit: got.emit}
	t0 := time.Unix(5000, 0)
	c.Observe(Observation{Source: SourceLogd, Time: t0, UID: 10113, PID: 3100, Start: 9, Reason: "broadcast", CallerUID: -1, AppState: "not_running"})
	c.Observe(Observation{Source: SourceFramework, Time: t0, UID: 10113, PID: 3100, Reason: "job", CallerUID: -1})
	c.Flush(t0.Add(2*time.Second), false)
	if len(got.out) != 1 {
		t.Fatalf("got %d starts, want 1", len(got.out))
	}
	s := got.out[0]
	if s.Reason != "job" || s.Conflict != "reason framework=job logd=broadcast" {
		t.Errorf("got reason %q conflict %q; want the framework's reason and the disagreement recorded", s.Reason, s.Conflict)
	}
	// Different pids of one uid are different starts, even with the same
	// source ordering.
	c.Observe(Observation{Source: SourceProcfs, Time: t0, UID: 10113, PID: 1, Start: 1, CallerUID: -1})
	c.Observe(Observation{Source: SourceLogd, Time: t0, UID: 10113, PID: 2, Start: 2, CallerUID: -1})
	c.Observe(Observation{Source: SourceProcfs, Time: t0, UID: 10113, PID: 1, Start: 3, CallerUID: -1}) // pid reused
	c.Flush(t0.Add(5*time.Second), true)
	if len(got.out) != 4 {
		t.Errorf("got %d starts, want 4 (three distinct keys after the first)", len(got.out))
	}
	if !strings.Contains(got.out[0].Conflict, "logd=broadcast") {
		t.Error("conflict lost")
	}
}

func TestStateBeforeStartPrefersPidSources(t *testing.T) {
	var got collect
	c := &Correlator{Window: time.Second, Emit: got.emit}
	t0 := time.Unix(5000, 0)
	// procfs knows the app had no other process; the framework report
	// without a pid was computed after the new process appeared.
	c.Observe(Observation{Source: SourceProcfs, Time: t0, UID: 10113, PID: 3100, Start: 9, CallerUID: -1, AppState: "not_running"})
	c.Observe(Observation{Source: SourceFramework, Time: t0, UID: 10113, Reason: "job", CallerUID: -1, AppState: "foreground"})
	c.Flush(t0.Add(2*time.Second), false)
	if len(got.out) != 1 || got.out[0].AppState != "not_running" || got.out[0].Kind != KindSelf {
		t.Errorf("got %+v; want one self_start with app state not_running", got.out)
	}
}
