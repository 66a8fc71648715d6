package framework

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"permd/aosp/testclock"
	"permd/aosp/wait"
	"permd/framework/frameworktest/harness"
	"permd/grants"
)

// writePackagesList replaces packages.list the way the package manager
// does: a temp file renamed over the old one.
func writePackagesList(t *testing.T, root string, lines ...string) {
	t.Helper()
	dir := filepath.Join(root, "data", "system")
	os.MkdirAll(dir, 0o755)
	body := ""
	for _, l := range lines {
		body += l + " 0 /data/user/0/x default:targetSdkVersion=34 none 0 1 1 @null\n"
	}
	tmp := filepath.Join(dir, "packages.list.tmp")
	if err := os.WriteFile(tmp, []byte(body), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "packages.list")); err != nil {
		t.Fatal(err)
	}
}

// TestUninstallRevokesGrants: with a real packages.list rewritten under
// a running daemon, an uninstalled package loses its grants in every
// user and a package reinstalled under a new uid loses them too, each
// with a grant_change record whose reason says so; the reinstall starts
// with none; other apps keep theirs; and an uninstall while the daemon
// was down is caught at the next start.
func TestUninstallRevokesGrants(t *testing.T) {
	clk := testclock.New(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	root := filepath.Join(harness.TempDir(t), "root")
	data := filepath.Join(t.TempDir(), "data")
	writePackagesList(t, root, "com.example.maps 10123", "com.example.cam 10124", "com.example.keep 10200")
	start := func() *testService {
		return startTestService(t, testOptions{Root: root, Now: clk.Now, Data: data, Config: map[string]string{GrantsFile: grantsUTC}})
	}
	ts := start()
	c := ts.dial(t)
	always := map[string]any{"mode": "always", "background": true}
	for _, g := range []map[string]any{
		{"uid": 10123, "package": "com.example.maps", "category": "location", "time": always},
		{"uid": 1010123, "package": "com.example.maps", "category": "location", "time": always},
		{"uid": 10124, "package": "com.example.cam", "category": "camera", "time": map[string]any{"mode": "while_in_use"}},
		{"uid": 10200, "package": "com.example.keep", "category": "contacts", "time": map[string]any{"mode": "always"}},
	} {
		mustCall(t, c, "grants.set", g, nil)
	}
	check := func(uid int, pkg, cat string) grants.Decision {
		var d grants.Decision
		mustCall(t, c, "perm.check", map[string]any{"uid": uid, "package": pkg, "category": cat, "state": "background"}, &d)
		return d
	}
	if d := check(10123, "com.example.maps", "location"); !d.Allowed {
		t.Fatalf("before the uninstall: %+v, want allowed", d)
	}
	count := func() int {
		var res struct{ Grants []grants.Grant }
		mustCall(t, c, "grants.list", nil, &res)
		return len(res.Grants)
	}

	// maps is uninstalled; cam is removed and installed again (new uid).
	writePackagesList(t, root, "com.example.cam 10300", "com.example.keep 10200")
	wait.Until(t, "the removed apps' grants revoked", func() bool { return count() == 1 })
	rows := ledgerRows(t, ts, "grant_change", 7)
	reasons := map[int]string{}
	for _, r := range rows[4:] {
		var d map[string]any
		json.Unmarshal(r.Detail, &d)
		if d["by"] != grants.ByPackageManager {
			t.Errorf("revocation record %s: by %v, want %s", r.Detail, d["by"], grants.ByPackageManager)
		}
		reasons[r.UID], _ = d["reason"].(string)
	}
	want := map[int]string{10123: grants.ReasonUninstalled, 1010123: grants.ReasonUninstalled, 10124: grants.ReasonUIDChanged}
	for uid, reason := range want {
		if reasons[uid] != reason {
			t.Errorf("grant_change for uid %d: reason %q, want %q (all: %v)", uid, reasons[uid], reason, reasons)
		}
	}
	if d := check(10300, "com.example.cam", "camera"); d.Allowed || d.Reason != "no_grant" {
		t.Errorf("cam reinstalled under 10300: %+v, want no grant", d)
	}
	if d := check(10200, "com.example.keep", "contacts"); !d.Allowed {
		t.Errorf("an app still installed lost its grant: %+v", d)
	}

	// maps comes back under a new uid: it starts with nothing.
	writePackagesList(t, root, "com.example.maps 10400", "com.example.cam 10300", "com.example.keep 10200")
	wait.Until(t, "the reinstall seen", func() bool {
		uid, ok := ts.svc.identity.resolver.UIDOf("com.example.maps", 0)
		return ok && uid == 10400
	})
	if d := check(10400, "com.example.maps", "location"); d.Allowed || d.Reason != "no_grant" {
		t.Errorf("maps reinstalled under 10400: %+v, want no grant", d)
	}

	// A list with a line permd cannot read proves no absence: keep's
	// grant stays while its line is unreadable.
	reloads := ts.svc.identity.pkgs.Reloads()
	writePackagesList(t, root, "com.example.maps 10400", "com.example.cam 10300", "com.example.keep notauid")
	wait.Until(t, "the list with a bad line loaded", func() bool { return ts.svc.identity.pkgs.Reloads() > reloads })
	if n := count(); n != 1 {
		t.Fatalf("after a list with an unreadable line: %d grants, want com.example.keep's 1 kept", n)
	}

	// Uninstalled while permd is down: revoked at the next start.
	c.Close()
	ts.stop(t)
	writePackagesList(t, root, "com.example.maps 10400", "com.example.cam 10300")
	ts = start()
	c = ts.dial(t)
	if n := count(); n != 0 {
		t.Fatalf("after a restart with com.example.keep uninstalled: %d grants left, want 0", n)
	}
	var d map[string]any
	json.Unmarshal(ledgerRows(t, ts, "grant_change", 8)[7].Detail, &d)
	if n := len(ledgerRows(t, ts, "grant_change", 8)); n != 8 {
		t.Errorf("%d grant_change rows, want 8 (4 sets, 4 revocations)", n)
	}
	if d["reason"] != grants.ReasonUninstalled || d["by"] != grants.ByPackageManager {
		t.Errorf("revocation at start recorded as %v", d)
	}
}

// TestRemovedForOneUser: on a multi-user device a package removed for
// one user only stays in packages.list (another user has it); the
// framework reports the removal with app.removed and that user's grants
// end, recorded with the reason, while the other user's stay.
func TestRemovedForOneUser(t *testing.T) {
	root := filepath.Join(harness.TempDir(t), "root")
	writePackagesList(t, root, "com.example.maps 10123")
	ts := startTestService(t, testOptions{Root: root, Config: map[string]string{GrantsFile: grantsUTC}})
	c := ts.dial(t)
	for _, uid := range []int{10123, 1010123} {
		for _, cat := range []string{"location", "camera"} {
			mustCall(t, c, "grants.set", map[string]any{"uid": uid, "package": "com.example.maps", "category": cat, "time": map[string]any{"mode": "while_in_use"}}, nil)
		}
	}
	var res struct {
		Revoked []grants.Grant `json:"revoked"`
	}
	mustCall(t, c, "app.removed", map[string]any{"uid": 1010123, "package": "com.example.maps"}, &res)
	if len(res.Revoked) != 2 {
		t.Fatalf("app.removed for user 10 revoked %+v, want its 2 grants", res.Revoked)
	}
	var list struct{ Grants []grants.Grant }
	mustCall(t, c, "grants.list", nil, &list)
	if len(list.Grants) != 2 || list.Grants[0].User != 0 || list.Grants[1].User != 0 {
		t.Fatalf("after removal for user 10: %+v, want user 0's two grants only", list.Grants)
	}
	rows := ledgerRows(t, ts, "grant_change", 6)
	for _, r := range rows[4:] {
		var d map[string]any
		json.Unmarshal(r.Detail, &d)
		if r.UID != 1010123 || d["reason"] != grants.ReasonUninstalled || d["by"] != grants.ByPackageManager {
			t.Errorf("revocation record uid %d detail %s, want uid 1010123 by package_manager reason uninstalled", r.UID, r.Detail)
		}
	}
	var req grants.RequestResult
	mustCall(t, c, "perm.request", map[string]any{"uid": 1010123, "package": "com.example.maps", "category": "location"}, &req)
	if req.Status != grants.StatusAsk {
		t.Errorf("perm.request after the removal: %+v, want a dialog (no grant)", req.Status)
	}
}
