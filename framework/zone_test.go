package framework

import (
	"strings"
	"testing"
	"time"

	"permd/aosp/testclock"
	"permd/grants"
)

// TestDeviceZoneFollowedWithoutRestart: the daemon starts in the zone
// init passes (Asia/Shanghai) and serves a 22:00-06:00 window by that
// wall clock; the framework pushes a zone change (time.zone) during the
// window and the next check reads the new zone's clock; nothing is lost
// or restarted: the grant, its history and the connection stay.
func TestDeviceZoneFollowedWithoutRestart(t *testing.T) {
	clk := testclock.New(time.Date(2026, 6, 1, 14, 30, 0, 0, time.UTC)) // 22:30 in Shanghai
	ts := startTestService(t, testOptions{Now: clk.Now, Zone: "Asia/Shanghai", Config: map[string]string{GrantsFile: grantsUTC}})
	c := ts.dial(t)
	var z map[string]string
	mustCall(t, c, "time.zone", nil, &z)
	if z["zone"] != "Asia/Shanghai" {
		t.Fatalf("zone at start: %v, want Asia/Shanghai from the start option (over grants.json's UTC)", z)
	}
	mustCall(t, c, "grants.set", map[string]any{"uid": 10123, "package": "com.example.maps", "category": "location",
		"time": map[string]any{"mode": "window", "window": "22:00-06:00", "background": true}}, nil)
	check := func() grants.Decision {
		var d grants.Decision
		mustCall(t, c, "perm.check", map[string]any{"uid": 10123, "package": "com.example.maps", "category": "location", "state": "background"}, &d)
		return d
	}
	if d := check(); !d.Allowed {
		t.Fatalf("22:30 Shanghai: %+v, want allowed", d)
	}
	mustCall(t, c, "time.zone", map[string]any{"zone": "Europe/Berlin"}, &z)
	if z["zone"] != "Europe/Berlin" || z["previous"] != "Asia/Shanghai" {
		t.Fatalf("time.zone reply %v", z)
	}
	if d := check(); d.Allowed || d.Reason != "outside_window" {
		t.Fatalf("16:30 Berlin: %+v, want outside_window", d)
	}
	clk.Add(6 * time.Hour)
	if d := check(); !d.Allowed {
		t.Fatalf("22:30 Berlin: %+v, want allowed", d)
	}
	err := c.Call(t.Context(), "time.zone", map[string]any{"zone": "Mars/Olympus"}, nil)
	if rpcCode(err) != CodeInvalidParams || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Fatalf("unknown zone: %v, want invalid params naming it", err)
	}
	var res struct {
		Grant   *grants.Grant         `json:"grant"`
		History []grants.HistoryEntry `json:"history"`
	}
	mustCall(t, c, "grants.get", map[string]any{"package": "com.example.maps", "category": "location"}, &res)
	if res.Grant == nil || len(res.History) != 1 {
		t.Fatalf("after zone changes: %+v, want the grant with its one history entry", res)
	}
}
