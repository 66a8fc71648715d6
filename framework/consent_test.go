package framework

import (
	"fmt"
	"testing"
	"time"

	"permd/framework/client"
	"permd/framework/frameworktest/harness"
	"permd/ledger"
)

// countKind sums the events of one kind in the ledger, as a reader sees
// them right now.
func countKind(t *testing.T, c *client.Client, kind string) int64 {
	t.Helper()
	var p ledger.Page
	mustCall(t, c, "ledger.query", map[string]any{"kind": kind, "limit": 1000}, &p)
	var n int64
	for _, e := range p.Events {
		n += e.Count
	}
	return n
}

// TestConsentRecordSurvivesKill9AfterReply: each grants.set,
// perm.decide and grants.revoke is followed at once by kill -9 of the
// daemon. Every acknowledged change is in the grants and its
// grant_change (and grant_decision) record in the ledger, and the chains
// verify.
func TestConsentRecordSurvivesKill9AfterReply(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: -short: runs and kills daemon processes")
	}
	dir := harness.TempDir(t)
	const uid, pkg = 10123, "com.example.maps"
	ops := []struct {
		method string
		params map[string]any
	}{
		{"grants.set", map[string]any{"uid": uid, "package": pkg, "category": "camera", "time": map[string]any{"mode": "while_in_use"}}},
		{"perm.decide", map[string]any{"uid": uid, "package": pkg, "category": "camera", "decision": "allow", "time": map[string]any{"mode": "once"}}},
		{"grants.revoke", map[string]any{"package": pkg, "category": "camera"}},
	}
	const rounds = 2
	var changes, decisions int64
	for range rounds {
		for _, op := range ops {
			d := startDaemonProc(t, dir)
			c := d.dial(t)
			mustCall(t, c, op.method, op.params, nil)
			d.kill() // right after the reply
			changes++
			if op.method == "perm.decide" {
				decisions++
			}
		}
	}
	d := startDaemonProc(t, dir)
	c := d.dial(t)
	if got := countKind(t, c, "grant_change"); got != changes {
		t.Errorf("after kill -9 right after each reply: want %d grant_change records, got %d", changes, got)
	}
	if got := countKind(t, c, "grant_decision"); got != decisions {
		t.Errorf("want %d grant_decision records, got %d", decisions, got)
	}
	var got struct {
		History []map[string]any `json:"history"`
	}
	mustCall(t, c, "grants.get", map[string]any{"package": pkg, "category": "camera"}, &got)
	if int64(len(got.History)) != changes {
		t.Errorf("want %d changes in the grant's history, got %d", changes, len(got.History))
	}
	var v ledger.VerifyReport
	mustCall(t, c, "ledger.verify", nil, &v)
	if !v.OK {
		t.Fatalf("verify after the kills: %+v", v.Problems)
	}
}

// TestReadYourWrites: a query right after an acknowledged grant change,
// or right after a perm.check answered on the hot path, sees its record.
func TestReadYourWrites(t *testing.T) {
	ts := startTestService(t, testOptions{})
	c := ts.dial(t)
	const uid, pkg = 10123, "com.example.maps"
	for i := range 20 {
		mustCall(t, c, "grants.set", map[string]any{"uid": uid, "package": pkg, "category": "camera",
			"time": map[string]any{"mode": "while_in_use"}, "frequency": map[string]any{"max": 1000 + i, "per": "day"}}, nil)
		if got := countKind(t, c, "grant_change"); got != int64(i+1) {
			t.Fatalf("trial %d: right after grants.set: want %d grant_change records, got %d", i, i+1, got)
		}
		mustCall(t, c, "perm.check", map[string]any{"uid": uid, "package": pkg, "category": "location", "op": fmt.Sprintf("android:op%d", i)}, nil)
		if got := countKind(t, c, "access"); got != int64(i+1) {
			t.Fatalf("trial %d: right after perm.check: want %d access records, got %d", i, i+1, got)
		}
	}
}

// TestFrequencyCapHoldsAcrossKill9: a 3-per-hour grant answers at most 3
// allowed checks in the hour, however the daemon is killed: here kill -9
// right after every answer.
func TestFrequencyCapHoldsAcrossKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: -short: runs and kills daemon processes")
	}
	const uid, pkg, limit, checks = 10123, "com.example.maps", 3, 6
	for attempt := 0; ; attempt++ {
		hour := time.Now().Truncate(time.Hour)
		dir := harness.TempDir(t)
		d := startDaemonProc(t, dir)
		mustCall(t, d.dial(t), "grants.set", map[string]any{"uid": uid, "package": pkg, "category": "camera",
			"time": map[string]any{"mode": "while_in_use"}, "frequency": map[string]any{"max": limit, "per": "hour"}}, nil)
		d.kill()
		allowed := 0
		for range checks {
			d := startDaemonProc(t, dir)
			var dec struct {
				Allowed bool   `json:"allowed"`
				Result  string `json:"result"`
			}
			mustCall(t, d.dial(t), "perm.check", map[string]any{"uid": uid, "package": pkg, "category": "camera", "state": "foreground"}, &dec)
			d.kill() // right after the answer
			if dec.Allowed {
				allowed++
			}
		}
		if !time.Now().Truncate(time.Hour).Equal(hour) && attempt == 0 {
			continue // the hour's window turned during the run: the cap restarted
		}
		if allowed != limit {
			t.Fatalf("a %d/hour grant with kill -9 after each of %d checks: want %d allowed, got %d", limit, checks, limit, allowed)
		}
		return
	}
}
