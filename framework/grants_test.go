package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"permd/aosp/testclock"
	"permd/aosp/wait"
	"permd/framework/client"
	"permd/framework/frameworktest/harness"
	"permd/grants"
	"permd/ledger"
)

const grantsUTC = `{"version": 1, "time_zone": "UTC"}`

func grantsService(t testing.TB, clk *testclock.Clock, data string) *testService {
	return startTestService(t, testOptions{Now: clk.Now, Data: data, Config: map[string]string{GrantsFile: grantsUTC}})
}

// ledgerRows waits until the ledger holds at least want rows of kind and
// returns them oldest first.
func ledgerRows(t testing.TB, ts *testService, kind string, want int) []ledger.Event {
	t.Helper()
	var evs []ledger.Event
	wait.Until(t, fmt.Sprintf("%d %s rows in the ledger", want, kind), func() bool {
		p, err := ts.svc.ledger.l.Query(context.Background(), ledger.Filter{Kind: kind}, "", 1000)
		evs = p.Events
		return err == nil && len(evs) >= want
	})
	slices.Reverse(evs)
	return evs
}

func mustCall(t testing.TB, c *client.Client, method string, params, result any) {
	t.Helper()
	if err := c.Call(context.Background(), method, params, result); err != nil {
		t.Fatalf("%s %v: %v", method, params, err)
	}
}

// TestGrantsOverSocket walks the consent flow: request → dialog → decide
// → check (reduced location) → revoke → check denied, with the ledger
// records each step writes.
func TestGrantsOverSocket(t *testing.T) {
	clk := testclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	ts := grantsService(t, clk, "")
	c := ts.dial(t)
	const uid, pkg = 10123, "com.example.maps"

	var req grants.RequestResult
	mustCall(t, c, "perm.request", map[string]any{"uid": uid, "package": pkg, "op": "android.permission.ACCESS_FINE_LOCATION", "lang": "zh-CN"}, &req)
	if req.Status != "ask" || req.Dialog == nil || req.Dialog.Preselected.Precision.Level != "approx_3km" || req.Dialog.Risk == "" {
		t.Fatalf("request: %+v", req)
	}
	var dec struct{ Grant grants.Grant }
	mustCall(t, c, "perm.decide", map[string]any{"request_id": req.RequestID, "decision": "allow", "time": map[string]any{"mode": "while_in_use"}, "precision": map[string]any{"level": "approx_1km"}}, &dec)
	if dec.Grant.By != "dialog" || dec.Grant.UID != uid {
		t.Fatalf("decide: %+v", dec.Grant)
	}
	mustCall(t, c, "app.state", map[string]any{"uid": uid, "state": "foreground"}, nil)
	var d grants.Decision
	mustCall(t, c, "perm.check", map[string]any{"uid": uid, "package": pkg, "op": "android:fine_location"}, &d)
	if d.Result != "reduced" || d.RadiusM != 1000 || d.AppState != "foreground" {
		t.Fatalf("check: %+v", d)
	}
	var fu FudgeResult
	mustCall(t, c, "loc.fudge", map[string]any{"uid": uid, "package": pkg, "lat": 31.2304, "lon": 121.4737, "accuracy_m": 5}, &fu)
	if fu.RadiusM != 1000 || fu.AccuracyM != 1000 || grants.DistanceM(31.2304, 121.4737, fu.Lat, fu.Lon) > 3000 {
		t.Fatalf("fudge: %+v", fu)
	}
	mustCall(t, c, "app.state", map[string]any{"uid": uid, "state": "background"}, nil)
	mustCall(t, c, "perm.check", map[string]any{"uid": uid, "package": pkg, "category": "location"}, &d)
	if d.Result != "denied" || d.Reason != "background" {
		t.Fatalf("check in background: %+v", d)
	}
	var list struct{ Grants []grants.Grant }
	mustCall(t, c, "grants.list", map[string]any{"package": pkg}, &list)
	if len(list.Grants) != 1 {
		t.Fatalf("list: %+v", list)
	}
	mustCall(t, c, "grants.revoke", map[string]any{"package": pkg, "category": "location"}, nil)
	mustCall(t, c, "app.state", map[string]any{"uid": uid, "state": "foreground"}, nil)
	mustCall(t, c, "perm.check", map[string]any{"uid": uid, "package": pkg, "category": "location"}, &d)
	if d.Result != "denied" || d.Reason != "no_grant" {
		t.Fatalf("check after revoke: %+v", d)
	}
	var got struct {
		Grant   *grants.Grant
		History []grants.HistoryEntry
	}
	mustCall(t, c, "grants.get", map[string]any{"package": pkg, "category": "location"}, &got)
	if got.Grant != nil || len(got.History) != 2 || got.History[0].By != "dialog" || got.History[1].By != "shell" {
		t.Fatalf("get: %+v", got)
	}

	var results []string
	for _, r := range ledgerRows(t, ts, "access", 3) {
		results = append(results, r.Result+"/"+r.AppState+"/"+string(r.Detail))
	}
	if want := `[reduced/foreground/{"reason":"reduced_precision:approx_1km"} denied/background/{"reason":"background"} denied/foreground/{"reason":"no_grant"}]`; fmt.Sprint(results) != want {
		t.Errorf("access records\n%v\nwant\n%s", results, want)
	}
	var changes []string
	for _, r := range ledgerRows(t, ts, "grant_change", 2) {
		var det struct{ By, Reason, From, To string }
		json.Unmarshal(r.Detail, &det)
		changes = append(changes, det.Reason+"/"+det.By+"/"+det.From+"/"+det.To)
	}
	if want := "[set/dialog//com.example.maps location: allow while_in_use, approx_1km revoke/shell/com.example.maps location: allow while_in_use, approx_1km/]"; fmt.Sprint(changes) != want {
		t.Errorf("grant_change records\n%v\nwant\n%s", changes, want)
	}
	if rows := ledgerRows(t, ts, "grant_decision", 1); rows[0].Result != "reduced" || string(rows[0].Detail) != `{"option":"while_in_use","precision":"approx_1km"}` {
		t.Errorf("grant_decision record %+v", rows[0])
	}
}

// TestGrantsBadInput: every bad request gets -32602 naming the field,
// and the grants stay as they were.
func TestGrantsBadInput(t *testing.T) {
	clk := testclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	ts := grantsService(t, clk, "")
	c := ts.dial(t)
	mustCall(t, c, "grants.set", map[string]any{"package": "com.a.b", "category": "contacts", "time": map[string]any{"mode": "while_in_use"}}, nil)
	for _, tc := range []struct {
		method string
		params string
		field  string
	}{
		{"grants.set", `{"package":"com.a.b","category":"clipboard","time":{"mode":"once"}}`, "category"},
		{"grants.set", `{"package":"com.a.b","category":"contacts","time":{"mode":"once","until":"2027-01-01T00:00:00Z"}}`, "time.until"},
		{"grants.set", `{"package":"com.a.b","category":"contacts","time":{"mode":"window","window":"09:00-09:00"}}`, "time.window"},
		{"grants.set", `{"package":"com.a.b","category":"contacts","time":{"mode":"once"},"precision":{"level":"nope"}}`, "precision.level"},
		{"grants.set", `{"package":"com.a.b","category":"contacts","time":{"mode":"once"},"frequency":{"max":3,"per":"fortnight"}}`, "frequency.per"},
		{"grants.set", `{"package":"com.a.b","category":"contacts","time":{"mode":"once"},"colour":"red"}`, "colour"},
		{"grants.set", `{"package":"not a package","category":"contacts","time":{"mode":"once"}}`, "package"},
		{"grants.set", `{"package":"com.a.b","uid":10001,"user":2,"category":"contacts","time":{"mode":"once"}}`, "user"},
		{"grants.revoke", `{"package":"com.a.b","category":"nosuch"}`, "category"},
		{"perm.check", `{"package":"com.a.b","category":"contacts"}`, "uid"},
		{"perm.check", `{"uid":10001,"package":"com.a.b","op":"android.permission.INTERNET"}`, "op"},
		{"perm.check", `{"uid":10001,"package":"com.a.b","category":"contacts","state":"asleep"}`, "state"},
		{"perm.check", `{"uid":10001,"package":"com.a.b","category":"camera","op":"android:read_contacts"}`, "op"},
		{"perm.request", `{"uid":10001,"package":"com.a.b","category":"contacts","lang":"fr"}`, "lang"},
		{"app.state", `{"uid":10001,"state":"dreaming"}`, "state"},
		{"loc.fudge", `{"uid":10001,"package":"com.a.b","lat":91,"lon":0}`, "lat"},
		{"grants.catalogue", `{"lang":"xx"}`, "lang"},
	} {
		err := c.Call(context.Background(), tc.method, json.RawMessage(tc.params), nil)
		var re *client.RPCError
		if !errors.As(err, &re) || re.Code != CodeInvalidParams {
			t.Errorf("%s %s: %v, want -32602", tc.method, tc.params, err)
			continue
		}
		var data struct{ Field string }
		json.Unmarshal(re.Data, &data)
		if data.Field != tc.field {
			t.Errorf("%s %s: error names field %q (%s), want %q", tc.method, tc.params, data.Field, re.Message, tc.field)
		}
	}
	if err := c.Call(context.Background(), "grants.revoke", map[string]any{"package": "com.x.y", "category": "contacts"}, nil); rpcCode(err) != CodeNotFound {
		t.Errorf("revoke of a grant that does not exist: %v, want -32002", err)
	}
	if err := c.Call(context.Background(), "perm.decide", map[string]any{"request_id": "nope", "decision": "deny"}, nil); rpcCode(err) != CodeNotFound {
		t.Errorf("decide on an unknown request: %v, want -32002", err)
	}
	var list struct{ Grants []grants.Grant }
	mustCall(t, c, "grants.list", nil, &list)
	if len(list.Grants) != 1 || list.Grants[0].Version != 1 || list.Grants[0].Time.Mode != "while_in_use" {
		t.Fatalf("grants changed by bad input: %+v", list.Grants)
	}
}

// TestGrantsFrequencyAcrossDaemonRestart exhausts a limit, restarts the
// daemon on the same data dir, and checks the limit still holds.
func TestGrantsFrequencyAcrossDaemonRestart(t *testing.T) {
	clk := testclock.New(time.Date(2026, 3, 2, 10, 5, 0, 0, time.UTC))
	data := filepath.Join(harness.TempDir(t), "data")
	ts := grantsService(t, clk, data)
	c := ts.dial(t)
	mustCall(t, c, "grants.set", map[string]any{"uid": 10200, "package": "com.a.b", "category": "location",
		"time": map[string]any{"mode": "always", "background": true}, "frequency": map[string]any{"max": 5, "per": "hour"}}, nil)
	check := func(c *client.Client) grants.Decision {
		var d grants.Decision
		mustCall(t, c, "perm.check", map[string]any{"uid": 10200, "package": "com.a.b", "category": "location", "state": "background"}, &d)
		return d
	}
	for i := range 5 {
		if d := check(c); !d.Allowed {
			t.Fatalf("check %d: %+v", i+1, d)
		}
	}
	if d := check(c); d.Result != "rate_limited" {
		t.Fatalf("6th check: %+v", d)
	}
	c.Close()
	ts.stop(t)
	clk.Add(10 * time.Minute)
	ts = grantsService(t, clk, data)
	c = ts.dial(t)
	if d := check(c); d.Result != "rate_limited" || d.Remaining != 0 {
		t.Fatalf("after restart: %+v, want rate_limited", d)
	}
	clk.Add(time.Hour)
	if d := check(c); !d.Allowed || d.Remaining != 4 {
		t.Fatalf("next hour: %+v", d)
	}
}

// TestGrantsConcurrentChecksOverSocket: 8 clients hammering one app
// never get more than the limit.
func TestGrantsConcurrentChecksOverSocket(t *testing.T) {
	clk := testclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	ts := grantsService(t, clk, "")
	c := ts.dial(t)
	mustCall(t, c, "grants.set", map[string]any{"uid": 10300, "package": "com.a.c", "category": "contacts",
		"time": map[string]any{"mode": "always"}, "frequency": map[string]any{"max": 50, "per": "day"}}, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := ts.dial(t)
			for range 25 {
				var d grants.Decision
				if err := cl.Call(context.Background(), "perm.check", map[string]any{"uid": 10300, "package": "com.a.c", "category": "contacts"}, &d); err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 50 {
		t.Fatalf("%d checks allowed, want exactly 50", allowed)
	}
}

func TestGrantsConfigRejected(t *testing.T) {
	for _, tc := range []struct{ body, field string }{
		{`{"version": 1, "once_grace": "2h"}`, "once_grace"},
		{`{"version": 1, "time_zone": "Mars/Olympus"}`, "time_zone"},
		{`{"version": 2}`, "version"},
		{`{"version": 1, "grace": "1s"}`, "grace"},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, MainFile), []byte(testRolesJSON), 0o644)
		os.WriteFile(filepath.Join(dir, GrantsFile), []byte(tc.body), 0o644)
		_, err := New(Options{DataDir: t.TempDir(), ConfigDir: dir, SocketPath: filepath.Join(dir, "s"), Logger: discardLogger()})
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.File != GrantsFile || ce.Field != tc.field {
			t.Errorf("%s: got %v, want a ConfigError for %s field %s", tc.body, err, GrantsFile, tc.field)
		}
	}
}

// BenchmarkPermCheckVsHealth reports perm.check round trips over the
// socket next to sys.health from the same run, at 1 and 8 clients.
// "uncapped" is the hot path: a decision plus an access record handed to
// the ledger without waiting (target: p50 <= 1.2x sys.health). "capped"
// checks under a frequency cap, each answered only after its record's
// fsync'd commit (the cap holds across a crash), so its figure is the
// commit's; it makes a tenth of the calls.
func BenchmarkPermCheckVsHealth(b *testing.B) {
	clk := testclock.New(time.Now())
	ts := startTestService(b, testOptions{Now: clk.Now})
	c := ts.dial(b)
	mustCall(b, c, "grants.set", map[string]any{"uid": 10400, "package": "com.bench.app", "category": "location",
		"time": map[string]any{"mode": "while_in_use"}, "precision": map[string]any{"level": "approx_1km"}}, nil)
	mustCall(b, c, "grants.set", map[string]any{"uid": 10400, "package": "com.bench.app", "category": "camera",
		"time": map[string]any{"mode": "while_in_use"}, "frequency": map[string]any{"max": 1 << 30, "per": "day"}}, nil)
	for _, kind := range []string{"uncapped", "capped"} {
		params := map[string]any{"uid": 10400, "package": "com.bench.app", "op": "android:fine_location", "state": "foreground"}
		calls := benchCalls()
		if kind == "capped" {
			params = map[string]any{"uid": 10400, "package": "com.bench.app", "category": "camera", "state": "foreground"}
			calls /= 10
		}
		for _, clients := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/clients=%d", kind, clients), func(b *testing.B) {
				for range b.N {
					h := measure(b, clients, calls, dialer(b, ts.socket), callMethod("sys.health", nil))
					m := measure(b, clients, calls, dialer(b, ts.socket), callMethod("perm.check", params))
					us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
					b.ReportMetric(us(h.P50), "health-p50-us")
					b.ReportMetric(us(h.P99), "health-p99-us")
					b.ReportMetric(h.PerSec, "health-calls/s")
					b.ReportMetric(us(m.P50), "check-p50-us")
					b.ReportMetric(us(m.P99), "check-p99-us")
					b.ReportMetric(m.PerSec, "check-calls/s")
					b.ReportMetric(us(m.P50)/us(h.P50), "ratio-p50")
				}
			})
		}
	}
}

// fakePackages is a package list: uid → packages, as the process part
// reads it from packages.list.
type fakePackages map[int][]string

func (f fakePackages) Packages(uid int) []string { return f[uid] }

func (f fakePackages) UIDOf(pkg string, user int) (int, bool) {
	for uid, pkgs := range f {
		if grants.UserOf(uid) == user && slices.Contains(pkgs, pkg) {
			return uid, true
		}
	}
	return 0, false
}

// fakeStates is process tracking's view of app states.
type fakeStates struct {
	mu sync.Mutex
	m  map[int]string
}

func (f *fakeStates) AppState(uid int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[uid]
}

func (f *fakeStates) ReportAppState(uid int, state string) {
	f.mu.Lock()
	f.m[uid] = state
	f.mu.Unlock()
}

// TestGrantsWithPackageListAndStates: with a package list, unknown
// packages are refused and the uid is filled in; app states come from
// process tracking, and app.state reports reach it.
func TestGrantsWithPackageListAndStates(t *testing.T) {
	clk := testclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	states := &fakeStates{m: map[int]string{10500: "background"}}
	ts := startPrepared(t, testOptions{Now: clk.Now, Config: map[string]string{GrantsFile: grantsUTC}}, func(s *Service) {
		s.identity.resolver = fakePackages{10500: {"com.known.app", "com.known.shared"}, 1010600: {"com.work.app"}}
		s.identity.states = states
	})
	c := ts.dial(t)
	for _, tc := range []struct {
		method, params, field string
	}{
		{"grants.set", `{"package":"com.not.installed","category":"camera","time":{"mode":"once"}}`, "package"},
		{"grants.set", `{"package":"com.work.app","category":"camera","time":{"mode":"once"}}`, "package"},
		{"perm.check", `{"uid":10500,"package":"com.other.app","category":"camera"}`, "package"},
		{"perm.request", `{"uid":10500,"package":"com.other.app","category":"camera"}`, "package"},
		{"perm.check", `{"uid":10777,"category":"camera"}`, "package"},
	} {
		err := c.Call(context.Background(), tc.method, json.RawMessage(tc.params), nil)
		var re *client.RPCError
		var data struct{ Field string }
		if errors.As(err, &re) {
			json.Unmarshal(re.Data, &data)
		}
		if re == nil || re.Code != CodeInvalidParams || data.Field != tc.field {
			t.Errorf("%s %s: %v, want -32602 naming %s", tc.method, tc.params, err, tc.field)
		}
	}
	var set struct{ Grant grants.Grant }
	mustCall(t, c, "grants.set", map[string]any{"package": "com.work.app", "user": 10, "category": "camera", "time": map[string]any{"mode": "while_in_use"}}, &set)
	if set.Grant.UID != 1010600 {
		t.Fatalf("uid not filled in from the package list: %+v", set.Grant)
	}
	mustCall(t, c, "grants.set", map[string]any{"package": "com.known.shared", "category": "camera", "time": map[string]any{"mode": "while_in_use"}}, nil)
	// No package named: the uid's packages are tried; the state comes
	// from process tracking.
	var d grants.Decision
	mustCall(t, c, "perm.check", map[string]any{"uid": 10500, "category": "camera"}, &d)
	if d.Result != "denied" || d.Reason != "background" || d.Package != "com.known.shared" || d.AppState != "background" {
		t.Fatalf("check in background per process tracking: %+v", d)
	}
	mustCall(t, c, "app.state", map[string]any{"uid": 10500, "state": "foreground"}, nil)
	if states.AppState(10500) != "foreground" {
		t.Fatal("app.state did not reach process tracking")
	}
	mustCall(t, c, "perm.check", map[string]any{"uid": 10500, "category": "camera"}, &d)
	if !d.Allowed {
		t.Fatalf("check in foreground: %+v", d)
	}
}
