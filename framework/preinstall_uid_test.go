package framework

import (
	"os"
	"path/filepath"
	"testing"

	"permd/aosp/apk"
	"permd/aosp/apk/apktest"
	"permd/aosp/wait"
)

// TestPreinstallFindingCarriesTheAppUID: a finding about a package that
// packages.list knows is recorded under that package's uid, not 0.
func TestPreinstallFindingCarriesTheAppUID(t *testing.T) {
	t.Cleanup(apktest.Cleanup)
	root := t.TempDir()
	dir := filepath.Join(root, "system", "app", "Demo")
	os.MkdirAll(dir, 0o755)
	os.MkdirAll(filepath.Join(root, "data", "system"), 0o755)
	list := "com.example.demo 10057 0 /data/user/0/com.example.demo default:targetSdkVersion=34 none 0 3 1 @system\n"
	if err := os.WriteFile(filepath.Join(root, "data", "system", "packages.list"), []byte(list), 0o640); err != nil {
		t.Fatal(err)
	}
	p := apktest.Build(t, dir, apktest.Opts{Pkg: "com.example.demo", Signers: []string{"rsa"}, V2: true, V3: true, Assets: map[string][]byte{"privacy.html": []byte("rules")}})
	rep, err := apk.Inspect(p, apk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := startTestService(t, testOptions{Root: root, Config: map[string]string{"preinstall/demo.json": demoRecord("com.example.demo", rep.SignerCerts()[0])}})
	wait.Until(t, "the finding in the ledger", func() bool { return len(preinstallRows(t, ts)) == 1 })
	if row := preinstallRows(t, ts)[0]; row.UID != 10057 {
		t.Fatalf("preinstall finding for com.example.demo recorded under uid %d, want 10057 (from packages.list)", row.UID)
	}
}
