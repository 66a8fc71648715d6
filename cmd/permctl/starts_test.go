package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"permd/aosp/wait"
	"permd/framework/frameworktest"
)

func procFixtureRoot(t *testing.T) string {
	root := t.TempDir()
	dir := filepath.Join(root, "proc", "3100")
	os.MkdirAll(dir, 0o755)
	files := map[string]string{
		"stat":          "3100 (ndroid.chrome) S 610 3100 3100 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 10 0 50000 100000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
		"status":        "Name:\tndroid.chrome\nPid:\t3100\nPPid:\t610\nUid:\t10113\t10113\t10113\t10113\n",
		"cmdline":       "com.android.chrome\x00",
		"oom_score_adj": "0\n",
	}
	for f, body := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(root, "data", "system"), 0o755)
	os.WriteFile(filepath.Join(root, "data", "system", "packages.list"), []byte("com.android.chrome 10113 0 /data/user/0/com.android.chrome default:targetSdkVersion=34 3003 0 1 1 @system\n"), 0o640)
	return root
}

func TestProcsAndStarts(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{Root: procFixtureRoot(t), Config: map[string]string{
		"process.json": `{"mode": "poll", "window": "100ms", "logd": false}`,
	}})
	code, out, errs := permctl(t, d.Socket, "procs", "--apps")
	if code != exitOK || !strings.Contains(out, "com.android.chrome") || !strings.Contains(out, "foreground") || !strings.Contains(out, "1 processes (tracking mode poll)") {
		t.Fatalf("procs --apps: code %d\n%s%s", code, out, errs)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"starts", "--kind", "bogus"}, "not self, associated or user"},
		{[]string{"starts", "--limit", "0"}, "outside 1..1000"},
		{[]string{"starts", "extra"}, "unexpected argument"},
	} {
		code, _, errs := permctl(t, d.Socket, tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: code %d %q, want usage error containing %q", tc.args, code, errs, tc.msg)
		}
	}
	// A broadcast start of chrome's process reported by the framework
	// (chrome is in front, so a second process would not count: use
	// another uid's app with no process).
	code, _, errs = permctl(t, d.Socket, "call", "proc.report", `{"uid":10200,"reason":"BOOT_COMPLETE","component":"com.example.boot/.Receiver"}`)
	if code != exitOK {
		t.Fatalf("proc.report: %d %s", code, errs)
	}
	wait.UntilSeen(t, "the reported boot start in permctl starts", func() (bool, string) {
		code, out, errs = permctl(t, d.Socket, "starts", "--kind", "self", "--since", "1h")
		if code != exitOK {
			t.Fatalf("starts: code %d\n%s%s", code, out, errs)
		}
		return strings.Contains(out, "boot"), out
	})
	if !strings.Contains(out, "TIME") || !strings.Contains(out, "uid 10200") || !strings.Contains(out, "self") || !strings.Contains(out, "boot") || !strings.Contains(out, "not_running") {
		t.Errorf("starts --kind self: want a row for uid 10200, self, boot, not_running:\n%s", out)
	}
	code, out, _ = permctl(t, d.Socket, "starts", "--kind", "associated")
	if code != exitOK || strings.Contains(out, "10200") {
		t.Errorf("starts --kind associated shows the self-start:\n%s", out)
	}
}

// TestProcsAppsSkipsKernelThreads: with uid 0 mapped to an app (a host
// demo run as root), kthreadd and its children still are not listed as
// that app's processes.
func TestProcsAppsSkipsKernelThreads(t *testing.T) {
	root := procFixtureRoot(t)
	os.Remove(filepath.Join(root, "data", "system", "packages.list")) // host mode: host_packages names the apps
	for pid, st := range map[string]string{
		"2":  "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 2 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 0 0 0 0 0 0\n",
		"15": "15 (ksoftirqd/0) S 2 0 0 0 -1 69238848 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 0 0 0 0 0 0\n",
		"1":  "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
	} {
		dir := filepath.Join(root, "proc", pid)
		os.MkdirAll(dir, 0o755)
		ppid := strings.Fields(st)[3]
		os.WriteFile(filepath.Join(dir, "stat"), []byte(st), 0o644)
		os.WriteFile(filepath.Join(dir, "status"), []byte("Name:\tx\nPid:\t"+pid+"\nPPid:\t"+ppid+"\nUid:\t0\t0\t0\t0\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "cmdline"), nil, 0o644)
	}
	d := frameworktest.Start(t, frameworktest.Options{Root: root, Config: map[string]string{
		"process.json": `{"mode": "poll", "window": "100ms", "logd": false, "host_packages": {"0": ["org.example.host.user"]}}`,
	}})
	code, out, errs := permctl(t, d.Socket, "--wide", "procs", "--apps")
	if code != exitOK || strings.Contains(out, "kthreadd") || strings.Contains(out, "ksoftirqd") || !strings.Contains(out, "init") {
		t.Errorf("procs --apps with uid 0 as an app: want init and no kernel threads; code %d\n%s%s", code, out, errs)
	}
}
