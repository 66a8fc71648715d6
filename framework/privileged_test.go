package framework

import (
	"encoding/json"
	"permd/aosp/wait"
	"strings"
	"testing"
)

// TestHealthDetailOnlyForPrivilegedRoles: sys.health's detail (grant
// counts, the apps the indicator shows, per-method counts) describes
// every app, so an app, and uid 1000 without the framework's SELinux
// type, get the summary only; the framework, settings, shell and root get
// the detail. Callers are real processes with those uids.
func TestHealthDetailOnlyForPrivilegedRoles(t *testing.T) {
	// The device's table: uid 1000 is the framework only with the
	// system_server type, so a uid 1000 process without it is an app.
	roles := `{"version": 1, "roles": [
	  {"uid": 0, "role": "root"},
	  {"uid": 1000, "context_type": "system_server", "role": "framework"},
	  {"uid": 1011, "role": "settings"},
	  {"uid": 1012, "role": "systemui"},
	  {"uid": 2000, "role": "shell"},
	  {"uid": 1020, "role": "framework"}
	], "limits": {"read_timeout": "300ms", "idle_timeout": "30s"}}`
	ts := startTestService(t, testOptions{Config: map[string]string{MainFile: roles}})
	exe := asOtherUIDs(t, ts)
	// Something daemon-wide to leak: an app's camera in use.
	if err := ts.call(t, "op.start", map[string]any{"resource": "camera", "uid": 10777, "package": "com.secret.cam"}, nil); err != nil {
		t.Fatalf("op.start: %v", err)
	}
	steps := []scriptStep{
		{Method: "sys.health", Params: json.RawMessage(`{"detail": true}`)},
		{Method: "sys.health"},
	}
	for _, tc := range []struct {
		uid    int
		role   Role
		detail bool
	}{
		{10123, RoleApp, false},
		{1000, RoleApp, false},
		{1012, RoleSystemUI, false},
		{1020, RoleFramework, true},
		{1011, RoleSettings, true},
		{2000, RoleShell, true},
	} {
		sc := runScript(t, exe, tc.uid, ts.socket, steps)
		detail, plain := sc.Results[0][0], sc.Results[1][0]
		var h Health
		if plain.Code != 0 || json.Unmarshal(plain.Result, &h) != nil || h.You.Role != tc.role {
			t.Fatalf("uid %d: plain sys.health %+v, want success as %s", tc.uid, plain, tc.role)
		}
		if h.Parts != nil || h.Methods != nil {
			t.Errorf("uid %d: plain sys.health carries detail: %s", tc.uid, plain.Result)
		}
		if tc.detail {
			if detail.Code != 0 || !strings.Contains(string(detail.Result), `"shown_apps"`) || !strings.Contains(string(detail.Result), `"methods"`) {
				t.Errorf("uid %d (%s): detail %+v, want the parts' figures", tc.uid, tc.role, detail)
			}
			continue
		}
		if detail.Code != CodePermissionDenied || strings.Contains(string(detail.Result), "shown_apps") {
			t.Errorf("uid %d (%s): sys.health detail gave code %d %s %s, want permission denied", tc.uid, tc.role, detail.Code, detail.Message, detail.Result)
		}
	}
}

// TestShellIsReadOnlyUnlessWidened: the shell role may read grants but
// not change them, as docs/aosp.md and the sepolicy comments say; a
// widen row in permd.json gives it grants.set and grants.revoke (and
// nothing else), and removing the row takes them away again.
func TestShellIsReadOnlyUnlessWidened(t *testing.T) {
	ts := startTestService(t, testOptions{})
	exe := asOtherUIDs(t, ts)
	set := json.RawMessage(`{"uid": 10123, "package": "com.example.maps", "category": "camera", "time": {"mode": "while_in_use"}}`)
	steps := []scriptStep{
		{Method: "grants.set", Params: set},
		{Method: "grants.revoke", Params: json.RawMessage(`{"package": "com.example.maps", "category": "camera"}`)},
		{Method: "grants.list"},
		{Method: "perm.check", Params: json.RawMessage(`{"uid": 10123, "package": "com.example.maps", "category": "camera"}`)},
	}
	sc := runScript(t, exe, uidShell, ts.socket, steps)
	sc.release()
	if r := sc.Results[0][0]; r.Code != CodePermissionDenied {
		t.Fatalf("shell grants.set by default: %+v, want permission denied", r)
	}
	if r := sc.Results[1][0]; r.Code != CodePermissionDenied {
		t.Fatalf("shell grants.revoke by default: %+v, want permission denied", r)
	}
	if r := sc.Results[2][0]; r.Code != 0 {
		t.Fatalf("shell grants.list: %+v, want allowed", r)
	}

	widened := strings.Replace(testRolesJSON, `"limits"`, `"widen": [{"role": "shell", "methods": ["grants.set", "grants.revoke"]}], "limits"`, 1)
	ts.writeConfig(t, MainFile, widened)
	wait.Until(t, "the widen row applied", func() bool { return ts.svc.config().widens(RoleShell, "grants.set") })
	sc = runScript(t, exe, uidShell, ts.socket, steps)
	sc.release()
	if r := sc.Results[0][0]; r.Code != 0 || !strings.Contains(string(r.Result), `"by":"shell"`) {
		t.Fatalf("widened shell grants.set: %+v, want the grant set by shell", r)
	}
	if r := sc.Results[1][0]; r.Code != 0 {
		t.Fatalf("widened shell grants.revoke: %+v", r)
	}
	if r := sc.Results[3][0]; r.Code != CodePermissionDenied {
		t.Fatalf("widened shell perm.check: %+v, want still denied (only grant management can be widened)", r)
	}

	for _, bad := range []struct{ row, field string }{
		{`{"role": "app", "methods": ["grants.set"]}`, "widen[0].role"},
		{`{"role": "shell", "methods": ["ledger.report"]}`, "widen[0].methods[0]"},
		{`{"role": "shell", "methods": []}`, "widen[0].methods"},
	} {
		cfg := strings.Replace(testRolesJSON, `"limits"`, `"widen": [`+bad.row+`], "limits"`, 1)
		_, err := parseCoreConfig(&Snapshot{Files: map[string][]byte{MainFile: []byte(cfg)}})
		if err == nil || !strings.Contains(err.Error(), "field "+bad.field+":") {
			t.Errorf("widen row %s: got %v, want an error naming %s", bad.row, err, bad.field)
		}
	}
}
