package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"permd/aosp/etc"
	"permd/aosp/wait"
	"permd/framework/client"
	"permd/indicator"
	"permd/ledger"
)

// snapshotMsg is the part of an indicator snapshot the tests read.
type snapshotMsg struct {
	Seq       uint64 `json:"seq"`
	Resources []struct {
		Resource string            `json:"resource"`
		Icon     string            `json:"icon"`
		Labels   map[string]string `json:"labels"`
		On       bool              `json:"on"`
		Apps     []struct {
			UID     int    `json:"uid"`
			Package string `json:"package"`
			Active  int    `json:"active"`
			Via     []struct {
				UID     int    `json:"uid"`
				Package string `json:"package"`
			} `json:"via"`
		} `json:"apps"`
	} `json:"resources"`
}

func (s snapshotMsg) on(res string) bool {
	for _, r := range s.Resources {
		if r.Resource == res {
			return r.On
		}
	}
	return false
}

// subscriber is a client subscribed to indicator changes.
type subscriber struct {
	c      *client.Client
	first  snapshotMsg
	snaps  chan snapshotMsg // every notification, until the buffer is full
	latest atomic.Uint64    // highest seq received, never dropped
}

func subscribeIndicator(t testing.TB, ts *testService) *subscriber {
	t.Helper()
	c := ts.dial(t)
	s := &subscriber{c: c, snaps: make(chan snapshotMsg, 4096)}
	go func() {
		for n := range c.Notifications() {
			if n.Method != "indicator.changed" {
				continue
			}
			var m snapshotMsg
			if err := json.Unmarshal(n.Params, &m); err == nil {
				if m.Seq > s.latest.Load() {
					s.latest.Store(m.Seq)
				}
				select {
				case s.snaps <- m:
				default: // a test not reading snaps only needs latest
				}
			}
		}
		close(s.snaps)
	}()
	if err := c.Call(context.Background(), "indicator.subscribe", nil, &s.first); err != nil {
		t.Fatalf("indicator.subscribe: %v", err)
	}
	return s
}

// until reads notifications until one satisfies cond; it returns it.
func (s *subscriber) until(t testing.TB, what string, cond func(snapshotMsg) bool) snapshotMsg {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-s.snaps:
			if !ok {
				t.Fatalf("subscription ended while waiting for %s", what)
			}
			if cond(m) {
				return m
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

type started struct {
	Use       uint64 `json:"use"`
	Indicated bool   `json:"indicated"`
	Seq       uint64 `json:"seq"`
}

func TestIndicatorOverSocket(t *testing.T) {
	ts := startTestService(t, testOptions{Config: map[string]string{IndicatorFile: `{"version":1,"hold":"100ms"}`}})
	sub := subscribeIndicator(t, ts)
	if len(sub.first.Resources) != 3 || sub.first.on("camera") || sub.first.Resources[0].Labels["zh-CN"] != "相机" {
		t.Fatalf("first snapshot %+v; want camera, microphone, location, all off, with labels", sub.first)
	}
	fw := ts.dial(t)
	ctx := context.Background()
	var st started
	err := fw.Call(ctx, "op.start", map[string]any{
		"resource": "camera", "uid": 10123, "package": "com.example.cam", "op": "android:camera",
		"via": []map[string]any{{"uid": 1047, "package": "cameraserver"}},
	}, &st)
	if err != nil || !st.Indicated || st.Use == 0 {
		t.Fatalf("op.start: %+v %v", st, err)
	}
	m := sub.until(t, "camera on", func(m snapshotMsg) bool { return m.on("camera") })
	app := m.Resources[0].Apps[0]
	if app.UID != 10123 || app.Package != "com.example.cam" || app.Active != 1 || len(app.Via) != 1 || app.Via[0].Package != "cameraserver" {
		t.Fatalf("camera shows %+v; want the app, with cameraserver as via", app)
	}
	var got snapshotMsg
	if err := fw.Call(ctx, "indicator.get", nil, &got); err != nil || !got.on("camera") || got.Seq < m.Seq {
		t.Fatalf("indicator.get: %+v %v", got, err)
	}
	if err := fw.Call(ctx, "op.finish", map[string]any{"use": st.Use}, nil); err != nil {
		t.Fatal(err)
	}
	err = fw.Call(ctx, "op.finish", map[string]any{"use": st.Use}, nil)
	if rpcCode(err) != CodeConflict || !strings.Contains(err.Error(), "already ended (finish") {
		t.Fatalf("duplicate finish: %v, want conflict", err)
	}
	sub.until(t, "camera off after the hold", func(m snapshotMsg) bool { return !m.on("camera") })
	var h Health
	if err := fw.Call(ctx, "sys.health", map[string]bool{"detail": true}, &h); err != nil {
		t.Fatal(err)
	}
	if p, _ := h.Parts["indicator"].(map[string]any); p["subscribers"] != 1.0 {
		t.Fatalf("health parts.indicator = %v; want 1 subscriber", h.Parts["indicator"])
	}
}

func TestIndicatorBadInput(t *testing.T) {
	ts := startTestService(t, testOptions{})
	ts.svc.indicator.pkgs.Store(resolverBox{mapResolver{10123: {"com.example.cam"}, 10200: {"com.shared.a", "com.shared.b"}}})
	fw := ts.dial(t)
	ctx := context.Background()
	var st started
	if err := fw.Call(ctx, "op.start", map[string]any{"resource": "microphone", "uid": 10200, "package": "com.shared.b"}, &st); err != nil {
		t.Fatal(err)
	}
	var before json.RawMessage
	fw.Call(ctx, "indicator.get", nil, &before)
	for _, tc := range []struct {
		method string
		params string
		code   int
		field  string
		msg    string
	}{
		{"op.start", `{"resource":"flashlight","uid":10123,"package":"com.example.cam"}`, CodeInvalidParams, "resource", "unknown resource"},
		{"op.start", `{"resource":"camera","uid":10123,"package":"com.other"}`, CodeInvalidParams, "package", "does not run under uid 10123"},
		{"op.start", `{"resource":"camera","package":"com.example.cam"}`, CodeInvalidParams, "uid", "missing"},
		{"op.start", `{"resource":"camera","uid":10123}`, CodeInvalidParams, "package", "missing"},
		{"op.start", `{"resource":"camera","uid":10123,"package":"com.example.cam","via":[{"package":"cameraserver"}]}`, CodeInvalidParams, "via[0].uid", "missing"},
		{"op.start", `{"resource":"camera","uid":10123,"package":"com.example.cam","who":1}`, CodeInvalidParams, "who", "unknown field"},
		{"op.finish", `{}`, CodeInvalidParams, "use", "missing"},
		{"op.finish", `{"use":12}`, CodeNotFound, "", "not started by this permd"},
		{"op.finish", fmt.Sprintf(`{"use":%d}`, st.Use+1), CodeNotFound, "", "unknown id"},
		{"op.heartbeat", `{"uses":[]}`, CodeInvalidParams, "uses", "empty"},
		{"op.heartbeat", fmt.Sprintf(`{"uses":[%d,5]}`, st.Use), CodeNotFound, "", "use 5"},
		{"proc.died", `{"pid":3}`, CodeInvalidParams, "uid", "missing"},
		{"proc.died", `{"uid":-1}`, CodeInvalidParams, "uid", "negative"},
		{"indicator.get", `{"x":1}`, CodeInvalidParams, "x", "unknown field"},
	} {
		err := fw.Call(ctx, tc.method, json.RawMessage(tc.params), nil)
		var re *client.RPCError
		ok := err != nil && rpcCode(err) == tc.code && strings.Contains(err.Error(), tc.msg)
		if ok && tc.field != "" {
			var data struct{ Field string }
			ok = asRPC(err, &re) && json.Unmarshal(re.Data, &data) == nil && data.Field == tc.field
		}
		if !ok {
			t.Errorf("%s %s: got %v; want code %d naming field %q with %q", tc.method, tc.params, err, tc.code, tc.field, tc.msg)
		}
	}
	var after json.RawMessage
	fw.Call(ctx, "indicator.get", nil, &after)
	if string(before) != string(after) {
		t.Fatalf("state changed by bad input:\nbefore %s\nafter  %s", before, after)
	}
	// The use is intact: it finishes once.
	if err := fw.Call(ctx, "op.finish", map[string]any{"use": st.Use}, nil); err != nil {
		t.Fatalf("finish of the good use after bad input: %v", err)
	}
}

func asRPC(err error, re **client.RPCError) bool {
	e, ok := err.(*client.RPCError)
	*re = e
	return ok
}

type mapResolver map[int][]string

func (m mapResolver) Packages(uid int) []string { return m[uid] }

func (m mapResolver) UIDOf(pkg string, user int) (int, bool) {
	for uid, pkgs := range m {
		if uid/100000 == user && slices.Contains(pkgs, pkg) {
			return uid, true
		}
	}
	return 0, false
}

func TestProcessDeathEndsUsesOverSocket(t *testing.T) {
	ts := startTestService(t, testOptions{Config: map[string]string{IndicatorFile: `{"version":1,"hold":"0s"}`}})
	sub := subscribeIndicator(t, ts)
	fw := ts.dial(t)
	ctx := context.Background()
	var a, b started
	fw.Call(ctx, "op.start", map[string]any{"resource": "microphone", "uid": 10123, "package": "com.a", "pid": 4000}, &a)
	fw.Call(ctx, "op.start", map[string]any{"resource": "location", "uid": 10124, "package": "com.b"}, &b)
	sub.until(t, "mic and location on", func(m snapshotMsg) bool { return m.on("microphone") && m.on("location") })
	var res struct{ Ended int }
	if err := fw.Call(ctx, "proc.died", map[string]any{"uid": 10123, "pid": 4000}, &res); err != nil || res.Ended != 1 {
		t.Fatalf("proc.died: %+v %v", res, err)
	}
	sub.until(t, "mic off after death", func(m snapshotMsg) bool { return !m.on("microphone") && m.on("location") })
	// Process tracking calls the part directly.
	if n := ts.svc.indicator.processDied(10124, 0); n != 1 {
		t.Fatalf("processDied(10124, 0) ended %d uses, want 1", n)
	}
	sub.until(t, "location off after uid death", func(m snapshotMsg) bool { return !m.on("location") })
	err := fw.Call(ctx, "op.finish", map[string]any{"use": a.Use}, nil)
	if rpcCode(err) != CodeConflict || !strings.Contains(err.Error(), "death") {
		t.Fatalf("finish after death: %v; want conflict naming death", err)
	}
	var c started
	fw.Call(ctx, "op.start", map[string]any{"resource": "camera", "uid": 10125, "package": "com.c"}, &c)
	var hb struct{ Active, Ended []uint64 }
	if err := fw.Call(ctx, "op.heartbeat", map[string]any{"uses": []uint64{a.Use, c.Use}}, &hb); err != nil ||
		len(hb.Active) != 1 || hb.Active[0] != c.Use || len(hb.Ended) != 1 || hb.Ended[0] != a.Use {
		t.Fatalf("op.heartbeat: %+v %v; want active [%d] ended [%d]", hb, err, c.Use, a.Use)
	}
}

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

func TestLEDFollowsIndicatorInFixtureRoot(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "sys/class/leds/privacy-cam")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "brightness"), []byte("0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "max_brightness"), []byte("1\n"), 0o644)
	ts := startTestService(t, testOptions{Root: root, Config: map[string]string{IndicatorFile: `{
  "version": 1, "hold": "0s",
  "resources": [{"resource": "camera", "led": {"path": "/sys/class/leds/privacy-cam/brightness"}}, {"resource": "microphone"}]
}`}})
	led := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "brightness"))
		return strings.TrimSpace(string(b))
	}
	fw := ts.dial(t)
	var st started
	if err := fw.Call(context.Background(), "op.start", map[string]any{"resource": "camera", "uid": 10100, "package": "com.a"}, &st); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, "LED on", func() bool { return led() == "1" })
	fw.Call(context.Background(), "op.finish", map[string]any{"use": st.Use}, nil)
	wait.Until(t, "LED off", func() bool { return led() == "0" })
}

func TestIndicatorConfigErrorsAndReload(t *testing.T) {
	for _, tc := range []struct{ body, field string }{
		{`{"version":1,"hold":"soon"}`, "hold"},
		{`{"version":1,"resources":[{"resource":"torch"}]}`, "resources[0].resource"},
		{`{"version":1,"resources":[{"resource":"camera","colour":"red"}]}`, "resources[0].colour"},
		{`{"version":3}`, "version"},
	} {
		_, err := New(Options{DataDir: t.TempDir(), SocketPath: "x", ConfigDir: writeConfigDir(t, map[string]string{IndicatorFile: tc.body}), Logger: discardLogger()})
		ce, ok := err.(*ConfigError)
		if !ok || ce.File != IndicatorFile || ce.Field != tc.field {
			t.Errorf("%s: got %v; want a config error in %s field %s", tc.body, err, IndicatorFile, tc.field)
		}
	}
	ts := startTestService(t, testOptions{})
	sub := subscribeIndicator(t, ts)
	ts.writeConfig(t, IndicatorFile, `{"version":1,"resources":[{"resource":"sms","labels":{"en":"Messages"}}]}`)
	m := sub.until(t, "reload to sms only", func(m snapshotMsg) bool { return len(m.Resources) == 1 })
	if m.Resources[0].Resource != "sms" || m.Resources[0].Labels["en"] != "Messages" || m.Resources[0].Labels["zh-CN"] != "短信" {
		t.Fatalf("after reload: %+v", m.Resources)
	}
	ts.writeConfig(t, IndicatorFile, `{"version":1,"hold":"forever"}`)
	wait.Until(t, "the bad config to be rejected", func() bool { return ts.svc.configRejects.Load() > 0 })
	if cfg := ts.svc.indicator.eng.Config(); len(cfg.Resources) != 1 || cfg.Hold != indicator.DefaultHold {
		t.Fatalf("bad reload changed the config: %+v", cfg)
	}
}

func writeConfigDir(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	files[MainFile] = testRolesJSON
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestShippedIndicatorConfig: the indicator.json installed on devices
// (and embedded for host runs) is valid and says what the docs say.
func TestShippedIndicatorConfig(t *testing.T) {
	snap, err := readSnapshot(etc.Default(), "embedded")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.File(IndicatorFile); !ok {
		t.Fatalf("no %s in aosp/etc/permd", IndicatorFile)
	}
	var p indicatorPart
	apply, err := p.prepare(&Service{opt: Options{Root: "/"}}, snap)
	if err != nil {
		t.Fatal(err)
	}
	apply()
	var codes []string
	for _, r := range p.cfg.Resources {
		codes = append(codes, r.Code)
	}
	if strings.Join(codes, ",") != "camera,microphone,location" || p.cfg.Hold != 5*time.Second || p.cfg.MaxSpan != 10*time.Minute {
		t.Fatalf("shipped config: %v hold %s max span %s", codes, p.cfg.Hold, p.cfg.MaxSpan)
	}
}

// TestIndicatorRecordsInLedger runs on an injected clock: a use that
// outlives its max span without a heartbeat is ended as an anomaly, and
// the ledger holds the use (span), the anomaly and the shown span
// (indicator), with detail keys the published rules accept.
func TestIndicatorRecordsInLedger(t *testing.T) {
	var mu sync.Mutex
	now := time.Now().Truncate(time.Millisecond)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ts := startTestService(t, testOptions{Now: clock, Config: map[string]string{IndicatorFile: `{"version":1,"max_span":"1m"}`}})
	fw := ts.dial(t)
	ctx := context.Background()
	var st started
	if err := fw.Call(ctx, "op.start", map[string]any{"resource": "camera", "uid": 10123, "package": "com.example.cam", "op": "android:camera",
		"via": []map[string]any{{"uid": 1047, "package": "cameraserver"}}}, &st); err != nil {
		t.Fatal(err)
	}
	start := now
	advance(62 * time.Second) // ended at 60 s, held until 65 s
	var snap snapshotMsg
	fw.Call(ctx, "indicator.get", nil, &snap) // expires what is due by now
	if !snap.on("camera") || snap.Resources[0].Apps[0].Active != 0 {
		t.Fatalf("after the max span: %+v; want camera held, no active use", snap.Resources[0])
	}
	advance(10 * time.Second)
	fw.Call(ctx, "indicator.get", nil, &snap)
	if snap.on("camera") {
		t.Fatal("camera still on after max span and hold")
	}
	query := func(kind string) []struct {
		Time   int64           `json:"time_ms"`
		UID    int             `json:"uid"`
		Cat    string          `json:"category"`
		Op     string          `json:"op"`
		Result string          `json:"result"`
		Detail json.RawMessage `json:"detail"`
	} {
		var page struct {
			Events []struct {
				Time   int64           `json:"time_ms"`
				UID    int             `json:"uid"`
				Cat    string          `json:"category"`
				Op     string          `json:"op"`
				Result string          `json:"result"`
				Detail json.RawMessage `json:"detail"`
			} `json:"events"`
		}
		if err := fw.Call(ctx, "ledger.query", map[string]any{"kind": kind}, &page); err != nil {
			t.Fatalf("ledger.query %s: %v", kind, err)
		}
		return page.Events
	}
	wait.Until(t, "indicator, span and anomaly records", func() bool {
		return len(query("indicator")) == 1 && len(query("span")) == 1 && len(query("anomaly")) == 1
	})
	span := query("span")[0]
	if span.UID != 10123 || span.Cat != "camera" || span.Op != "android:camera" || span.Result != "allowed" || span.Time != start.UnixMilli() ||
		!strings.Contains(string(span.Detail), `"duration_ms":60000`) || !strings.Contains(string(span.Detail), `"reason":"timeout"`) || !strings.Contains(string(span.Detail), "cameraserver") {
		t.Errorf("span record %+v detail %s", span, span.Detail)
	}
	an := query("anomaly")[0]
	if an.UID != 10123 || an.Cat != "camera" || !strings.Contains(string(an.Detail), `"limit":60000`) || !strings.Contains(string(an.Detail), "indicator_use_without_heartbeat") {
		t.Errorf("anomaly record %+v detail %s", an, an.Detail)
	}
	shown := query("indicator")[0]
	if shown.UID != 10123 || shown.Cat != "camera" || shown.Result != "" || shown.Time != start.UnixMilli() || !strings.Contains(string(shown.Detail), `"duration_ms":65000`) {
		t.Errorf("indicator record %+v detail %s; want 60 s max span + 5 s hold", shown, shown.Detail)
	}
	var h Health
	fw.Call(ctx, "sys.health", map[string]bool{"detail": true}, &h)
	if l, _ := h.Parts["ledger"].(map[string]any); l["dropped"] != 0.0 {
		t.Fatalf("ledger dropped records: %v", h.Parts["ledger"])
	}
}

type captureSink struct{ recs []ledger.Record }

func (c *captureSink) Append(ctx context.Context, recs ...ledger.Record) error {
	c.recs = append(c.recs, recs...)
	return nil
}
func (c *captureSink) Enqueue(recs ...ledger.Record) { c.recs = append(c.recs, recs...) }
func (c *captureSink) EnqueueUses(open []ledger.OpenUse, closed []uint64, recs ...ledger.Record) {
	c.recs = append(c.recs, recs...)
}

// TestRulesFilterKeepsRecordsDropsUnlistedKeys: with the shipped rules,
// span records pass byte for byte; an indicator record loses only the
// keys the rules do not list.
func TestRulesFilterKeepsRecordsDropsUnlistedKeys(t *testing.T) {
	raw, err := fs.ReadFile(etc.Default(), RulesFile)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ledger.ParseRules(raw)
	if err != nil {
		t.Fatal(err)
	}
	sink := &captureSink{}
	f := &rulesFilter{sink: sink, rules: func() *ledger.Rules { return rules }, log: discardLogger()}
	span := json.RawMessage(`{"duration_ms":5,"reason":"finish","pid":7}`)
	f.Enqueue(
		ledger.Record{Kind: "span", Category: "camera", Detail: span},
		ledger.Record{Kind: "indicator", Category: "camera", Detail: json.RawMessage(`{"duration_ms":5005,"resource":"camera","package":"com.a","uses":1,"reason":"finish"}`)},
	)
	if len(sink.recs) != 2 {
		t.Fatalf("%d records passed, want 2", len(sink.recs))
	}
	if string(sink.recs[0].Detail) != string(span) {
		t.Errorf("span detail changed: %s", sink.recs[0].Detail)
	}
	var got map[string]any
	json.Unmarshal(sink.recs[1].Detail, &got)
	k := rules.Kind("indicator")
	for key := range got {
		if !slices.Contains(k.Detail, key) {
			t.Errorf("indicator detail kept %q, which the rules do not list", key)
		}
	}
	if got["duration_ms"] != 5005.0 || got["resource"] != "camera" {
		t.Errorf("indicator detail lost listed keys: %v", got)
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
