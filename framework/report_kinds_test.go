package framework

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"permd/framework/client"
	"permd/ledger"
)

// TestReportRefusesDaemonKinds: a reporter (here root, which may call
// ledger.report) cannot write records of the kinds only permd writes;
// the whole report is refused naming the record's kind, nothing of it is
// stored, and kinds a reporter observes itself are still accepted.
func TestReportRefusesDaemonKinds(t *testing.T) {
	ts := startTestService(t, testOptions{})
	good := map[string]any{"uid": 10123, "kind": "clipboard_read", "category": "clipboard", "result": "allowed", "detail": map[string]string{"api": "getPrimaryClip"}}
	for _, bad := range []map[string]any{
		{"uid": 10123, "kind": "grant_change", "category": "camera", "detail": map[string]string{"by": "dialog", "to": "com.a camera: allow always, full"}},
		{"uid": 10123, "kind": "grant_decision", "category": "camera", "result": "allowed", "detail": map[string]string{"option": "always"}},
		{"uid": 0, "kind": "overload", "category": "system", "detail": map[string]any{"dropped": 5, "reason": "queue_full"}},
		{"uid": 10123, "kind": "preinstall_finding", "category": "preinstall", "result": "ok", "detail": map[string]string{"check": "all"}},
		{"uid": 10123, "kind": "indicator", "category": "camera", "detail": map[string]any{"duration_ms": 5000, "resource": "camera"}},
	} {
		err := ts.call(t, "ledger.report", map[string]any{"records": []any{good, bad}}, nil)
		var re *client.RPCError
		if !errors.As(err, &re) || re.Code != CodeInvalidParams {
			t.Fatalf("report of a %s record: got %v, want invalid params", bad["kind"], err)
		}
		var data map[string]string
		json.Unmarshal(re.Data, &data)
		if data["field"] != "records[1].kind" || !strings.Contains(re.Message, "only by permd") {
			t.Errorf("report of a %s record: error %q data %v, want field records[1].kind saying only permd writes it", bad["kind"], re.Message, data)
		}
	}
	var page ledger.Page
	if err := ts.call(t, "ledger.query", nil, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 0 {
		t.Fatalf("refused reports left %d rows: %+v", len(page.Events), page.Events)
	}
	span := map[string]any{"uid": 10123, "kind": "span", "category": "contacts", "result": "allowed", "detail": map[string]any{"duration_ms": 1200, "attribution_tag": "sync"}}
	if err := ts.call(t, "ledger.report", map[string]any{"records": []any{good, span}}, nil); err != nil {
		t.Fatalf("report of observed kinds (clipboard_read, span): %v", err)
	}
}

// TestLostIsRecordedByPermd: a reporter's own losses reach the record
// through ledger.lost as an overload row permd writes, naming the
// reporter as the daemon saw it; bad counts and reasons name the field.
func TestLostIsRecordedByPermd(t *testing.T) {
	ts := startTestService(t, testOptions{})
	var got map[string]int64
	if err := ts.call(t, "ledger.lost", map[string]any{"dropped": 3, "reason": "client buffer full while permd was unreachable"}, &got); err != nil {
		t.Fatal(err)
	}
	if got["recorded"] != 3 {
		t.Errorf("ledger.lost reply %v, want recorded 3", got)
	}
	var page ledger.Page
	if err := ts.call(t, "ledger.query", map[string]string{"kind": "overload"}, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 {
		t.Fatalf("overload rows after ledger.lost: %+v, want 1", page.Events)
	}
	var d struct {
		Dropped int64  `json:"dropped"`
		Reason  string `json:"reason"`
	}
	json.Unmarshal(page.Events[0].Detail, &d)
	if d.Dropped != 3 || !strings.Contains(d.Reason, "client buffer full") || !strings.Contains(d.Reason, "reported by uid 0, role root") {
		t.Errorf("overload row detail %+v: want the count, the reason and the reporter as permd saw it", d)
	}
	for _, tc := range []struct {
		params map[string]any
		field  string
	}{
		{map[string]any{"reason": "x"}, "dropped"},
		{map[string]any{"dropped": 0, "reason": "x"}, "dropped"},
		{map[string]any{"dropped": 1}, "reason"},
		{map[string]any{"dropped": 1, "reason": strings.Repeat("x", maxLostReason+1)}, "reason"},
	} {
		err := ts.call(t, "ledger.lost", tc.params, nil)
		var re *client.RPCError
		var data map[string]string
		if errors.As(err, &re) {
			json.Unmarshal(re.Data, &data)
		}
		if re == nil || re.Code != CodeInvalidParams || data["field"] != tc.field {
			t.Errorf("ledger.lost %v: %v, want invalid params naming %s", tc.params, err, tc.field)
		}
	}
}
