package framework

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"permd/aosp/testclock"
	"permd/aosp/wait"
	"permd/framework/frameworktest/harness"
	"permd/framework/process"
	"permd/ledger"
)

// writeFixtureProc writes one process in the kernel's formats (proc(5)).
func writeFixtureProc(t *testing.T, root string, pid, ppid, uid int, start uint64, name string, oom int) {
	t.Helper()
	dir := filepath.Join(root, "proc", strconv.Itoa(pid))
	os.MkdirAll(dir, 0o755)
	files := map[string]string{
		"stat": fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 10 0 %d 100000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
			pid, name, ppid, pid, pid, start),
		"status":        fmt.Sprintf("Name:\t%s\nPid:\t%d\nPPid:\t%d\nUid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\n", name, pid, ppid, uid, uid, uid, uid, uid, uid, uid, uid),
		"cmdline":       name + "\x00",
		"oom_score_adj": strconv.Itoa(oom) + "\n",
	}
	for f, body := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func procRoot(t *testing.T) string {
	root := filepath.Join(harness.TempDir(t), "root")
	writeFixtureProc(t, root, 1, 0, 0, 1, "init", -1000)
	writeFixtureProc(t, root, 610, 1, 0, 500, "zygote64", -1000)
	writeFixtureProc(t, root, 3100, 610, 10113, 50000, "com.android.chrome", 0)
	writeFixtureProc(t, root, 3300, 610, 10078, 52000, "com.tencent.mm", 905)
	os.MkdirAll(filepath.Join(root, "data", "system"), 0o755)
	list := "com.android.chrome 10113 0 /data/user/0/com.android.chrome default:targetSdkVersion=34 3002,3003 0 651209933 1 com.android.vending\n" +
		"com.tencent.mm 10078 0 /data/user/0/com.tencent.mm default:targetSdkVersion=33 3003 0 2680 1 com.android.vending\n" +
		"com.caller.app 10050 0 /data/user/0/com.caller.app default:targetSdkVersion=34 none 0 1 1 @null\n"
	if err := os.WriteFile(filepath.Join(root, "data", "system", "packages.list"), []byte(list), 0o640); err != nil {
		t.Fatal(err)
	}
	return root
}

const testProcessJSON = `{"mode": "poll", "poll_interval": "100ms", "window": "100ms", "logd": false}`

func procHealth(t *testing.T, ts *testService) map[string]json.RawMessage {
	t.Helper()
	var h struct {
		Parts map[string]map[string]json.RawMessage `json:"parts"`
	}
	if err := ts.call(t, "sys.health", map[string]bool{"detail": true}, &h); err != nil {
		t.Fatal(err)
	}
	return h.Parts["proc"]
}

func TestProcPartTracksFixtureAndFrameworkReports(t *testing.T) {
	root := procRoot(t)
	ts := startTestService(t, testOptions{Root: root, Config: map[string]string{ProcessFile: testProcessJSON}})

	// Identity is up before anything else: other parts read it.
	if got := ts.svc.identity.resolver.Packages(1010113); len(got) != 1 || got[0] != "com.android.chrome" {
		t.Errorf("packages of uid 1010113 = %v, want [com.android.chrome]", got)
	}
	if st := ts.svc.identity.states.AppState(10078); st != "background" {
		t.Errorf("state of wechat (adj 905) = %q, want background", st)
	}

	var list struct {
		Mode      string      `json:"mode"`
		Processes []ProcEntry `json:"processes"`
	}
	if err := ts.call(t, "proc.list", map[string]any{"package": "com.android.chrome"}, &list); err != nil {
		t.Fatal(err)
	}
	if list.Mode != "poll" || len(list.Processes) != 1 || list.Processes[0].AppState != "foreground" || list.Processes[0].Band != "foreground" {
		t.Errorf("proc.list: %+v; want mode poll and chrome in the foreground", list)
	}

	// The framework reports an associated start of wechat by another app,
	// and a new wechat process appears in procfs: one record.
	writeFixtureProc(t, root, 3400, 610, 10078, 90000, "com.tencent.mm:tools", 905)
	if err := ts.call(t, "proc.report", map[string]any{"uid": 10078, "pid": 3400, "reason": "service", "component": "com.tencent.mm/.ToolsService", "caller": "com.caller.app"}, nil); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, "the associated start to be recorded", func() bool {
		return strings.Contains(string(procHealth(t, ts)["recorded"]), `"associated_start":1`)
	})

	if rec := string(procHealth(t, ts)["recorded"]); rec != `{"associated_start":1}` {
		t.Errorf("recorded %s; want exactly one associated start (procfs's sighting of pid 3400 merged into it)", rec)
	}
	// The ledger holds it, with the caller and both sources.
	var page struct {
		Events []struct {
			Kind     string          `json:"kind"`
			UID      int             `json:"uid"`
			Packages []string        `json:"packages"`
			AppState string          `json:"app_state"`
			Detail   json.RawMessage `json:"detail"`
		} `json:"events"`
	}
	wait.Until(t, "the start in the ledger", func() bool {
		if err := ts.call(t, "ledger.query", map[string]any{"category": "process"}, &page); err != nil {
			t.Fatal(err)
		}
		return len(page.Events) > 0
	})
	ev := page.Events[0]
	wantDetail := `{"caller":"com.caller.app","caller_uid":10050,"component":"com.tencent.mm/.ToolsService","process":"com.tencent.mm:tools","reason":"service","sources":["framework","procfs"]}`
	if len(page.Events) != 1 || ev.Kind != "associated_start" || ev.UID != 10078 || ev.AppState != "background" || string(ev.Detail) != wantDetail {
		t.Errorf("ledger rows: %+v\n detail %s\nwant one associated_start of 10078, background, detail %s", page.Events, ev.Detail, wantDetail)
	}

	// app.state feeds the states other parts read.
	if err := ts.call(t, "app.state", map[string]any{"uid": 10078, "state": "foreground"}, nil); err != nil {
		t.Fatal(err)
	}
	if st := ts.svc.identity.states.AppState(10078); st != "foreground" {
		t.Errorf("after app.state: %q, want foreground", st)
	}
}

func TestProcPartRejectsBadParams(t *testing.T) {
	ts := startTestService(t, testOptions{Root: procRoot(t), Config: map[string]string{ProcessFile: testProcessJSON}})
	cases := []struct {
		method string
		params map[string]any
		field  string
	}{
		{"proc.report", map[string]any{"reason": "service"}, "uid"},
		{"proc.report", map[string]any{"uid": 10078, "reason": "teleport"}, "reason"},
		{"proc.report", map[string]any{"uid": 10078, "reason": "service", "component": "nocls"}, "component"},
		{"proc.report", map[string]any{"uid": 10078, "reason": "service", "caller_uid": -3}, "caller_uid"},
		{"proc.report", map[string]any{"uid": 10078, "reason": "service", "extra": 1}, "extra"},
		{"app.state", map[string]any{"uid": 10078, "state": "asleep"}, "state"},
		{"proc.list", map[string]any{"uid": -1}, "uid"},
	}
	for _, c := range cases {
		err := ts.call(t, c.method, c.params, nil)
		if rpcCode(err) != CodeInvalidParams || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s %v: got %v, want invalid params naming %q", c.method, c.params, err, c.field)
		}
	}
	if err := ts.call(t, "proc.list", map[string]any{"package": "com.none"}, nil); rpcCode(err) != CodeNotFound {
		t.Errorf("proc.list of an unknown package: %v, want not found", err)
	}
}

func TestProcessConfigValidation(t *testing.T) {
	cases := map[string]string{
		`{"mode": "psychic"}`:                    "mode",
		`{"poll_interval": "1ms"}`:               "poll_interval",
		`{"window": "2h"}`:                       "window",
		`{"host_packages": {"abc": ["x.y"]}}`:    "host_packages.abc",
		`{"host_packages": {"1000": ["bad/n"]}}`: "host_packages.1000",
		`{"unknown_field": 1}`:                   "unknown_field",
	}
	for body, field := range cases {
		_, err := processConfig(&Snapshot{Files: map[string][]byte{ProcessFile: []byte(body)}})
		ce, ok := err.(*ConfigError)
		if !ok || ce.File != ProcessFile || !strings.Contains(ce.Field, field) {
			t.Errorf("%s: got %v, want a ConfigError naming %s", body, err, field)
		}
	}
	cfg, err := processConfig(&Snapshot{Files: map[string][]byte{}})
	if err != nil || cfg.Config != process.DefaultConfig() || !cfg.Logd {
		t.Errorf("default config: %+v %v", cfg, err)
	}
}

func TestStartRecordDetailPerKind(t *testing.T) {
	st := process.Start{Kind: process.KindSelf, UID: 10078, PID: 3400, Process: "com.tencent.mm:push", Reason: "broadcast", Caller: "android", CallerUID: 1000, AppState: "not_running", Sources: []string{"logd", "procfs"}}
	r := startRecord(st)
	if r.Kind != "self_start" || r.Category != "process" || r.AppState != "not_running" || r.Result != "" {
		t.Errorf("record: %+v", r)
	}
	if strings.Contains(string(r.Detail), "caller") {
		t.Errorf("a self-start's detail names a caller: %s", r.Detail)
	}
	st.Kind, st.Caller, st.CallerUID, st.Conflict = process.KindAssociated, "com.caller.app", 10050, "reason framework=service logd=broadcast"
	r = startRecord(st)
	want := `{"caller":"com.caller.app","caller_uid":10050,"conflict":"reason framework=service logd=broadcast","process":"com.tencent.mm:push","reason":"broadcast","sources":["logd","procfs"]}`
	if string(r.Detail) != want {
		t.Errorf("associated detail:\n got  %s\n want %s", r.Detail, want)
	}
}

func TestShippedProcessJSONIsValid(t *testing.T) {
	snap := shippedSnapshot(t, ProcessFile)
	cfg, err := processConfig(snap)
	if err != nil {
		t.Fatalf("shipped %s: %v", ProcessFile, err)
	}
	// The shipped file is installed on devices, where packages.list is
	// the identity source: it carries no host map (permd --demo adds one).
	if cfg.Config.Mode != process.ModeAuto || len(cfg.Host) != 0 {
		t.Errorf("shipped config: mode %q, %d host uids; want auto and no host map", cfg.Config.Mode, len(cfg.Host))
	}
}

func TestProcessDeathReachesTheHook(t *testing.T) {
	type death struct{ uid, pid int }
	deaths := make(chan death, 16)
	root := procRoot(t)
	startTestService(t, testOptions{Root: root, Config: map[string]string{ProcessFile: testProcessJSON},
		OnProcessDied: func(uid, pid int) { deaths <- death{uid, pid} }})
	// chrome's only process vanishes: the hook hears pid 3100, then uid 10113 with pid 0.
	if err := os.RemoveAll(filepath.Join(root, "proc", "3100")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []death{{10113, 3100}, {10113, 0}} {
		select {
		case got := <-deaths:
			if got != want {
				t.Errorf("hook called with %+v, want %+v", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("hook not called for %+v", want)
		}
	}
}

func TestDeadProcessEndsItsIndicatorUse(t *testing.T) {
	root := procRoot(t)
	ts := startTestService(t, testOptions{Root: root, Config: map[string]string{ProcessFile: testProcessJSON}})
	var started struct {
		Use int64 `json:"use"`
	}
	if err := ts.call(t, "op.start", map[string]any{"resource": "camera", "uid": 10113, "package": "com.android.chrome", "pid": 3100}, &started); err != nil {
		t.Fatal(err)
	}
	// The process vanishes from /proc: the next rescan reports its death
	// and the use ends as "death" (a second finish says so).
	if err := os.RemoveAll(filepath.Join(root, "proc", "3100")); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, "the indicator to count a use ended by death", func() bool {
		var h struct {
			Parts map[string]map[string]any `json:"parts"`
		}
		if err := ts.call(t, "sys.health", map[string]bool{"detail": true}, &h); err != nil {
			t.Fatal(err)
		}
		n, _ := h.Parts["indicator"]["uses_ended_by_death"].(float64)
		return n == 1
	})
	err := ts.call(t, "op.finish", map[string]any{"use": started.Use}, nil)
	if err == nil || !strings.Contains(err.Error(), "death") {
		t.Errorf("op.finish after the death: %v, want an error saying the use ended by death", err)
	}
}

// TestSelfStartStormCoalesces: the press case of an app self-starting
// about 7,000 times an hour (each time a new pid) must cost at most one
// row per coalescing window (60 in an hour) and keep the exact count.
func TestSelfStartStormCoalesces(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	clk := testclock.New(t0)
	ts := startTestService(t, testOptions{Now: clk.Now})
	const n = 7000
	var recs []ledger.Record
	for i := range n {
		st := process.Start{Kind: process.KindSelf, UID: 10078, PID: 4000 + i, Process: "com.tencent.mm:push",
			Reason: "broadcast", AppState: "not_running", Sources: []string{"procfs"},
			Time: t0.Add(time.Duration(i) * time.Hour / n)}
		recs = append(recs, startRecord(st))
	}
	// Report as the events happen: the clock follows the records. It is
	// set to each batch's first record (the rest are less than a minute
	// ahead, within max_time_ahead): a row sealed because the clock
	// passed the end of its window can then never be one that a record
	// of this batch belongs to, whenever the writer's tick runs.
	for i := 0; i < n; i += 50 {
		batch := recs[i:min(i+50, n)]
		clk.Set(batch[0].Time)
		if err := ts.svc.ledger.l.Append(t.Context(), batch...); err != nil {
			t.Fatal(err)
		}
	}
	page, err := ts.svc.ledger.l.Query(t.Context(), ledger.Filter{Kind: "self_start"}, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, e := range page.Events {
		total += e.Count
	}
	if len(page.Events) > 60 || total != n {
		t.Fatalf("storm of %d self-starts stored as %d rows counting %d; want <= 60 rows counting %d", n, len(page.Events), total, n)
	}
}
