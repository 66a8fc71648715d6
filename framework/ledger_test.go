package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"permd/aosp/etc"
	"permd/aosp/wait"
	"permd/framework/frameworktest/harness"
	"permd/ledger"
)

func TestLedgerReportQueryVerifyOverSocket(t *testing.T) {
	ts := startTestService(t, testOptions{})
	var rep struct {
		Committed int `json:"committed"`
	}
	params := map[string]any{"records": []map[string]any{
		{"uid": 10123, "kind": "access", "category": "location", "op": "android:fine_location", "result": "denied", "app_state": "background"},
		{"uid": 10123, "kind": "associated_start", "category": "process", "app_state": "not_running", "detail": map[string]string{"caller": "com.a", "component": "com.b/.Svc", "reason": "broadcast"}},
	}}
	if err := ts.call(t, "ledger.report", params, &rep); err != nil || rep.Committed != 2 {
		t.Fatalf("report: want committed 2, got %+v, %v", rep, err)
	}
	var page ledger.Page
	if err := ts.call(t, "ledger.query", map[string]any{"uid": 10123}, &page); err != nil || len(page.Events) != 2 {
		t.Fatalf("query: want 2 events, got %+v, %v", page, err)
	}
	var v ledger.VerifyReport
	if err := ts.call(t, "ledger.verify", nil, &v); err != nil || !v.OK || v.Rows != 2 {
		t.Fatalf("verify: want ok over 2 rows, got %+v, %v", v, err)
	}
	shipped, err := fs.ReadFile(etc.Default(), "rules.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ledger.ParseRules(shipped)
	if err != nil {
		t.Fatal(err)
	}
	var rules map[string]any
	if err := ts.call(t, "rules.get", nil, &rules); err != nil || rules["version"] != float64(want.Version) {
		t.Fatalf("rules.get: got version %v, %v; want the shipped %d", rules["version"], err, want.Version)
	}
	for _, tc := range []struct {
		params any
		field  string
	}{
		{map[string]any{"records": []map[string]any{{"kind": "access", "category": "camera", "result": "allowed"}}}, "records[0].uid"},
		{map[string]any{"records": []map[string]any{{"uid": 1, "kind": "access", "category": "telepathy", "result": "allowed"}}}, "records[0].category"},
		{map[string]any{"records": []map[string]any{}}, "records"},
	} {
		err := ts.call(t, "ledger.report", tc.params, nil)
		if rpcCode(err) != CodeInvalidParams || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("report %v: want invalid params naming %s, got %v", tc.params, tc.field, err)
		}
	}
	var h Health
	if err := ts.call(t, "sys.health", map[string]bool{"detail": true}, &h); err != nil {
		t.Fatal(err)
	}
	if m, ok := h.Parts["ledger"].(map[string]any); !ok || m["committed"] != float64(2) {
		t.Errorf("sys.health ledger part: got %v", h.Parts["ledger"])
	}
}

func TestAppReadsOnlyItsOwnRecords(t *testing.T) {
	app := &Call{Actor: Actor{UID: 10123, Role: RoleApp}}
	rp, err := decodeRead(app, json.RawMessage(`{"category":"camera"}`))
	if err != nil || rp.UID == nil || *rp.UID != 10123 {
		t.Fatalf("app without uid filter: want forced uid 10123, got %v, %v", rp.UID, err)
	}
	if _, err := decodeRead(app, json.RawMessage(`{"uid":10200}`)); asRPCError(err).Code != CodePermissionDenied {
		t.Fatalf("app asking for another uid: want permission denied, got %v", err)
	}
	shell := &Call{Actor: Actor{UID: 2000, Role: RoleShell}}
	if rp, err := decodeRead(shell, json.RawMessage(`{}`)); err != nil || rp.UID != nil {
		t.Fatalf("shell: want no uid filter, got %v, %v", rp.UID, err)
	}
}

// TestLedgerSurvivesKill9OfDaemon runs the daemon as a real process,
// reports from several connections, kills it with SIGKILL mid-load,
// restarts it on the same data and checks that every acknowledged record
// is there and the chains verify.
func TestLedgerSurvivesKill9OfDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: -short: runs and kills a daemon process")
	}
	dir := harness.TempDir(t)
	d := startDaemonProc(t, dir)
	var acked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		c := d.dial(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				recs := make([]map[string]any, 100)
				for j := range recs {
					recs[j] = map[string]any{"uid": 10000 + (g*7+j)%60, "kind": "access", "category": []string{"camera", "location", "sms"}[j%3],
						"result": "allowed", "app_state": "background"}
					if j%10 == 0 {
						recs[j] = map[string]any{"uid": 10000 + j, "kind": "clipboard_read", "category": "clipboard", "result": "allowed",
							"detail": map[string]string{"api": fmt.Sprintf("g%d-%d-%d", g, i, j)}}
					}
				}
				if err := c.Call(context.Background(), "ledger.report", map[string]any{"records": recs}, nil); err != nil {
					return // the daemon was killed
				}
				acked.Add(100)
			}
		}()
	}
	wait.Until(t, "5000 acknowledged records", func() bool { return acked.Load() >= 5000 })
	d.kill()
	close(stop)
	wg.Wait()
	want := acked.Load()

	d2 := startDaemonProc(t, dir)
	c := d2.dial(t)
	var v ledger.VerifyReport
	if err := c.Call(context.Background(), "ledger.verify", nil, &v); err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.Open != 0 {
		t.Fatalf("after kill -9 and restart: want ok with every row sealed, got %+v first bad %+v", v, v.FirstBad)
	}
	var sum struct {
		Apps []ledger.SummaryRow `json:"apps"`
	}
	if err := c.Call(context.Background(), "ledger.summary", nil, &sum); err != nil {
		t.Fatal(err)
	}
	var got int64
	for _, a := range sum.Apps {
		got += a.Count
	}
	if got < want {
		t.Fatalf("after kill -9: %d records acknowledged, only %d recorded", want, got)
	}
	t.Logf("%d acknowledged before kill -9, %d recorded, %d rows verify", want, got, v.Sealed)
}

// TestPermissionChecksLandInTheLedger checks that what the grants part
// hands the sink is accepted by the published rules (an invalid record
// would surface as an overload row) and is readable afterwards.
func TestPermissionChecksLandInTheLedger(t *testing.T) {
	ts := startTestService(t, testOptions{})
	for _, cat := range []string{"location", "camera", "contacts"} {
		for _, st := range []string{"foreground", "background"} {
			if err := ts.call(t, "perm.check", map[string]any{"uid": 10123, "package": "com.example.maps", "category": cat, "op": "android:" + cat, "state": st}, nil); err != nil {
				t.Fatalf("perm.check %s %s: %v", cat, st, err)
			}
		}
	}
	var page ledger.Page
	wait.Until(t, "6 access records", func() bool {
		page = ledger.Page{}
		ts.call(t, "ledger.query", map[string]any{"uid": 10123}, &page)
		return len(page.Events) >= 6
	})
	var over ledger.Page
	if err := ts.call(t, "ledger.query", map[string]any{"kind": "overload"}, &over); err != nil || len(over.Events) != 0 {
		t.Fatalf("want no overload rows (every record valid under the rules), got %+v %v", over.Events, err)
	}
	for _, e := range page.Events {
		if e.Kind != "access" || e.Result == "" {
			t.Errorf("unexpected record %+v", e)
		}
	}
}

// TestOversizedReportsRecordNothing sends what the transport must refuse
// before the ledger sees it (a 1 MiB detail, 100k records) and checks the
// error is clear and nothing was recorded.
func TestOversizedReportsRecordNothing(t *testing.T) {
	ts := startTestService(t, testOptions{})
	big := map[string]any{"records": []map[string]any{{"uid": 10123, "kind": "access", "category": "camera", "result": "allowed",
		"detail": map[string]string{"proxy": strings.Repeat("x", 1<<20)}}}}
	many := make([]map[string]any, 100000)
	for i := range many {
		many[i] = map[string]any{"uid": 10123, "kind": "access", "category": "camera", "result": "allowed"}
	}
	for name, params := range map[string]any{"1 MiB detail": big, "100k records": map[string]any{"records": many}} {
		c := ts.dial(t)
		err := c.Call(context.Background(), "ledger.report", params, nil)
		// The daemon answers -32005 and closes; a client still writing
		// the line sees the close instead.
		if err == nil || (rpcCode(err) != CodeTooLarge && !strings.Contains(err.Error(), "broken pipe") && !strings.Contains(err.Error(), "reset")) {
			t.Errorf("%s: want error %d (request too large) or the connection closed, got %v", name, CodeTooLarge, err)
		}
	}
	// Within the line limit but over the rules' record limit.
	some := make([]map[string]any, 1001)
	for i := range some {
		some[i] = map[string]any{"uid": 1, "kind": "access", "category": "camera", "result": "allowed"}
	}
	err := ts.call(t, "ledger.report", map[string]any{"records": some}, nil)
	if rpcCode(err) != CodeInvalidParams || !strings.Contains(err.Error(), "1001 records exceed the limit of 1000") {
		t.Errorf("1001 records: want invalid params naming the limit, got %v", err)
	}
	var page ledger.Page
	if err := ts.call(t, "ledger.query", nil, &page); err != nil || len(page.Events) != 0 {
		t.Fatalf("want nothing recorded, got %d events (%v)", len(page.Events), err)
	}
}
