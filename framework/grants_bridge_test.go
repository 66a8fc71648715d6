package framework

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"permd/aosp/testclock"
	"permd/grants"
)

// TestAndroidRevokedEndsTheGrant: the bridge's report of a revoke done in
// Android ends permd's allow grant, recorded as by android in the
// history and the ledger; a second report finds no grant; a denial is
// left as it is.
func TestAndroidRevokedEndsTheGrant(t *testing.T) {
	clk := testclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	ts := grantsService(t, clk, "")
	c := ts.dial(t)
	const pkg = "com.example.notes"
	mustCall(t, c, "grants.set", map[string]any{"package": pkg, "category": "contacts", "time": map[string]any{"mode": "always"}}, nil)
	mustCall(t, c, "grants.set", map[string]any{"package": pkg, "category": "camera", "decision": "deny"}, nil)

	var out struct{ Revoked *grants.Grant }
	mustCall(t, c, "perm.android_revoked", map[string]any{"package": pkg, "category": "contacts"}, &out)
	if out.Revoked == nil || out.Revoked.Category != "contacts" || out.Revoked.Decision != grants.Allow {
		t.Fatalf("perm.android_revoked returned %+v, want the ended contacts allow grant", out.Revoked)
	}
	var got struct {
		Grant   *grants.Grant
		History []grants.HistoryEntry
	}
	mustCall(t, c, "grants.get", map[string]any{"package": pkg, "category": "contacts"}, &got)
	if got.Grant != nil || len(got.History) != 2 || got.History[1].Action != "revoke" || got.History[1].By != grants.ByAndroid {
		t.Fatalf("grants.get after the report: %+v, want no grant and a last history entry revoke by android", got)
	}
	if err := c.Call(t.Context(), "perm.android_revoked", map[string]any{"package": pkg, "category": "contacts"}, nil); rpcCode(err) != CodeNotFound {
		t.Errorf("second report: %v, want code %d (no grant)", err, CodeNotFound)
	}
	if err := c.Call(t.Context(), "perm.android_revoked", map[string]any{"package": pkg, "category": "camera"}, nil); rpcCode(err) != CodeConflict {
		t.Errorf("report on a denial: %v, want code %d", err, CodeConflict)
	}
	mustCall(t, c, "grants.get", map[string]any{"package": pkg, "category": "camera"}, &got)
	if got.Grant == nil || got.Grant.Decision != grants.Deny {
		t.Errorf("the denial after the report: %+v, want it unchanged", got.Grant)
	}
	if err := c.Call(t.Context(), "perm.android_revoked", map[string]any{"package": pkg, "category": "contacts", "history": 3}, nil); rpcCode(err) != CodeInvalidParams {
		t.Errorf("history on perm.android_revoked: %v, want code %d", err, CodeInvalidParams)
	}

	var changes []string
	for _, r := range ledgerRows(t, ts, "grant_change", 3) {
		var det struct{ By, Reason, Category string }
		json.Unmarshal(r.Detail, &det)
		changes = append(changes, r.Category+"/"+det.Reason+"/"+det.By)
	}
	if want := "[contacts/set/shell camera/set/shell contacts/revoke/android]"; fmt.Sprint(changes) != want {
		t.Errorf("grant_change records %v, want %s", changes, want)
	}
}

// TestLocOffsetIsTheFudgeOffset: loc.offset gives the offset of the
// daemon's fudger, the one loc.fudge uses, stays put within a period, and is refused to framework callers other than
// system_server.
func TestLocOffsetIsTheFudgeOffset(t *testing.T) {
	clk := testclock.New(time.Date(2026, 3, 2, 10, 20, 0, 0, time.UTC))
	ts := grantsService(t, clk, "")
	c := ts.dial(t)
	var off OffsetResult
	mustCall(t, c, "loc.offset", map[string]any{"user": 0}, &off)
	if want := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC).UnixMilli(); off.NextMS != want || off.User != 0 {
		t.Errorf("loc.offset: %+v, want user 0 and next_ms %d (the next hour)", off, want)
	}
	// The offset is the daemon's fudger's, the one loc.fudge uses (that
	// Offset is Fudge's offset is TestOffsetIsWhatFudgeUses in grants).
	if x, y, _ := ts.svc.grants.fudger.Offset(0); x != off.X || y != off.Y {
		t.Errorf("loc.offset gave (%v, %v), the daemon's fudger holds (%v, %v)", off.X, off.Y, x, y)
	}
	clk.Add(10 * time.Minute)
	var again OffsetResult
	mustCall(t, c, "loc.offset", map[string]any{"user": 0}, &again)
	if again != off {
		t.Errorf("within the period the offset moved: %+v then %+v", off, again)
	}
	if err := c.Call(t.Context(), "loc.offset", map[string]any{}, nil); rpcCode(err) != CodeInvalidParams {
		t.Errorf("loc.offset without user: %v, want code %d", err, CodeInvalidParams)
	}

	p := &ts.svc.grants
	for _, tc := range []struct {
		ctx  string
		role Role
		code int
	}{
		{"u:r:system_server:s0", RoleFramework, 0},
		{"u:r:platform_app:s0:c512,c768", RoleFramework, CodePermissionDenied},
		{"", RoleFramework, 0},
		{"", RoleRoot, 0},
	} {
		_, err := p.locOffset(&Call{Actor: Actor{UID: 1000, Context: tc.ctx, Role: tc.role}, Params: json.RawMessage(`{"user":0}`)})
		code := 0
		if e, ok := err.(*Error); ok {
			code = e.Code
		} else if err != nil {
			code = -1
		}
		if code != tc.code {
			t.Errorf("loc.offset as %s %q: code %d (%v), want %d", tc.role, tc.ctx, code, err, tc.code)
		}
	}
}
