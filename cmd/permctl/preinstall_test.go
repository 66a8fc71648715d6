package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"permd/aosp/apk/apktest"
	"permd/aosp/wait"
	"permd/framework/frameworktest"
)

func TestPreinstall(t *testing.T) {
	t.Cleanup(apktest.Cleanup)
	root := t.TempDir()
	dir := filepath.Join(root, "system", "priv-app", "Rogue")
	os.MkdirAll(dir, 0o755)
	apktest.Build(t, dir, apktest.Opts{Pkg: "com.rogue", Signers: []string{"rsa"}, V2: true})
	d := frameworktest.Start(t, frameworktest.Options{Root: root})

	var out, errs string
	var code int
	wait.UntilSeen(t, "the preinstall scan to finish", func() (bool, string) {
		code, out, errs = permctl(t, d.Socket, "preinstall")
		return code != exitOK || !strings.Contains(out, "still running"), out + errs
	})
	if code != exitOK || !strings.Contains(out, "1 APKs, 0 passed, 1 failed") || !strings.Contains(out, "FAIL    com.rogue  registered") {
		t.Fatalf("preinstall: code %d\n%s%s", code, out, errs)
	}
	code, out, _ = permctl(t, d.Socket, "--json", "preinstall", "--severity", "ok")
	var st preinstallStatus
	if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || len(st.Findings) != 0 || st.Summary.APKs != 1 {
		t.Fatalf("preinstall --json --severity ok: code %d %s", code, out)
	}
	if code, _, errs = permctl(t, d.Socket, "preinstall", "--severity", "bad"); code != exitUsage || !strings.Contains(errs, "severity") {
		t.Errorf("bad severity: code %d %s", code, errs)
	}
	if code, _, _ = permctl(t, d.Socket, "preinstall", "extra"); code != exitUsage {
		t.Errorf("extra argument: code %d, want usage", code)
	}
}
