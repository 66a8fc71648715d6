package framework

import (
	"encoding/json"
	"strings"
	"testing"

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
	var rules map[string]any
	if err := ts.call(t, "rules.get", nil, &rules); err != nil || rules["version"] != float64(1) {
		t.Fatalf("rules.get: got %v, %v", rules["version"], err)
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
	if err := ts.call(t, "sys.health", nil, &h); err != nil {
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
