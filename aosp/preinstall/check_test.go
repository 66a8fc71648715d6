package preinstall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"permd/aosp/apk/apktest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	apktest.Cleanup()
	if bench != nil {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

var today = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// goodRecord is a complete, valid record for pkg signed by sha.
func goodRecord(pkg, sha string) *Record {
	return &Record{
		Version:      1,
		Package:      pkg,
		SignerSHA256: []string{strings.ToUpper(sha)},
		Operator: Operator{
			LegalName: "示例科技有限公司", Type: "enterprise", USCC: "91350100M000100Y43",
			Phone: "0591-87654321", Email: "privacy@example.com", Address: "福建省福州市鼓楼区示例路1号",
		},
		Verification:    Verification{By: "app review team", Date: "2026-01-10", Method: "business licence checked in the national credit system; phone and e-mail answered", Evidence: "REV-2026-0042"},
		PIRules:         PIRules{URL: "https://example.com/privacy", Copy: "apk:assets/privacy.html"},
		AccountDeletion: AccountDeletion{InApp: "Me > Settings > Account > Delete account", URL: "https://example.com/account/delete"},
		PIDeletion:      PIDeletion{InApp: "Me > Settings > Privacy > Delete my data"},
		Registered:      "2026-01-10",
		ReviewBy:        "2027-01-10",
	}
}

func registryOf(t *testing.T, recs ...*Record) *Registry {
	t.Helper()
	files := map[string][]byte{}
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		files[r.Package+".json"] = b
	}
	reg := Load(files)
	if len(reg.Problems) > 0 {
		t.Fatalf("registry problems: %v", reg.Problems)
	}
	return reg
}

func rules(fs []Finding, sev string) []string {
	var out []string
	for _, f := range fs {
		if f.Severity == sev {
			out = append(out, f.Rule)
		}
	}
	return out
}

func TestCheckRealAPKs(t *testing.T) {
	dir := t.TempDir()
	keys := apktest.Keys(t)
	good := apktest.Build(t, dir, apktest.Opts{Pkg: "com.t.good", Signers: []string{"rsa"}, V2: true, V3: true, Assets: map[string][]byte{"privacy.html": []byte("<h1>PI rules</h1>")}})
	if keys["rsa"].Cert == "" {
		t.Fatal("no rsa test key")
	}
	c0 := &Checker{Registry: registryOf(t), Now: today}
	_, r := c0.CheckAPK(good)
	if r == nil || len(r.SignerCerts()) != 1 {
		t.Fatalf("inspect good APK: %+v", r)
	}
	sha := r.SignerCerts()[0]
	rec := goodRecord("com.t.good", sha)
	c := &Checker{Registry: registryOf(t, rec), Now: today}

	fs, _ := c.CheckAPK(good)
	if len(fs) != 1 || fs[0].Severity != SevOK {
		t.Fatalf("good APK: findings %v, want one ok", fs)
	}

	// Signed by another key.
	other := apktest.Build(t, t.TempDir(), apktest.Opts{Pkg: "com.t.good", Signers: []string{"ec"}, V2: true, Assets: map[string][]byte{"privacy.html": []byte("x")}})
	fs, _ = c.CheckAPK(other)
	if got := rules(fs, SevFail); len(got) != 1 || got[0] != RuleSigner {
		t.Errorf("APK signed by another key: fail rules %v, want [signer]", got)
	}

	// Not registered; unsigned.
	unreg := apktest.Build(t, dir, apktest.Opts{Pkg: "com.t.unregistered"})
	fs, _ = c.CheckAPK(unreg)
	got := rules(fs, SevFail)
	if !contains(got, RuleRegistered) || !contains(got, RuleSigned) {
		t.Errorf("unregistered unsigned APK: fail rules %v, want registered and apk.signature", got)
	}
	for _, f := range fs {
		if f.Fix == "" || f.Package != "com.t.unregistered" || f.APK != unreg {
			t.Errorf("finding lacks package, APK or fix: %+v", f)
		}
	}

	// No privacy.html in the APK.
	nocopy := apktest.Build(t, dir, apktest.Opts{Pkg: "com.t.nocopy", Signers: []string{"rsa"}, V2: true})
	c2 := &Checker{Registry: registryOf(t, goodRecord("com.t.nocopy", sha)), Now: today}
	fs, _ = c2.CheckAPK(nocopy)
	if got := rules(fs, SevFail); len(got) != 1 || got[0] != RulePIRulesCopy {
		t.Errorf("APK without its PI rules copy: fail rules %v, want [pi_rules.copy]", got)
	}

	// Not an APK at all.
	junk := filepath.Join(dir, "junk.apk")
	os.WriteFile(junk, []byte("not a zip"), 0o644)
	fs, _ = c.CheckAPK(junk)
	if got := rules(fs, SevFail); len(got) != 1 || got[0] != RuleAPK {
		t.Errorf("junk file: fail rules %v, want [apk.readable]", got)
	}

	// A folder: summary counts.
	res, err := c.CheckPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || res.Summary.APKs != 4 || res.Summary.Passed != 1 || res.Summary.Failed != 3 {
		t.Errorf("folder summary %+v", res.Summary)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestCheckRecordRules(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	cases := []struct {
		name string
		edit func(r *Record)
		rule string
		sev  string
	}{
		{"no legal name", func(r *Record) { r.Operator.LegalName = " " }, RuleOperatorName, SevFail},
		{"bad type", func(r *Record) { r.Operator.Type = "company" }, RuleOperatorType, SevFail},
		{"no uscc", func(r *Record) { r.Operator.USCC = "" }, RuleUSCC, SevFail},
		{"bad uscc", func(r *Record) { r.Operator.USCC = "91350100M000100Y44" }, RuleUSCC, SevFail},
		{"individual without id reference", func(r *Record) { r.Operator.Type = "individual"; r.Operator.USCC = "" }, RuleIDReference, SevFail},
		{"bad phone", func(r *Record) { r.Operator.Phone = "12345" }, RulePhone, SevFail},
		{"bad email", func(r *Record) { r.Operator.Email = "privacy at example.com" }, RuleEmail, SevFail},
		{"no address", func(r *Record) { r.Operator.Address = "" }, RuleAddress, SevFail},
		{"not verified", func(r *Record) { r.Verification.Evidence = "" }, RuleVerification, SevFail},
		{"verified in the future", func(r *Record) { r.Verification.Date = "2026-12-01" }, RuleVerification, SevFail},
		{"no PI rules", func(r *Record) { r.PIRules.URL = "" }, RulePIRulesURL, SevFail},
		{"PI rules over http", func(r *Record) { r.PIRules.URL = "http://example.com/p" }, RulePIRulesURL, SevWarn},
		{"no PI rules copy", func(r *Record) { r.PIRules.Copy = "" }, RulePIRulesCopy, SevFail},
		{"image copy unchecked", func(r *Record) { r.PIRules.Copy = "/system/etc/pi/x.html" }, RulePIRulesCopy, SevWarn},
		{"no account deletion", func(r *Record) { r.AccountDeletion = AccountDeletion{} }, RuleAccountDeletion, SevFail},
		{"no accounts declared", func(r *Record) {
			r.AccountDeletion = AccountDeletion{NoAccounts: true, Reason: "offline calculator, no sign-in"}
		}, RuleAccountDeletion, SevWarn},
		{"no PI deletion", func(r *Record) { r.PIDeletion = PIDeletion{} }, RulePIDeletion, SevFail},
		{"review passed", func(r *Record) { r.ReviewBy = "2026-05-31" }, RuleReview, SevFail},
		{"review due soon", func(r *Record) { r.ReviewBy = "2026-06-20" }, RuleReview, SevWarn},
		{"bad date", func(r *Record) { r.Registered = "10/01/2026" }, RuleDates, SevFail},
		{"no signer", func(r *Record) { r.SignerSHA256 = nil }, RuleSigner, SevFail},
		{"bad signer", func(r *Record) { r.SignerSHA256 = []string{"abc"} }, RuleSigner, SevFail},
		{"org code warning", func(r *Record) { r.Operator.USCC = "91350100M000100Y5" + "X" }, "", ""},
	}
	base := goodRecord("com.t.rec", sha)
	c := &Checker{Registry: registryOf(t, base), Now: today}
	if fs := c.CheckRecord(base); len(fs) != 0 {
		t.Fatalf("good record: findings %v", fs)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := *base
			tc.edit(&r)
			fs := c.CheckRecord(&r)
			if tc.rule == "" {
				return // only must not panic
			}
			if len(fs) != 1 || fs[0].Rule != tc.rule || fs[0].Severity != tc.sev {
				t.Fatalf("findings %v, want one %s %s", fs, tc.sev, tc.rule)
			}
			if fs[0].Problem == "" || fs[0].Fix == "" {
				t.Errorf("finding without problem or fix: %+v", fs[0])
			}
		})
	}
}

func TestImagePathCopy(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "system/etc/pi"), 0o755)
	os.WriteFile(filepath.Join(root, "system/etc/pi/x.html"), []byte("rules"), 0o644)
	r := goodRecord("com.t.img", strings.Repeat("ab", 32))
	r.PIRules.Copy = "/system/etc/pi/x.html"
	c := &Checker{Registry: registryOf(t, r), Now: today, Root: root}
	if fs := c.CheckRecord(r); len(fs) != 0 {
		t.Errorf("copy present: findings %v", fs)
	}
	r.PIRules.Copy = "/system/etc/pi/missing.html"
	if fs := c.CheckRecord(r); len(fs) != 1 || fs[0].Rule != RulePIRulesCopy || fs[0].Severity != SevFail {
		t.Errorf("copy missing: findings %v", fs)
	}
}

func TestRegistryFileProblems(t *testing.T) {
	good, _ := json.Marshal(goodRecord("com.t.a", strings.Repeat("ab", 32)))
	reg := Load(map[string][]byte{
		"a.json":       good,
		"dup.json":     good,
		"syntax.json":  []byte(`{"version": 1, "package": "x",}`),
		"unknown.json": []byte(`{"version": 1, "package": "x", "operater": {}}`),
		"type.json":    []byte(`{"version": 1, "package": "x", "signer_sha256": "abc"}`),
		"version.json": []byte(`{"version": 2, "package": "x"}`),
		"nopkg.json":   []byte(`{"version": 1}`),
	})
	want := map[string]string{
		"dup.json":     "also registered in a.json",
		"syntax.json":  "JSON syntax error",
		"unknown.json": `unknown field "operater"`,
		"type.json":    "field signer_sha256",
		"version.json": "field version: 2 is not supported",
		"nopkg.json":   "field package: missing",
	}
	if len(reg.Records) != 1 || len(reg.Problems) != len(want) {
		t.Fatalf("records %d problems %v", len(reg.Records), reg.Problems)
	}
	for _, p := range reg.Problems {
		if w := want[p.File]; w == "" || !strings.Contains(p.Problem, w) {
			t.Errorf("%s: problem %q, want it to contain %q", p.File, p.Problem, w)
		}
	}
}

// TestShippedExampleRecord keeps the example registry record in the
// default config valid: it decodes strictly and has no findings on the
// date it was last reviewed for.
func TestShippedExampleRecord(t *testing.T) {
	reg, err := LoadDir(filepath.Join("..", "etc", "permd", "preinstall"))
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.Problems) > 0 || len(reg.Records) == 0 {
		t.Fatalf("shipped registry: %d records, problems %v", len(reg.Records), reg.Problems)
	}
	c := &Checker{Registry: reg, Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	for _, rec := range reg.Records {
		if fs := c.CheckRecord(rec); len(fs) != 0 {
			t.Errorf("%s: findings %v", rec.Package, fs)
		}
	}
}

// TestRotationNeedsBothSigners: with v3 key rotation, v1/v2 carry the
// old certificate and v3 the new one; the registry must list both.
func TestRotationNeedsBothSigners(t *testing.T) {
	dir := t.TempDir()
	p := apktest.Build(t, dir, apktest.Opts{Pkg: "com.t.rot", Signers: []string{"rsa", "ec"}, V2: true, V3: true, Rotate: true, Assets: map[string][]byte{"privacy.html": []byte("x")}})
	_, rep := (&Checker{Registry: registryOf(t), Now: today}).CheckAPK(p)
	var oldSHA, newSHA string
	for _, s := range rep.Signers {
		if s.Scheme == "v3" {
			newSHA = s.CertSHA256
		} else {
			oldSHA = s.CertSHA256
		}
	}
	if oldSHA == "" || newSHA == "" || oldSHA == newSHA {
		t.Fatalf("rotation APK signers: %+v", rep.Signers)
	}
	c := &Checker{Registry: registryOf(t, goodRecord("com.t.rot", newSHA)), Now: today}
	fs, _ := c.CheckAPK(p)
	if len(fs) != 1 || fs[0].Rule != RuleSigner || !strings.Contains(fs[0].Problem, oldSHA) {
		t.Fatalf("only the new certificate registered: findings %v, want one signer failure naming %s", fs, oldSHA)
	}
	rec := goodRecord("com.t.rot", newSHA)
	rec.SignerSHA256 = append(rec.SignerSHA256, oldSHA)
	c = &Checker{Registry: registryOf(t, rec), Now: today}
	if fs, _ := c.CheckAPK(p); len(fs) != 1 || fs[0].Severity != SevOK {
		t.Fatalf("both certificates registered: findings %v, want ok", fs)
	}
}

func TestCheckPathsStopsAndReportsMissingPaths(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("a%d.apk", i)), []byte("junk"), 0o644)
	}
	c := &Checker{Registry: registryOf(t), Now: today}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.CheckPathsContext(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled check: error %v, want context.Canceled", err)
	}
	if _, err := c.CheckPaths(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing path: error %v, want one naming it", err)
	}
	res, err := c.CheckPaths(dir)
	if err != nil || res.Summary.APKs != 3 || res.Summary.Failed != 3 || res.OK() {
		t.Errorf("three junk APKs: %+v %v", res.Summary, err)
	}
}
