package framework

import (
	"context"
	"encoding/json"
	"errors"
	"permd/aosp/wait"
	"sync"
	"testing"
	"time"
)

type policyMsg struct {
	Seq     uint64           `json:"seq"`
	Set     *json.RawMessage `json:"set"`
	Removed *struct {
		Package  string `json:"package"`
		Category string `json:"category"`
		Version  int64  `json:"version"`
		Action   string `json:"action"`
	} `json:"removed"`
	Snapshot *policySnapshot `json:"snapshot"`
}

// TestPolicyStreamSnapshotThenChanges subscribes, then sets, replaces and
// revokes a grant: the reply holds the grants and levels, and each change
// arrives once with the next seq.
func TestPolicyStreamSnapshotThenChanges(t *testing.T) {
	ts := startTestService(t, testOptions{Config: map[string]string{"grants.json": `{"version":1,"time_zone":"Asia/Shanghai"}`}})
	setGrant := func(body string) {
		t.Helper()
		var out any
		if err := ts.call(t, "grants.set", json.RawMessage(body), &out); err != nil {
			t.Fatalf("grants.set %s: %v", body, err)
		}
	}
	setGrant(`{"package":"com.example.maps","category":"location","time":{"mode":"while_in_use"}}`)

	c := ts.dial(t)
	msgs := make(chan policyMsg, 64)
	go func() {
		for n := range c.Notifications() {
			if n.Method != "policy.changed" {
				continue
			}
			var m policyMsg
			if err := json.Unmarshal(n.Params, &m); err != nil {
				t.Errorf("policy.changed %s: %v", n.Params, err)
				continue
			}
			msgs <- m
		}
	}()
	var snap policySnapshot
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Call(ctx, "policy.subscribe", nil, &snap); err != nil {
		t.Fatalf("policy.subscribe: %v", err)
	}
	if snap.TimeZone != "Asia/Shanghai" || len(snap.Grants) != 1 || snap.Grants[0].Package != "com.example.maps" {
		t.Fatalf("snapshot = zone %q grants %+v; want Asia/Shanghai and the maps grant", snap.TimeZone, snap.Grants)
	}
	var loc *policyCategory
	for i := range snap.Categories {
		if snap.Categories[i].ID == "location" {
			loc = &snap.Categories[i]
		}
	}
	if loc == nil || len(loc.Levels) < 2 || loc.DefaultLevel == "" {
		t.Fatalf("snapshot categories lack location levels: %+v", snap.Categories)
	}

	setGrant(`{"package":"com.example.maps","category":"location","time":{"mode":"always","background":true}}`)
	setGrant(`{"package":"com.example.cam","category":"camera","decision":"deny"}`)
	if err := ts.call(t, "grants.revoke", map[string]any{"package": "com.example.maps", "category": "location"}, nil); err != nil {
		t.Fatalf("grants.revoke: %v", err)
	}
	want := snap.Seq
	for i, kind := range []string{"set", "set", "removed"} {
		select {
		case m := <-msgs:
			want++
			if m.Seq != want {
				t.Fatalf("change %d: seq %d, want %d", i, m.Seq, want)
			}
			if (kind == "set") != (m.Set != nil) || (kind == "removed") != (m.Removed != nil) {
				t.Fatalf("change %d: %+v, want a %s", i, m, kind)
			}
			if kind == "removed" && (m.Removed.Package != "com.example.maps" || m.Removed.Action != "revoke" || m.Removed.Version != 2) {
				t.Fatalf("removal = %+v, want maps location version 2 revoked", m.Removed)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out waiting for change %d (%s)", i, kind)
		}
	}
}

// TestPolicyStreamRoles: only framework and root may stream the policy.
func TestPolicyStreamRoles(t *testing.T) {
	ts := startTestService(t, testOptions{})
	m, ok := ts.svc.server.methods["policy.subscribe"]
	if !ok {
		t.Fatal("policy.subscribe is not in the method table")
	}
	for _, r := range AllRoles {
		want := r == RoleFramework || r == RoleRoot
		if m.Allows(r) != want {
			t.Errorf("policy.subscribe allows %s = %v, want %v", r, m.Allows(r), want)
		}
	}
}

// TestPolicyStreamFullQueueGetsASnapshotNotAGap: while a subscriber's
// queue refuses notifications, changes are not lost silently: the next
// notification it gets is a whole snapshot with the latest seq, and
// deltas resume from there without a gap.
func TestPolicyStreamFullQueueGetsASnapshotNotAGap(t *testing.T) {
	ts := startTestService(t, testOptions{})
	var mu sync.Mutex
	full := true
	var got []policyMsg
	done := make(chan struct{})
	defer close(done)
	call := &Call{Done: done, Notify: func(method string, params any) error {
		mu.Lock()
		defer mu.Unlock()
		if full {
			return errors.New("queue full")
		}
		b, err := json.Marshal(params)
		if err != nil {
			return err
		}
		var m policyMsg
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		got = append(got, m)
		return nil
	}}
	res, err := ts.svc.grants.feed.subscribe(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	base := res.(policySnapshot).Seq
	for _, pkg := range []string{"com.a.one", "com.a.two", "com.a.three"} {
		if err := ts.call(t, "grants.set", map[string]any{"package": pkg, "category": "camera", "time": map[string]any{"mode": "while_in_use"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	full = false
	mu.Unlock()
	wait.Until(t, "a snapshot after the queue drained", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	})
	if err := ts.call(t, "grants.revoke", map[string]any{"package": "com.a.one", "category": "camera"}, nil); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, "the revoke", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 2
	})
	mu.Lock()
	defer mu.Unlock()
	first := got[0]
	if first.Snapshot == nil || first.Seq != base+3 || len(first.Snapshot.Grants) != 3 {
		t.Fatalf("first notification after the full queue = %+v, want a snapshot at seq %d with 3 grants", first, base+3)
	}
	if next := got[1]; next.Removed == nil || next.Seq != first.Seq+1 {
		t.Fatalf("after the snapshot: %+v, want the revoke at seq %d", next, first.Seq+1)
	}
}
