package framework

import (
	"encoding/json"
	"testing"
	"time"

	"permd/framework/client"
	"permd/framework/frameworktest/harness"
	"permd/ledger"
)

// recordsOf returns the ledger's records of one kind with their detail.
func recordsOf(t *testing.T, c *client.Client, kind string) []map[string]any {
	t.Helper()
	var p ledger.Page
	mustCall(t, c, "ledger.query", map[string]any{"kind": kind, "limit": 1000}, &p)
	var out []map[string]any
	for _, e := range p.Events {
		m := map[string]any{}
		json.Unmarshal(e.Detail, &m)
		m["_time_ms"], m["_uid"], m["_category"] = float64(e.Time), float64(e.UID), e.Category
		out = append(out, m)
	}
	return out
}

// TestUseInProgressSurvivesKill9: a camera use in progress when the
// daemon is killed is recorded after the restart, its span and its shown
// span, with reason daemon_restart and bounds that contain the truth; a
// use that finished before the kill is recorded once, as finished.
func TestUseInProgressSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: -short: runs and kills daemon processes")
	}
	dir := harness.TempDir(t)
	d := startDaemonProc(t, dir)
	c := d.dial(t)
	var done started
	mustCall(t, c, "op.start", map[string]any{"resource": "microphone", "uid": 10200, "package": "com.example.rec", "op": "android:record_audio"}, &done)
	mustCall(t, c, "op.finish", map[string]any{"use": done.Use}, nil)
	before := time.Now()
	var st started
	mustCall(t, c, "op.start", map[string]any{"resource": "camera", "uid": 10123, "package": "com.example.cam", "op": "android:camera"}, &st)
	d.kill() // right after the reply
	killed := time.Now()

	d2 := startDaemonProc(t, dir)
	c2 := d2.dial(t)
	restarted := time.Now()
	var spans []map[string]any
	for _, m := range recordsOf(t, c2, "span") {
		if m["_category"] == "camera" {
			spans = append(spans, m)
		}
	}
	if len(spans) != 1 || spans[0]["reason"] != ledger.ReasonDaemonRestart {
		t.Fatalf("the camera use in progress at kill -9: want one span with reason %s, got %v", ledger.ReasonDaemonRestart, spans)
	}
	sp := spans[0]
	start := time.UnixMilli(int64(sp["_time_ms"].(float64)))
	lo, hi := time.Duration(sp["duration_ms"].(float64))*time.Millisecond, time.Duration(sp["max_duration_ms"].(float64))*time.Millisecond
	if start.Before(before.Add(-time.Second)) || start.After(killed) {
		t.Errorf("span starts at %v, want between op.start (%v) and the kill (%v)", start, before, killed)
	}
	// The truth: the use lasted from start until the kill.
	if truth := killed.Sub(start); lo > truth || hi < truth || hi > restarted.Sub(start)+time.Second {
		t.Errorf("duration bounds [%v, %v] must contain the use's real length %v and end by the restart", lo, hi, truth)
	}
	var shown []map[string]any
	for _, m := range recordsOf(t, c2, "indicator") {
		if m["resource"] == "camera" {
			shown = append(shown, m)
		}
	}
	if len(shown) != 1 || shown[0]["reason"] != ledger.ReasonDaemonRestart || shown[0]["package"] != "com.example.cam" {
		t.Errorf("want the camera's shown span recorded with reason %s, got %v", ledger.ReasonDaemonRestart, shown)
	}
	var mic []map[string]any
	for _, m := range recordsOf(t, c2, "span") {
		if m["_category"] == "microphone" {
			mic = append(mic, m)
		}
	}
	if len(mic) != 1 || mic[0]["reason"] != "finish" {
		t.Errorf("the finished use: want one span, reason finish, got %v", mic)
	}
	var snap snapshotMsg
	mustCall(t, c2, "indicator.get", nil, &snap)
	if snap.on("camera") {
		t.Errorf("after the restart the camera must not show as in use: %+v", snap)
	}
	var v ledger.VerifyReport
	mustCall(t, c2, "ledger.verify", nil, &v)
	if !v.OK {
		t.Fatalf("verify: %+v", v.Problems)
	}
	// Nothing is recorded twice at the next restart.
	d2.kill()
	c3 := startDaemonProc(t, dir).dial(t)
	if n := len(recordsOf(t, c3, "span")); n != 2 {
		t.Errorf("after a second restart: want the same 2 spans, got %d", n)
	}
}
