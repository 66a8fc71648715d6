package framework

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"permd/aosp/apk"
	"permd/aosp/apk/apktest"
	"permd/aosp/preinstall"
	"permd/aosp/wait"
	"permd/ledger"
)

// demoRecord is a complete registry record for pkg signed by sha.
func demoRecord(pkg, sha string) string {
	rec := preinstall.Record{
		Version: 1, Package: pkg, SignerSHA256: []string{sha},
		Operator: preinstall.Operator{LegalName: "示例科技有限公司", Type: "enterprise", USCC: "91350100M000100Y43",
			Phone: "0591-87654321", Email: "privacy@example.com", Address: "福州市鼓楼区示例路1号"},
		Verification:    preinstall.Verification{By: "review team", Date: "2026-01-10", Method: "licence checked", Evidence: "REV-1"},
		PIRules:         preinstall.PIRules{URL: "https://example.com/privacy", Copy: "apk:assets/privacy.html"},
		AccountDeletion: preinstall.AccountDeletion{InApp: "Me > Settings > Delete account"},
		PIDeletion:      preinstall.PIDeletion{InApp: "Me > Settings > Delete my data"},
		Registered:      "2026-01-10", ReviewBy: "2099-01-10",
	}
	b, _ := json.Marshal(rec)
	return string(b)
}

func preinstallStatus(t *testing.T, ts *testService, params any) PreinstallStatus {
	t.Helper()
	var st PreinstallStatus
	if err := ts.call(t, "preinstall.status", params, &st); err != nil {
		t.Fatalf("preinstall.status: %v", err)
	}
	return st
}

func preinstallRows(t *testing.T, ts *testService) []ledger.Event {
	t.Helper()
	var page ledger.Page
	if err := ts.call(t, "ledger.query", map[string]any{"kind": "preinstall_finding"}, &page); err != nil {
		t.Fatalf("ledger.query: %v", err)
	}
	return page.Events
}

func TestPreinstallAudit(t *testing.T) {
	t.Cleanup(apktest.Cleanup)
	root := t.TempDir()
	good := filepath.Join(root, "system", "app", "Demo")
	os.MkdirAll(good, 0o755)
	os.MkdirAll(filepath.Join(root, "product", "app"), 0o755)
	p := apktest.Build(t, good, apktest.Opts{Pkg: "com.example.demo", Signers: []string{"rsa"}, V2: true, V3: true, Assets: map[string][]byte{"privacy.html": []byte("rules")}})
	rep, err := apk.Inspect(p, apk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sha := rep.SignerCerts()[0]
	ts := startTestService(t, testOptions{Root: root, Config: map[string]string{"preinstall/demo.json": demoRecord("com.example.demo", sha)}})

	var st PreinstallStatus
	wait.Until(t, "first scan", func() bool { st = preinstallStatus(t, ts, nil); return st.State == "done" })
	if st.Summary.APKs != 1 || st.Summary.Passed != 1 || len(st.Findings) != 1 || st.Findings[0].Severity != "ok" || st.Registry.Records != 1 {
		t.Fatalf("status after boot scan: %+v", st)
	}
	wait.Until(t, "ok finding in the ledger", func() bool { return len(preinstallRows(t, ts)) == 1 })
	row := preinstallRows(t, ts)[0]
	var detail map[string]string
	json.Unmarshal(row.Detail, &detail)
	if row.Result != "ok" || row.Category != "preinstall" || detail["package"] != "com.example.demo" || detail["path"] != "/system/app/Demo/com.example.demo.apk" || detail["partition"] != "system" || detail["check"] != "all" {
		t.Errorf("ledger row %+v detail %v", row, detail)
	}

	// An unregistered app appears in /product/app: rescan, fail recorded.
	// The APK is built outside the watched tree and its folder renamed in,
	// as a partition's content appears whole: a scan that raced the build
	// would see a half-written zip and its finding would not be this one.
	staging := filepath.Join(root, "staging", "Rogue")
	os.MkdirAll(staging, 0o755)
	apktest.Build(t, staging, apktest.Opts{Pkg: "com.rogue", Signers: []string{"ec"}, V2: true})
	if err := os.Rename(staging, filepath.Join(root, "product", "app", "Rogue")); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, "rescan after a new app folder", func() bool {
		st = preinstallStatus(t, ts, map[string]any{"severity": "fail"})
		return st.Summary.APKs == 2 && len(st.Findings) > 0
	})
	if f := st.Findings[0]; f.Package != "com.rogue" || f.Rule != preinstall.RuleRegistered || f.Fix == "" {
		t.Errorf("finding for the rogue app: %+v", f)
	}
	wait.Until(t, "fail finding in the ledger", func() bool {
		for _, r := range preinstallRows(t, ts) {
			if r.Result == "fail" && strings.Contains(string(r.Detail), "com.rogue") {
				return true
			}
		}
		return false
	})
	before := len(preinstallRows(t, ts))

	// The registry changes: the demo record's review date passes.
	ts.writeConfig(t, "preinstall/demo.json", strings.Replace(demoRecord("com.example.demo", sha), "2099-01-10", "2026-01-11", 1))
	wait.Until(t, "rescan after a registry change", func() bool {
		st = preinstallStatus(t, ts, map[string]any{"package": "com.example.demo"})
		return len(st.Findings) == 1 && st.Findings[0].Rule == preinstall.RuleReview
	})
	wait.Until(t, "only the changed finding recorded", func() bool { return len(preinstallRows(t, ts)) == before+1 })

	// A registry file that does not decode is rejected; the old one stays.
	ts.writeConfig(t, "preinstall/broken.json", `{"version": 1, "package": "x", "operater": {}}`)
	wait.Until(t, "reload rejected", func() bool { return strings.Contains(ts.logs.String(), `operater`) })
	if st = preinstallStatus(t, ts, nil); st.Registry.Records != 1 {
		t.Errorf("registry after a bad file: %d records, want the old 1", st.Registry.Records)
	}

	// Bad params name the field.
	if err := ts.call(t, "preinstall.status", map[string]any{"severity": "fatal"}, nil); rpcCode(err) != CodeInvalidParams || !strings.Contains(err.Error(), "severity") {
		t.Errorf("bad severity: %v", err)
	}
	if err := ts.call(t, "preinstall.status", map[string]any{"pkg": "x"}, nil); rpcCode(err) != CodeInvalidParams {
		t.Errorf("unknown param: %v", err)
	}
	var h Health
	if err := ts.call(t, "sys.health", map[string]bool{"detail": true}, &h); err != nil {
		t.Fatal(err)
	}
	if m, ok := h.Parts["preinstall"].(map[string]any); !ok || m["apks"] != float64(2) {
		t.Errorf("sys.health preinstall part: %v", h.Parts["preinstall"])
	}
}

func TestPreinstallStatusRoles(t *testing.T) {
	var m Method
	for _, x := range (&preinstallPart{}).methods(nil) {
		if x.Name == "preinstall.status" {
			m = x
		}
	}
	for _, r := range []Role{RoleSettings, RoleShell, RoleRoot, RoleFramework} {
		if !m.Allows(r) {
			t.Errorf("preinstall.status does not allow %s", r)
		}
	}
	for _, r := range []Role{RoleApp, RoleSystemUI, RolePermissionUI} {
		if m.Allows(r) {
			t.Errorf("preinstall.status allows %s", r)
		}
	}
}

func TestPreinstallNoAppFolders(t *testing.T) {
	ts := startTestService(t, testOptions{})
	var st PreinstallStatus
	wait.Until(t, "scan", func() bool { st = preinstallStatus(t, ts, nil); return st.State == "done" })
	if st.Summary.APKs != 0 || len(st.Roots) != 0 || len(st.Findings) != 0 {
		t.Errorf("empty root: %+v", st)
	}
}
