package indicator

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"permd/aosp/wait"
)

func TestShortUseIsShownForTheHoldTime(t *testing.T) {
	e, clk, rec := newTestEngine(t, nil)
	id := mustStart(t, e, StartRequest{Resource: "microphone", App: app(10100, "com.a")})
	clk.Advance(50 * time.Millisecond)
	if _, err := e.Finish(id); err != nil {
		t.Fatal(err)
	}
	snap := e.Snapshot()
	if !snap.On("microphone") {
		t.Fatal("microphone off right after a 50 ms use; want on for the hold time")
	}
	a := snap.Resources[1].Apps[0]
	if a.Active != 0 || a.HeldUntil == nil || !a.HeldUntil.Equal(clk.Now().Add(DefaultHold)) {
		t.Fatalf("held app: %+v, want active 0 held until now+5s", a)
	}
	clk.Advance(DefaultHold - time.Millisecond)
	if !e.Snapshot().On("microphone") {
		t.Fatal("microphone off before the hold ended")
	}
	clk.Advance(time.Millisecond)
	if e.Snapshot().On("microphone") {
		t.Fatal("microphone still on after the hold ended")
	}
	shown := rec.kind("indicator")
	if len(shown) != 1 {
		t.Fatalf("indicator records: %d, want 1", len(shown))
	}
	d := detail(t, shown[0])
	if shown[0].Category != "microphone" || shown[0].UID != 10100 || d["package"] != "com.a" || d["reason"] != "finish" ||
		d["uses"] != 1.0 || d["duration_ms"] != 5050.0 {
		t.Fatalf("indicator record %+v detail %v; want microphone com.a 5050 ms, 1 use, ended finish", shown[0], d)
	}
}

func TestOverlappingUsesAreReferenceCounted(t *testing.T) {
	e, clk, rec := newTestEngine(t, nil)
	a1 := mustStart(t, e, StartRequest{Resource: "camera", App: app(10100, "com.a")})
	a2 := mustStart(t, e, StartRequest{Resource: "camera", App: app(10100, "com.a")})
	b1 := mustStart(t, e, StartRequest{Resource: "camera", App: app(10101, "com.b"), Via: []Party{{UID: 1047, Package: "cameraserver"}}})
	snap := e.Snapshot()
	cam := snap.Resources[0]
	if len(cam.Apps) != 2 || cam.Apps[0].Active != 2 || cam.Apps[1].Active != 1 || len(cam.Apps[1].Via) != 1 {
		t.Fatalf("camera apps %+v; want com.a with 2 uses, com.b with 1 via cameraserver", cam.Apps)
	}
	if _, err := e.Finish(a1); err != nil {
		t.Fatal(err)
	}
	if got := e.Snapshot().Resources[0].Apps[0].Active; got != 1 {
		t.Fatalf("com.a active after one finish: %d, want 1", got)
	}
	_, err := e.Finish(a1)
	var ee *EndedError
	if !errors.As(err, &ee) || ee.Reason != EndFinish || !strings.Contains(err.Error(), "already ended") {
		t.Fatalf("second finish: %v, want EndedError (finish)", err)
	}
	if got := e.Snapshot().Resources[0].Apps[0].Active; got != 1 {
		t.Fatalf("com.a active after duplicate finish: %d, want still 1", got)
	}
	e.Finish(a2)
	e.Finish(b1)
	clk.Advance(DefaultHold)
	if e.Snapshot().On("camera") {
		t.Fatal("camera on after every use finished and the hold passed")
	}
	if n := len(rec.kind("span")); n != 3 {
		t.Fatalf("span records %d, want 3", n)
	}
	for _, r := range rec.kind("indicator") {
		if d := detail(t, r); r.UID == 10100 && d["uses"] != 2.0 {
			t.Fatalf("com.a shown span counts %v uses, want 2", d["uses"])
		}
	}
}

func TestBadInputLeavesStateIntact(t *testing.T) {
	e, _, rec := newTestEngine(t, nil)
	id := mustStart(t, e, StartRequest{Resource: "camera", App: app(10100, "com.a")})
	before := e.Snapshot()
	for _, tc := range []struct {
		name  string
		do    func() error
		check func(error) bool
		msg   string
	}{
		{"unknown resource", func() error {
			_, err := e.Start(StartRequest{Resource: "flashlight", App: app(10100, "com.a")})
			return err
		}, isField("resource"), "unknown resource \"flashlight\""},
		{"no package", func() error {
			_, err := e.Start(StartRequest{Resource: "camera", App: Party{UID: 10100}})
			return err
		}, isField("package"), "missing"},
		{"negative uid", func() error {
			_, err := e.Start(StartRequest{Resource: "camera", App: app(-1, "com.a")})
			return err
		}, isField("uid"), "negative"},
		{"bad proxy", func() error {
			_, err := e.Start(StartRequest{Resource: "camera", App: app(10100, "com.a"), Via: []Party{{UID: -5}}})
			return err
		}, isField("via[0].uid"), "negative"},
		{"finish never started", func() error { _, err := e.Finish(id + 1000); return err },
			func(err error) bool { var u *UnknownUseError; return errors.As(err, &u) }, "not started"},
		{"finish from before restart", func() error { _, err := e.Finish(7); return err },
			func(err error) bool { var u *UnknownUseError; return errors.As(err, &u) }, "before a restart"},
		{"heartbeat unknown", func() error { _, _, err := e.Heartbeat([]uint64{id, 3}); return err },
			func(err error) bool { var u *UnknownUseError; return errors.As(err, &u) }, "use 3"},
	} {
		err := tc.do()
		if err == nil || !tc.check(err) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.msg)
		}
	}
	after := e.Snapshot()
	if after.Seq != before.Seq || string(after.JSON()) != string(before.JSON()) {
		t.Fatalf("state changed by bad input:\nbefore %s\nafter  %s", before.JSON(), after.JSON())
	}
	if e.Active() != 1 {
		t.Fatalf("active uses %d, want 1", e.Active())
	}
	if n := len(rec.recs); n != 0 {
		t.Fatalf("bad input made %d records", n)
	}
}

func isField(f string) func(error) bool {
	return func(err error) bool {
		var fe *FieldError
		return errors.As(err, &fe) && fe.Field == f
	}
}

func TestMaxSpanWithoutHeartbeatIsAnAnomaly(t *testing.T) {
	cfg := Default()
	cfg.MaxSpan = time.Minute
	e, clk, rec := newTestEngine(t, &cfg)
	beat := mustStart(t, e, StartRequest{Resource: "location", App: app(10100, "com.a"), Op: "android:fine_location"})
	lost := mustStart(t, e, StartRequest{Resource: "location", App: app(10101, "com.b")})
	clk.Advance(40 * time.Second)
	if active, ended, err := e.Heartbeat([]uint64{beat}); err != nil || len(active) != 1 || len(ended) != 0 {
		t.Fatalf("heartbeat: %v %v %v", active, ended, err)
	}
	clk.Advance(20 * time.Second) // com.b's span runs out now, via the timer
	snap := e.Snapshot()
	loc := snap.Resources[2]
	if len(loc.Apps) != 2 || loc.Apps[1].Active != 0 || loc.Apps[1].UID != 10101 {
		t.Fatalf("after com.b's max span: %+v; want com.b held, com.a active", loc.Apps)
	}
	_, ended, _ := e.Heartbeat([]uint64{beat, lost})
	if len(ended) != 1 || ended[0] != lost {
		t.Fatalf("heartbeat after timeout: ended %v, want [%d]", ended, lost)
	}
	_, err := e.Finish(lost)
	var ee *EndedError
	if !errors.As(err, &ee) || ee.Reason != EndTimeout {
		t.Fatalf("finish after timeout: %v, want EndedError timeout", err)
	}
	an := rec.kind("anomaly")
	if len(an) != 1 || an[0].UID != 10101 || an[0].Category != "location" || an[0].Result != "" {
		t.Fatalf("anomaly records %+v; want one for com.b location", an)
	}
	clk.Advance(2 * time.Minute) // com.a: last heartbeat at t=60s, ends at t=120s
	if e.Snapshot().On("location") {
		t.Fatal("location still on after every use timed out and the hold passed")
	}
	if e.Stats().Timeouts != 2 {
		t.Fatalf("timeouts %d, want 2", e.Stats().Timeouts)
	}
	for _, r := range rec.kind("span") {
		if d := detail(t, r); d["reason"] != EndTimeout || r.Op == "" && r.UID == 10100 {
			t.Fatalf("span %+v %v", r, d)
		}
	}
}

func TestProcessDeathEndsItsUses(t *testing.T) {
	e, clk, _ := newTestEngine(t, nil)
	p1 := mustStart(t, e, StartRequest{Resource: "camera", App: Party{UID: 10100, Package: "com.a", PID: 11}})
	p2 := mustStart(t, e, StartRequest{Resource: "microphone", App: Party{UID: 10100, Package: "com.a", PID: 12}})
	nopid := mustStart(t, e, StartRequest{Resource: "location", App: app(10100, "com.a")})
	viaProxy := mustStart(t, e, StartRequest{Resource: "microphone", App: app(10101, "com.b"), Via: []Party{{UID: 1041, Package: "audioserver", PID: 90}}})
	if n := e.ProcessDied(10100, 11); n != 1 {
		t.Fatalf("death of pid 11 ended %d uses, want 1", n)
	}
	if _, err := e.Finish(p1); err == nil {
		t.Fatal("finish after death succeeded")
	}
	if n := e.ProcessDied(1041, 90); n != 1 {
		t.Fatalf("audioserver death ended %d uses, want 1", n)
	}
	if n := e.ProcessDied(10100, 0); n != 2 {
		t.Fatalf("uid death ended %d uses, want 2 (pid 12 and the pid-less use)", n)
	}
	for _, id := range []uint64{p2, nopid, viaProxy} {
		if _, err := e.Finish(id); err == nil {
			t.Fatalf("use %d still active after death", id)
		}
	}
	clk.Advance(DefaultHold)
	if s := e.Snapshot(); s.On("camera") || s.On("microphone") || s.On("location") {
		t.Fatalf("still on after deaths and hold: %s", s.JSON())
	}
}

func TestUnindicatedResourceIsTrackedNotShown(t *testing.T) {
	e, clk, rec := newTestEngine(t, nil)
	s, err := e.Start(StartRequest{Resource: "contacts", App: app(10100, "com.a")})
	s2 := mustStart(t, e, StartRequest{Resource: "contacts", App: app(10100, "com.a")})
	if err != nil || s.Indicated {
		t.Fatalf("start contacts: %+v %v; want ok, not indicated", s, err)
	}
	if got := e.Snapshot(); len(got.Resources) != 3 || got.Seq != s.Seq {
		t.Fatalf("snapshot changed for an unindicated use: %s", got.JSON())
	}
	// Config adds contacts: the running use is shown from now on.
	cfg := Default()
	r, _ := Catalogue("contacts")
	cfg.Resources = append(cfg.Resources, r)
	e.Configure(cfg)
	if snap := e.Snapshot(); !snap.On("contacts") || snap.Resources[3].Apps[0].Active != 2 {
		t.Fatalf("after config made contacts indicated: %s; want com.a with 2 active uses", snap.JSON())
	}
	// And removes it again: the shown span ends with reason config.
	e.Configure(Default())
	if e.Snapshot().On("contacts") {
		t.Fatal("contacts shown after config dropped it")
	}
	e.Finish(s.Use)
	e.Finish(s2)
	clk.Advance(time.Minute)
	ind := rec.kind("indicator")
	if len(ind) != 1 || detail(t, ind[0])["reason"] != EndConfig {
		t.Fatalf("indicator records %v; want one ended by config", ind)
	}
	if len(rec.kind("span")) != 2 {
		t.Fatal("the uses themselves were not recorded as spans")
	}
}

func TestTooManyUsesIsRefused(t *testing.T) {
	c := newManualClock()
	e := New(Default(), Options{Clock: c, MaxUses: 3, Logger: quietLogger()})
	defer e.Close()
	for range 3 {
		mustStart(t, e, StartRequest{Resource: "camera", App: app(10100, "com.a")})
	}
	if _, err := e.Start(StartRequest{Resource: "camera", App: app(10100, "com.a")}); !errors.Is(err, ErrFull) {
		t.Fatalf("4th use: %v, want ErrFull", err)
	}
}

func TestCloseEndsEverythingAndRecordsIt(t *testing.T) {
	e, _, rec := newTestEngine(t, nil)
	mustStart(t, e, StartRequest{Resource: "camera", App: app(10100, "com.a")})
	e.Close()
	if _, err := e.Start(StartRequest{Resource: "camera", App: app(10100, "com.a")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("start after close: %v", err)
	}
	if len(rec.kind("span")) != 1 || len(rec.kind("indicator")) != 1 || detail(t, rec.kind("indicator")[0])["reason"] != EndShutdown {
		t.Fatalf("records at close: %+v", rec.recs)
	}
}

// TestSlowSubscriberDoesNotBlockOthers: one subscriber's deliver blocks
// forever; the others still see every final state, and the engine's
// operations never wait for it.
func TestSlowSubscriberDoesNotBlockOthers(t *testing.T) {
	e, _, _ := newTestEngine(t, nil)
	stuck := make(chan struct{})
	defer close(stuck)
	var stuckCalls atomic.Int32
	slow, _, err := e.Subscribe(func(*Snapshot) error { stuckCalls.Add(1); <-stuck; return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	const fast = 5
	var last [fast]atomic.Uint64
	for i := range fast {
		subscribe := e.Subscribe
		if i%2 == 1 {
			subscribe = e.SubscribeInline
		}
		sub, _, err := subscribe(func(s *Snapshot) error { last[i].Store(s.Seq); return nil })
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
	}
	var final uint64
	for i := range 200 {
		id := mustStart(t, e, StartRequest{Resource: "camera", App: app(10100+i%7, "com.a")})
		seq, err := e.Finish(id)
		if err != nil {
			t.Fatal(err)
		}
		final = seq
	}
	for i := range fast {
		wait.Until(t, fmt.Sprintf("subscriber %d to reach seq %d", i, final), func() bool { return last[i].Load() == final })
	}
	if n := stuckCalls.Load(); n != 1 {
		t.Fatalf("stuck subscriber called %d times, want 1 (it is still inside the first)", n)
	}
}

// TestSubscriberSeesIncreasingSeqAndFinalState checks coalescing: a
// subscriber that is slower than the changes skips intermediate
// snapshots but never sees a seq twice or out of order, and always ends
// on the latest state; one that fails deliveries gets it on retry.
func TestSubscriberSeesIncreasingSeqAndFinalState(t *testing.T) {
	t.Run("goroutine", func(t *testing.T) { testIncreasingSeq(t, false) })
	t.Run("inline", func(t *testing.T) { testIncreasingSeq(t, true) })
}

func testIncreasingSeq(t *testing.T, inline bool) {
	e, clk, _ := newTestEngine(t, nil)
	subscribe := e.Subscribe
	if inline {
		subscribe = e.SubscribeInline
	}
	var mu sync.Mutex
	var seen []uint64
	fail := atomic.Bool{}
	fail.Store(true)
	sub, start, err := subscribe(func(s *Snapshot) error {
		if fail.Load() {
			return errors.New("queue full")
		}
		mu.Lock()
		defer mu.Unlock()
		time.Sleep(100 * time.Microsecond) // slower than the producer
		seen = append(seen, s.Seq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	id := mustStart(t, e, StartRequest{Resource: "camera", App: app(10100, "com.a")})
	wait.Until(t, "a failed delivery", func() bool { return sub.Failures() > 0 })
	fail.Store(false)
	clk.Advance(retryDelay) // the retry offers the latest snapshot
	for i := range 100 {
		x := mustStart(t, e, StartRequest{Resource: "microphone", App: app(10100+i%5, "com.a")})
		e.Finish(x)
	}
	e.Finish(id)
	final := e.Snapshot().Seq
	wait.Until(t, "the final snapshot", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) > 0 && seen[len(seen)-1] == final
	})
	mu.Lock()
	defer mu.Unlock()
	prev := start.Seq
	for _, s := range seen {
		if s <= prev {
			t.Fatalf("seq %d after %d: not increasing (%v)", s, prev, seen)
		}
		prev = s
	}
}

func TestSubscriberLimit(t *testing.T) {
	c := newManualClock()
	e := New(Default(), Options{Clock: c, MaxSubscribers: 2, Logger: quietLogger()})
	defer e.Close()
	for range 2 {
		if _, _, err := e.Subscribe(func(*Snapshot) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := e.Subscribe(func(*Snapshot) error { return nil }); !errors.Is(err, ErrTooManySubscribers) {
		t.Fatalf("3rd subscriber: %v", err)
	}
	if n := e.Stats().Subscribers; n != 2 {
		t.Fatalf("stats subscribers %d, want 2", n)
	}
}

// TestLEDFollowsState uses a fixture sysfs tree: a camera LED with
// max_brightness, and one LED shared by microphone and location.
func TestLEDFollowsState(t *testing.T) {
	root := t.TempDir()
	cam := filepath.Join(root, "sys/class/leds/privacy-cam")
	mic := filepath.Join(root, "sys/class/leds/privacy-mic")
	for _, d := range []string{cam, mic} {
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "brightness"), []byte("0\n"), 0o644)
	}
	os.WriteFile(filepath.Join(cam, "max_brightness"), []byte("255\n"), 0o644)
	f := &File{Version: 1, Resources: []FileResource{
		{Resource: "camera", LED: &FileLED{Path: "/sys/class/leds/privacy-cam/brightness"}},
		{Resource: "microphone", LED: &FileLED{Path: "/sys/class/leds/privacy-mic/brightness", On: 7}},
		{Resource: "location", LED: &FileLED{Path: "/sys/class/leds/privacy-mic/brightness", On: 7}},
	}}
	cfg, err := Compile(f, func(p string) string { return filepath.Join(root, p) })
	if err != nil {
		t.Fatal(err)
	}
	e, clk, _ := newTestEngine(t, &cfg)
	led := func(dir string) string {
		b, _ := os.ReadFile(filepath.Join(dir, "brightness"))
		return strings.TrimSpace(string(b))
	}
	expect := func(what, wantCam, wantMic string) {
		t.Helper()
		wait.Until(t, fmt.Sprintf("%s: cam=%s mic=%s", what, wantCam, wantMic), func() bool { return led(cam) == wantCam && led(mic) == wantMic })
	}
	c := mustStart(t, e, StartRequest{Resource: "camera", App: app(10100, "com.a")})
	expect("camera in use", "255", "0")
	l := mustStart(t, e, StartRequest{Resource: "location", App: app(10100, "com.a")})
	m := mustStart(t, e, StartRequest{Resource: "microphone", App: app(10100, "com.a")})
	expect("all in use", "255", "7")
	e.Finish(c)
	e.Finish(m)
	expect("finished but held", "255", "7")
	clk.Advance(DefaultHold)
	expect("camera hold over, location still on", "0", "7")
	e.Finish(l)
	clk.Advance(DefaultHold)
	expect("all off", "0", "0")
	mustStart(t, e, StartRequest{Resource: "camera", App: app(10100, "com.a")})
	expect("camera again", "255", "0")
	// Config drops the camera LED: it is turned off, not left on.
	e.Configure(Default())
	expect("camera LED dropped from config", "0", "0")
	if n := e.Stats().LEDErrors; n != 0 {
		t.Fatalf("LED errors %d", n)
	}
}

func TestLEDWriteFailureIsCountedNotFatal(t *testing.T) {
	root := t.TempDir()
	cfg, err := Compile(&File{Version: 1, Resources: []FileResource{{Resource: "camera", LED: &FileLED{Path: "/sys/class/leds/none/brightness"}}}},
		func(p string) string { return filepath.Join(root, p) })
	if err != nil {
		t.Fatal(err)
	}
	e, _, _ := newTestEngine(t, &cfg)
	mustStart(t, e, StartRequest{Resource: "camera", App: app(10100, "com.a")})
	wait.Until(t, "an LED error", func() bool { return e.Stats().LEDErrors > 0 })
	if !e.Snapshot().On("camera") {
		t.Fatal("camera off after an LED failure")
	}
}

func TestCompileRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		f     File
		field string
	}{
		{File{Version: 2}, "version"},
		{File{Version: 1, Hold: dur(2 * time.Minute)}, "hold"},
		{File{Version: 1, MaxSpan: dur(time.Millisecond)}, "max_span"},
		{File{Version: 1, Resources: []FileResource{{Resource: "torch"}}}, "resources[0].resource"},
		{File{Version: 1, Resources: []FileResource{{Resource: "camera"}, {Resource: "camera"}}}, "resources[1].resource"},
		{File{Version: 1, Resources: []FileResource{{Resource: "camera", Labels: map[string]string{"fr": "Caméra"}}}}, "resources[0].labels.fr"},
		{File{Version: 1, Resources: []FileResource{{Resource: "camera", LED: &FileLED{Path: "sys/x/brightness"}}}}, "resources[0].led.path"},
		{File{Version: 1, Resources: []FileResource{{Resource: "camera", LED: &FileLED{Path: "/sys/../etc/passwd"}}}}, "resources[0].led.path"},
	} {
		_, err := Compile(&tc.f, func(p string) string { return p })
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+v: got %v, want error on field %s", tc.f, err, tc.field)
		}
	}
	cfg, err := Compile(&File{Version: 1, Hold: dur(2 * time.Second), Resources: []FileResource{
		{Resource: "sms", Icon: "ic_sms", Labels: map[string]string{"en": "Messages"}},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Resources[0]
	if cfg.Hold != 2*time.Second || cfg.MaxSpan != DefaultMaxSpan || r.Icon != "ic_sms" || r.Labels["en"] != "Messages" || r.Labels["zh-CN"] != "短信" {
		t.Fatalf("compiled %+v", cfg)
	}
	if c, _ := Catalogue("sms"); c.Labels["en"] != "SMS" {
		t.Fatal("override leaked into the catalogue")
	}
}

func TestCatalogueHasEveryCategoryInBothLanguages(t *testing.T) {
	for _, c := range Categories {
		r, ok := Catalogue(c)
		if !ok || r.Icon == "" {
			t.Errorf("%s: missing or no icon", c)
		}
		for _, l := range Languages {
			if r.Labels[l] == "" {
				t.Errorf("%s: no %s label", c, l)
			}
		}
	}
}

func dur(d time.Duration) *Duration { v := Duration(d); return &v }

func TestConfigureWithSameConfigIsNoChange(t *testing.T) {
	e, _, _ := newTestEngine(t, nil)
	before := e.Snapshot().Seq
	e.Configure(Default())
	if after := e.Snapshot().Seq; after != before {
		t.Fatalf("seq %d -> %d for an unchanged config; want no change", before, after)
	}
}

// TestRecordsFitTheRulesDetailLimit: the largest detail a valid request
// can produce stays within the 1024 bytes the published rules allow.
func TestRecordsFitTheRulesDetailLimit(t *testing.T) {
	e, clk, rec := newTestEngine(t, nil)
	long := strings.Repeat("p", maxNameLen)
	var via []Party
	for i := range maxVia {
		via = append(via, Party{UID: 1_000_000_000 + i, Package: strings.Repeat("x", maxProxyName), PID: 1_000_000_000})
	}
	id := mustStart(t, e, StartRequest{Resource: "camera", App: Party{UID: 1_999_999_999, Package: long, PID: 1_000_000_000}, Via: via, Op: long})
	clk.Advance(24 * time.Hour)
	e.Heartbeat([]uint64{id})
	for _, r := range rec.recs {
		if len(r.Detail) > 1024 {
			t.Errorf("%s record detail is %d bytes: %s", r.Kind, len(r.Detail), r.Detail)
		}
	}
	if len(rec.recs) < 3 {
		t.Fatalf("records %d, want span, anomaly, indicator", len(rec.recs))
	}
}

func TestCloseTurnsLEDsOff(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "sys/class/leds/cam")
	os.MkdirAll(dir, 0o755)
	cfg, err := Compile(&File{Version: 1, Resources: []FileResource{{Resource: "camera", LED: &FileLED{Path: "/sys/class/leds/cam/brightness", On: 3}}}},
		func(p string) string { return filepath.Join(root, p) })
	if err != nil {
		t.Fatal(err)
	}
	e, _, _ := newTestEngine(t, &cfg)
	mustStart(t, e, StartRequest{Resource: "camera", App: app(10100, "com.a")})
	read := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "brightness"))
		return strings.TrimSpace(string(b))
	}
	wait.Until(t, "LED on", func() bool { return read() == "3" })
	e.Close()
	if got := read(); got != "0" {
		t.Fatalf("LED after Close: %q, want 0 (nothing is known to be in use)", got)
	}
}
