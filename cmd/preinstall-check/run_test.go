package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"permd/aosp/apk"
	"permd/aosp/apk/apktest"
	"permd/aosp/preinstall"
)

func TestMain(m *testing.M) {
	code := m.Run()
	apktest.Cleanup()
	os.Exit(code)
}

func fixedNow() time.Time { return time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) }

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb, fixedNow)
	return code, out.String(), errb.String()
}

func TestInspectInitVerify(t *testing.T) {
	dir := t.TempDir()
	apks := filepath.Join(dir, "product", "app")
	os.MkdirAll(apks, 0o755)
	good := apktest.Build(t, apks, apktest.Opts{Pkg: "com.t.cli", Signers: []string{"rsa"}, V1: true, V2: true, V3: true, Assets: map[string][]byte{"privacy.html": []byte("rules")}})

	code, out, errs := runCLI("inspect", good)
	if code != 0 {
		t.Fatalf("inspect exit %d, stderr %s", code, errs)
	}
	for _, want := range []string{"package:        com.t.cli", "versionCode:    42", "schemes:        v1, v2, v3", "PASS    content digest", "SKIPPED v1 entry digests"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI("inspect", good, "--json")
	var rep apk.Report
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Manifest.Package != "com.t.cli" || len(rep.Signers) != 3 {
		t.Fatalf("inspect --json: exit %d, %+v", code, rep)
	}

	reg := filepath.Join(dir, "registry")
	os.MkdirAll(reg, 0o755)
	tmpl := filepath.Join(reg, "com.t.cli.json")
	if code, _, errs := runCLI("init", good, "-o", tmpl); code != 0 {
		t.Fatalf("init exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI("init", good, "-o", tmpl); code != 1 || !strings.Contains(errs, "exists") {
		t.Errorf("init over an existing file: exit %d, stderr %q; want 1 and a refusal", code, errs)
	}

	// The bare template fails, one line per finding, with a summary.
	code, out, _ = runCLI("verify", "--registry", reg, apks)
	if code != 1 {
		t.Fatalf("verify of an unfilled template: exit %d, want 1\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "FAIL com.t.cli (") || !strings.Contains(l, "; fix: ") {
			t.Errorf("finding line %q lacks package, rule or fix", l)
		}
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "FAIL: 1 APKs, 0 passed, 1 failed") {
		t.Errorf("summary line %q", last)
	}

	// Fill the template in; verify passes.
	b, _ := os.ReadFile(tmpl)
	rec, err := preinstall.DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	rec.Operator = preinstall.Operator{LegalName: "示例科技有限公司", Type: "enterprise", USCC: "91350100M000100Y43", Phone: "13812345678", Email: "privacy@example.com", Address: "福州市"}
	rec.Verification = preinstall.Verification{By: "review team", Date: "2026-05-01", Method: "licence checked", Evidence: "REV-1"}
	rec.PIRules.URL = "https://example.com/privacy"
	rec.AccountDeletion.InApp = "Settings > Account > Delete"
	rec.PIDeletion.URL = "https://example.com/pi/delete"
	b, _ = json.Marshal(rec)
	os.WriteFile(tmpl, b, 0o644)
	code, out, _ = runCLI("verify", "--registry", reg, apks)
	if code != 0 || !strings.Contains(out, "PASS: 1 APKs, 1 passed, 0 failed") {
		t.Fatalf("verify of a filled record: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI("verify", "--json", "--registry", reg, good)
	var res preinstall.Result
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Summary.Passed != 1 || res.Findings[0].Severity != "ok" {
		t.Fatalf("verify --json: exit %d %+v", code, res)
	}
	// Past the review date: fails.
	code, out, _ = runCLI("verify", "--registry", reg, "--today", "2028-01-01", good)
	if code != 1 || !strings.Contains(out, "[review_by]: review date") {
		t.Errorf("verify after review date: exit %d\n%s", code, out)
	}
}

func TestUsage(t *testing.T) {
	cases := [][]string{{}, {"bogus"}, {"inspect"}, {"verify", "x.apk"}, {"verify", "--registry", "r"}, {"init"}, {"inspect", "--nope", "x"}, {"verify", "--registry", "r", "--today", "tomorrow", "x"}}
	for _, args := range cases {
		if code, _, errs := runCLI(args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d stderr %q, want 2 and a message", args, code, errs)
		}
	}
	if code, _, errs := runCLI("inspect", "/nonexistent.apk"); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("missing file: exit %d stderr %q", code, errs)
	}
}
