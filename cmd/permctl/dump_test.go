package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"permd/aosp/etc"
	"permd/framework/frameworktest"
	"permd/ledger"
)

// shippedRulesVersion is the version of the rules file the test daemon
// runs with (the embedded default), so the test follows a rules bump.
func shippedRulesVersion(t *testing.T) int {
	t.Helper()
	raw, err := fs.ReadFile(etc.Default(), "rules.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ledger.ParseRules(raw)
	if err != nil {
		t.Fatal(err)
	}
	return r.Version
}

func TestDump(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	rulesVersion := shippedRulesVersion(t)
	permctl(t, d.Socket, "call", "perm.check", `{"uid":10123,"package":"com.example.maps"}`) // fails: no category
	code, out, errs := permctl(t, d.Socket, "dump")
	if code != exitOK {
		t.Fatalf("dump: %d %s", code, errs)
	}
	for _, want := range []string{
		"PERMD (permctl dump) at ", "\npermctl: ", "\npermd: ", "protocol 1", "\nstatus: ok\n",
		"\nCONFIG IN FORCE\n", fmt.Sprintf("  rules.json: version %d\n", rulesVersion), "  catalogue: version ",
		"\nPARTS\n", "  ledger:\n    ", "  grants:\n", "  indicator:\n",
		"\nCALLS ", "  perm.check  ", "\nERRORS ", "  calls: perm.check failed 1 times\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dump lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = permctl(t, d.Socket, "--json", "dump")
	var v struct {
		Permd struct {
			Protocol int `json:"protocol"`
		} `json:"permd"`
		ConfigVersions map[string]int `json:"config_versions"`
		Errors         []string       `json:"errors"`
		Health         struct {
			Status string `json:"status"`
		} `json:"health"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &v) != nil || v.Permd.Protocol != 1 || v.ConfigVersions["rules.json"] != rulesVersion ||
		v.Health.Status != "ok" || len(v.Errors) != 1 {
		t.Errorf("dump --json: %d %+v\n%s", code, v, out)
	}
	// No daemon: the usual exit 3, so a bug-report script can tell.
	if code, _, errs := permctl(t, filepath.Join(t.TempDir(), "none.sock"), "dump"); code != exitNoDaemon || !strings.Contains(errs, "not running") {
		t.Errorf("dump without permd: %d %q", code, errs)
	}
}
