package aosp

import (
	"bytes"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// The device binaries are cross-built without cgo and installed as
// prebuilts; the preinstall checker is built by Soong, which knows only
// the standard library and modules it declares itself. These tests fail
// as soon as an import makes either impossible, instead of at image
// build time or on a device.

// deviceForbidden names packages that must never reach the device
// binaries, with the reason.
var deviceForbidden = map[string]string{
	"runtime/cgo":                   "cgo: android/arm64 must link internally without the NDK",
	"github.com/mattn/go-sqlite3":   "cgo SQLite driver; the device build uses modernc.org/sqlite",
	"github.com/google/gousb":       "libusb (cgo), host-only",
	"plugin":                        "dlopen needs cgo and bionic",
	"os/user":                       "Android has no /etc/passwd; uids map to packages through packages.list",
	"testing":                       "test code in a shipped binary",
	"permd/framework/frameworktest": "test harness",
	"permd/aosp/e2e":                "host-side e2e runner",
	"permd/aosp/adb/adbtest":        "test device of the ADB transport",
	"net/http/pprof":                "a debug HTTP server on a device",
	"expvar":                        "a debug HTTP endpoint on a device",
}

// daemonForbidden must not reach the daemon on any target, nor permctl
// on android/arm64; the linux/amd64 permctl doubles as the host build
// (permctl devices, --device), which links them.
var daemonForbidden = map[string]string{
	"permd/aosp/adb": "host-side ADB transport; the daemon never talks to other devices",
}

// deviceRequired must be linked: the no-cgo SQLite driver is the only
// one a CGO_ENABLED=0 build can use; the zone database, because a device
// has none Go can always read (docs/grants.md, Time zone).
var deviceRequired = []string{"modernc.org/sqlite", "golang.org/x/sys/unix", "time/tzdata"}

type pkg struct {
	path     string
	standard bool
}

// goList runs `go list -deps` for pkgs in the given environment.
func goList(t *testing.T, env []string, pkgs ...string) []pkg {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("SKIP: the go command is not on PATH, cannot list dependencies: %v", err)
	}
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}"}, pkgs...)
	cmd := exec.Command(gobin, args...)
	cmd.Env = append(cmd.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s with %v: %v\n%s", strings.Join(pkgs, " "), env, err, stderr.String())
	}
	var deps []pkg
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, std, _ := strings.Cut(line, " ")
		deps = append(deps, pkg{path: path, standard: std == "true"})
	}
	return deps
}

// deviceTags are the build tags build-android.sh gives each device
// binary: permctl talks to permd over the socket only, so it is built
// without any SQLite driver (ledger/store's nosqlite tag); --db on a
// pulled database is for the host permctl.
var deviceTags = map[string]string{"permd/cmd/permctl": "nosqlite"}

// socketOnlyForbidden must not reach a binary built with nosqlite: each
// is SQLite or exists only for it (about 4 MB of arm64 code).
var socketOnlyForbidden = map[string]string{
	"modernc.org/sqlite":          "SQLite in the socket-only device permctl",
	"modernc.org/libc":            "modernc SQLite's C runtime in the socket-only device permctl",
	"github.com/mattn/go-sqlite3": "SQLite in the socket-only device permctl",
}

// deviceTargets are the builds build-android.sh makes.
var deviceTargets = map[string][]string{
	"android/arm64": {"GOOS=android", "GOARCH=arm64", "CGO_ENABLED=0"},
	"linux/amd64":   {"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0"},
}

func TestDeviceDeps(t *testing.T) {
	for target, env := range deviceTargets {
		for _, main := range []string{"permd/cmd/permd", "permd/cmd/permctl"} {
			t.Run(target+"/"+main, func(t *testing.T) {
				testDeviceDeps(t, target, env, main)
			})
		}
	}
}

func testDeviceDeps(t *testing.T, target string, env []string, main string) {
	have := map[string]bool{}
	tags := deviceTags[main]
	if tags != "" {
		env = append(env[:len(env):len(env)], "GOFLAGS=-tags="+tags)
	}
	for _, d := range goList(t, env, main) {
		have[d.path] = true
		if why, bad := deviceForbidden[d.path]; bad {
			t.Errorf("%s (%s) links %s: %s", main, target, d.path, why)
		}
		if why, bad := socketOnlyForbidden[d.path]; bad && tags == "nosqlite" {
			t.Errorf("%s (%s, -tags %s) links %s: %s", main, target, tags, d.path, why)
		}
	}
	if main == "permd/cmd/permd" || target == "android/arm64" {
		for p, why := range daemonForbidden {
			if have[p] {
				t.Errorf("%s (%s) links %s: %s", main, target, p, why)
			}
		}
	}
	if main == "permd/cmd/permd" {
		for _, r := range deviceRequired {
			if !have[r] {
				t.Errorf("%s (%s) does not link %s; expected it", main, target, r)
			}
		}
	}
}

// TestPreinstallCheckDeps keeps the host checker buildable by Soong's
// bootstrap_go_binary: only the standard library and this repo's
// permd/aosp/... packages, each declared as a bootstrap_go_package in
// Android.bp.
func TestPreinstallCheckDeps(t *testing.T) {
	if _, err := os.Stat("../cmd/preinstall-check"); err != nil {
		t.Skipf("SKIP: cmd/preinstall-check is not in this tree (%v); its dependencies are unchecked", err)
	}
	deps := goList(t, []string{"CGO_ENABLED=0"}, "permd/cmd/preinstall-check")
	var bad, local []string
	for _, d := range deps {
		switch {
		case d.standard:
		case d.path == "permd/cmd/preinstall-check":
		case strings.HasPrefix(d.path, "permd/aosp/"):
			local = append(local, d.path)
		default:
			bad = append(bad, d.path)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		t.Errorf("preinstall-check must depend on the standard library and permd/aosp/... only; it also links:\n  %s", strings.Join(bad, "\n  "))
	}
	bp, err := os.ReadFile("../Android.bp")
	if err != nil {
		t.Fatalf("read Android.bp: %v", err)
	}
	for _, l := range local {
		if !bytes.Contains(bp, []byte(`pkgPath: "`+l+`"`)) {
			t.Errorf("preinstall-check links %s but Android.bp declares no bootstrap_go_package with pkgPath: %q", l, l)
		}
	}
}

// TestDeviceDepsGuardSeesCgo proves the guard can fail: the same listing
// with cgo on a linux host does show the cgo driver and runtime/cgo.
func TestDeviceDepsGuardSeesCgo(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skipf("SKIP: no gcc, a cgo listing cannot be made: %v", err)
	}
	deps := goList(t, []string{"GOOS=linux", "CGO_ENABLED=1"}, "permd/cmd/permd")
	found := map[string]bool{}
	for _, d := range deps {
		if _, bad := deviceForbidden[d.path]; bad {
			found[d.path] = true
		}
	}
	for _, want := range []string{"runtime/cgo", "github.com/mattn/go-sqlite3"} {
		if !found[want] {
			t.Errorf("cgo listing of permd: expected %s among the forbidden packages found, got %v", want, found)
		}
	}
}

// TestDevicePermctlBuiltWithoutSQLite: the script that builds the device
// binaries passes each one its tags, and the guard above can fail: the
// same permctl listed without the tag does show SQLite.
func TestDevicePermctlBuiltWithoutSQLite(t *testing.T) {
	script, err := os.ReadFile("scripts/build-android.sh")
	if err != nil {
		t.Fatal(err)
	}
	for main, tags := range deviceTags {
		name := main[strings.LastIndexByte(main, '/')+1:]
		if !bytes.Contains(script, []byte(name+") echo "+tags)) {
			t.Errorf("build-android.sh does not build %s with -tags %s (want a line \"%s) echo %s\" in its tags function)", name, tags, name, tags)
		}
	}
	found := false
	for _, d := range goList(t, deviceTargets["android/arm64"], "permd/cmd/permctl") {
		found = found || d.path == "modernc.org/sqlite"
	}
	if !found {
		t.Error("permctl listed without -tags nosqlite does not link modernc.org/sqlite: the guard above proves nothing")
	}
}
