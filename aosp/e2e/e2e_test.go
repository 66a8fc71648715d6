package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// checkResults turns scenario results into subtests. A FAIL caused by a
// method the daemon does not serve is reported as a loud skip: that part
// is not in this build yet, which the runner itself reports as FAIL.
func checkResults(t *testing.T, results []Result, out string) {
	t.Helper()
	if len(results) == 0 {
		t.Fatalf("no results; runner output:\n%s", out)
	}
	for _, r := range results {
		t.Run(r.Scenario, func(t *testing.T) {
			switch {
			case r.Status == "PASS":
			case r.Status == "FAIL" && r.Missing != "":
				t.Skipf("SKIP: method %s is not served by this build (its part is not merged yet): %s", r.Missing, r.Detail)
			case r.Status == "SKIP":
				t.Skipf("SKIP: %s", r.Detail)
			default:
				t.Errorf("%s: %s\nrunner output:\n%s", r.Status, r.Detail, out)
			}
		})
	}
}

func goBuild(t *testing.T, out, pkg string, env ...string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

func TestLocalTransport(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("SKIP: no go command to build permd: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "permd")
	goBuild(t, bin, "permd/cmd/permd")
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	results, err := Run(ctx, &Local{Permd: bin}, Scenarios, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	checkResults(t, results, out.String())
}

// fakeADB stands in for adb: it runs "device" commands on this host, so
// the adb transport's push, start, call, error mapping and stop are
// exercised in CI. Device paths are host paths under a temp dir.
const fakeADB = `#!/usr/bin/env bash
[ "$1" = -s ] && shift 2
case "$1" in
get-state) echo device ;;
root) echo "adbd is already running as root" ;;
wait-for-device) ;;
push) mkdir -p "$(dirname "$3")" && cp -r "$2" "$3" ;;
shell)
	shift
	cmd="$*"
	case "$cmd" in
	"getprop ro.product.cpu.abi") echo x86_64 ;;
	"getprop init.svc.permd") echo running ;;
	"cmd package list packages"*) printf 'package:com.example.camera uid:10123\npackage:com.example.notes uid:10124\n' ;;
	*) exec sh -c "$cmd" ;;
	esac
	;;
*) echo "fake adb: unsupported: $*" >&2; exit 1 ;;
esac
`

func TestADBTransportWithFakeDevice(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("SKIP: the fake device runs the x86_64 build, this host is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("SKIP: no go command: %v", err)
	}
	dir := t.TempDir()
	bins := filepath.Join(dir, "out")
	for _, c := range []string{"permd", "permctl"} {
		goBuild(t, filepath.Join(bins, "x86_64", c), "permd/cmd/"+c, "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	}
	adb := filepath.Join(dir, "adb")
	if err := os.WriteFile(adb, []byte(fakeADB), 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	if err := writeFixture(root); err != nil {
		t.Fatal(err)
	}
	devdir := filepath.Join(dir, "device", "data", "local", "tmp", "permd-e2e")
	a := &ADB{Serial: "fake-1", Bin: adb, Private: true, DeviceDir: devdir, DeviceRoot: root, Binaries: bins, FrameworkUID: os.Getuid()}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	results, err := Run(ctx, a, Scenarios, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "client role framework") {
		t.Errorf("the private daemon did not give root the framework role:\n%s", out.String())
	}
	checkResults(t, results, out.String())
	if _, err := os.Stat(devdir); !os.IsNotExist(err) {
		t.Errorf("device dir %s left behind after Stop (err %v)", devdir, err)
	}
}

// stubTransport answers the runner's first sys.health and fails every
// other call with "method not found", like a daemon missing its parts.
type stubTransport struct{ calls int }

func (*stubTransport) Name() string                { return "stub" }
func (*stubTransport) Start(context.Context) error { return nil }
func (*stubTransport) Stop(context.Context) error  { return nil }
func (*stubTransport) Apps(context.Context) ([]App, error) {
	return localApps, nil
}
func (s *stubTransport) Call(_ context.Context, method string, _, result any) error {
	s.calls++
	if s.calls == 1 && method == "sys.health" {
		return json.Unmarshal([]byte(`{"status":"ok","you":{"role":"framework"}}`), result)
	}
	return &RPCError{Code: CodeMethodNotFound, Message: `method "` + method + `" not found`}
}

func TestMissingMethodIsAClearFail(t *testing.T) {
	var out bytes.Buffer
	results, err := Run(context.Background(), &stubTransport{}, Scenarios, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Status != "FAIL" || r.Missing == "" || !strings.Contains(r.Detail, "not found") {
			t.Errorf("%s: want FAIL naming the missing method, got %s %q (missing %q)", r.Scenario, r.Status, r.Detail, r.Missing)
		}
	}
	if !strings.Contains(out.String(), "0 passed, 6 failed, 0 skipped") {
		t.Errorf("summary line: want 0 passed, 6 failed, 0 skipped in\n%s", out.String())
	}
}
