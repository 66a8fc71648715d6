package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"permd/framework/client"
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
