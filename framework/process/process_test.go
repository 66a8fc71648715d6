package process

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"permd/aosp/packages"
)

func TestBandsFollowProcessList(t *testing.T) {
	cases := []struct {
		adj         int
		band, state string
	}{
		{-1000, "foreground", "foreground"}, {-900, "foreground", "foreground"}, {0, "foreground", "foreground"},
		{1, "visible", "visible"}, {100, "visible", "visible"},
		{200, "perceptible", "background"}, {250, "perceptible", "background"},
		{300, "service", "background"}, {500, "service", "background"}, {899, "service", "background"},
		{900, "cached", "background"}, {999, "cached", "background"},
	}
	for _, c := range cases {
		if b := Band(c.adj); b != c.band || StateOfBand(b) != c.state {
			t.Errorf("adj %d: got band %q state %q, want %q %q", c.adj, b, StateOfBand(b), c.band, c.state)
		}
	}
}

func TestReaderReadsFixture(t *testing.T) {
	root := androidFixture(t)
	r, err := NewReader(root)
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Read(3301)
	if err != nil {
		t.Fatal(err)
	}
	want := Proc{PID: 3301, PPID: 610, UID: 10078, Start: 52100, Name: "com.tencent.mm:push", OomScoreAdj: 250, HasOom: true}
	if p != want {
		t.Errorf("Read(3301):\n got  %+v\n want %+v", p, want)
	}
	k, err := r.Read(2)
	if err != nil || k.Name != "kthreadd" {
		t.Errorf("kernel thread: got %+v, %v; want name from comm", k, err)
	}
	odd, err := r.Read(4000)
	if err != nil || odd.Name != "weird (name) x" || odd.Start != 60000 || odd.PPID != 3100 {
		t.Errorf("comm with parentheses: got %+v, %v", odd, err)
	}
	if _, err := r.Read(99999); err != ErrGone {
		t.Errorf("Read of a vanished pid: got %v, want ErrGone", err)
	}
}

func TestTableRefreshStartsExitsAndReuse(t *testing.T) {
	root := androidFixture(t)
	r, _ := NewReader(root)
	now := time.Unix(1000, 0)
	tab := NewTable(r, packages.IsApp, func() time.Time { return now })
	ch, err := tab.Refresh()
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 9 {
		t.Fatalf("table has %d processes, want 9", tab.Len())
	}
	if len(ch.Started) != 4 {
		t.Errorf("first refresh: %d app starts, want 4 (apps only)", len(ch.Started))
	}
	// An app process exits, another starts, and pid 3100 is reused.
	removeProc(t, root, 3301)
	writeProc(t, root, fixtureProc{5000, 610, 10200, 70000, "com.example.a", "com.example.app", 900})
	removeProc(t, root, 3100)
	writeProc(t, root, fixtureProc{3100, 610, 10113, 70500, "ndroid.chrome", "com.android.chrome", 0})
	ch, err = tab.Refresh()
	if err != nil {
		t.Fatal(err)
	}
	var started, exited []string
	for _, p := range ch.Started {
		started = append(started, fmt.Sprint(p.Key()))
	}
	for _, p := range ch.Exited {
		exited = append(exited, fmt.Sprint(p.Key()))
	}
	sort.Strings(started)
	sort.Strings(exited)
	if !reflect.DeepEqual(started, []string{"{3100 70500}", "{5000 70000}"}) || !reflect.DeepEqual(exited, []string{"{3100 50000}", "{3301 52100}"}) {
		t.Errorf("second refresh: started %v exited %v; want [{3100 70500} {5000 70000}] and [{3100 50000} {3301 52100}]", started, exited)
	}
}

func TestAppStateFromBandsAndReports(t *testing.T) {
	root := androidFixture(t)
	clock := time.Unix(1000, 0)
	now := func() time.Time { return clock }
	tr, err := NewTracker(Options{Mount: root, Config: DefaultConfig(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Mode() != ModePoll {
		t.Errorf("a fixture tree must be polled, got mode %q", tr.Mode())
	}
	cases := map[int]string{10113: "foreground", 10078: "background", 1000: "foreground", 10999: "not_running", 1010113: "not_running"}
	for uid, want := range cases {
		if got := tr.AppState(uid); got != want {
			t.Errorf("AppState(%d) = %q, want %q", uid, got, want)
		}
	}
	// The framework says wechat came to the front: newer than the band.
	clock = clock.Add(time.Second)
	tr.ReportAppState(10078, "foreground")
	if got := tr.AppState(10078); got != "foreground" {
		t.Errorf("after report: AppState(10078) = %q, want foreground", got)
	}
	// Then its band changes (procfs is newer): procfs wins.
	clock = clock.Add(time.Second)
	setOom(t, root, 3300, 950)
	setOom(t, root, 3301, 950)
	tr.rescan()
	if got := tr.AppState(10078); got != "background" {
		t.Errorf("after band change: AppState(10078) = %q, want background", got)
	}
	// The state before a start excludes the new process itself.
	if got := tr.stateExcept(10078, 3300); got != "background" {
		t.Errorf("stateExcept(10078, 3300) = %q, want background (from :push)", got)
	}
	removeProc(t, root, 4000)
	tr.rescan()
	if got := tr.stateExcept(10113, 3100); got != "not_running" {
		t.Errorf("stateExcept(10113, 3100) = %q, want not_running (its only process)", got)
	}
}

func TestTrackerMergesLogdAndProcfsOnFixture(t *testing.T) {
	root := androidFixture(t)
	var got collect
	clock := time.Unix(1000, 0)
	pkgs := map[string]int{"com.tencent.mm": 10078, "com.android.chrome": 10113}
	tr, err := NewTracker(Options{Mount: root, Config: DefaultConfig(), Emit: got.emit, Now: func() time.Time { return clock },
		Resolve: func(p string, user int) (int, bool) { u, ok := pkgs[p]; return user*100000 + u, ok }})
	if err != nil {
		t.Fatal(err)
	}
	// A new wechat process appears while wechat is cached: logd says a
	// broadcast started it.
	writeProc(t, root, fixtureProc{3400, 610, 10078, 90000, "com.tencent.mm", "com.tencent.mm:tools", 905})
	tr.rescan()
	ev := logdEvent(30014, []any{int32(0), int32(3400), int32(10078), "com.tencent.mm:tools", "broadcast", "com.tencent.mm/.booter.Receiver"})
	if err := tr.HandleLogd(ev); err != nil {
		t.Fatal(err)
	}
	tr.FlushNow()
	if len(got.out) != 1 {
		t.Fatalf("got %d starts, want 1: %+v", len(got.out), got.out)
	}
	s := got.out[0]
	if s.Kind != KindSelf || s.StartTick != 90000 || s.Reason != "broadcast" || s.AppState != "background" || !reflect.DeepEqual(s.Sources, []string{"logd", "procfs"}) {
		t.Errorf("start: %+v; want self_start, start 90000, broadcast, background, sources [logd procfs]", s)
	}
	// logd's resumed activity makes wechat foreground and chrome background.
	clock = clock.Add(time.Second)
	tr.HandleLogd(logdEvent(30043, []any{int32(0), "com.android.chrome/.Main", "resume"}))
	clock = clock.Add(time.Second)
	tr.HandleLogd(logdEvent(30043, []any{int32(0), "com.tencent.mm/.ui.LauncherUI", "resume"}))
	if a, b := tr.AppState(10078), tr.AppState(10113); a != "foreground" || b != "background" {
		t.Errorf("after resumes: wechat %q chrome %q, want foreground and background", a, b)
	}
}

func TestFreshZygoteChildSaysNothingAboutState(t *testing.T) {
	root := androidFixture(t)
	var got collect
	tr, err := NewTracker(Options{Mount: root, Config: DefaultConfig(), Emit: got.emit})
	if err != nil {
		t.Fatal(err)
	}
	// Two processes of a new app appear at once, both still carrying
	// zygote's -1000: neither makes the app "foreground".
	writeProc(t, root, fixtureProc{3500, 610, 10300, 91000, "com.example.x", "com.example.x", -1000})
	writeProc(t, root, fixtureProc{3501, 610, 10300, 91001, "com.example.x", "com.example.x:push", -1000})
	tr.rescan()
	if st := tr.AppState(10300); st != "background" {
		t.Errorf("AppState with only fresh zygote children = %q, want background (running, importance unknown)", st)
	}
	if tr.foreground(10300, 3500) {
		t.Error("a fresh zygote child counted as foreground")
	}
	tr.FlushNow()
	if len(got.out) != 2 || got.out[0].Kind != KindSelf || got.out[1].Kind != KindSelf {
		t.Fatalf("starts: %+v; want two self-starts", got.out)
	}
	// Once ActivityManager sets the adj, the band counts.
	setOom(t, root, 3500, 0)
	tr.rescan()
	if st := tr.AppState(10300); st != "foreground" {
		t.Errorf("after adj 0: %q, want foreground", st)
	}
}

func TestFastRefreshCatchesUSAPSpecialization(t *testing.T) {
	root := androidFixture(t)
	r, _ := NewReader(root)
	tab := NewTable(r, packages.IsApp, nil)
	tab.Refresh()
	// An unspecialized app process waits as root under zygote...
	writeProc(t, root, fixtureProc{3600, 610, 0, 95000, "usap64", "usap64", -1000})
	if ch, _ := tab.RefreshFast(); len(ch.Started) != 0 {
		t.Fatalf("a USAP counted as an app start: %+v", ch.Started)
	}
	// ...and becomes an app without a fork: same pid, same start time.
	writeProc(t, root, fixtureProc{3600, 610, 10400, 95000, "com.example.u", "com.example.usap", 100})
	ch, _ := tab.RefreshFast()
	if len(ch.Started) != 1 || ch.Started[0].UID != 10400 || ch.Started[0].Name != "com.example.usap" {
		t.Errorf("specialization: started %+v, want pid 3600 as uid 10400 com.example.usap", ch.Started)
	}
	// A fast pass does not re-read other native processes; a full one does.
	setOom(t, root, 1, -17)
	tab.RefreshFast()
	if p, _ := tab.Get(1); p.OomScoreAdj != -1000 {
		t.Errorf("fast pass re-read init: adj %d", p.OomScoreAdj)
	}
	tab.Refresh()
	if p, _ := tab.Get(1); p.OomScoreAdj != -17 {
		t.Errorf("full pass did not re-read init: adj %d, want -17", p.OomScoreAdj)
	}
}
