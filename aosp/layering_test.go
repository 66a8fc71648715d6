package aosp

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The layering of docs/architecture.md: framework is the middle of a
// star and the domain packages around it know nothing of it; the ledger
// stays below grants and indicator (they read it, never the other way);
// and no test helper reaches a binary that ships on a device. These
// tests read the real dependency graph with `go list`, so a new import
// that breaks a rule fails here rather than in review.

// frameworkPkg is the daemon's service package; everything under it
// (framework/process, framework/frameworktest, framework/client) counts
// as framework too.
const frameworkPkg = "permd/framework"

// domainPkgs are the packages that must not depend on framework: the
// domain parts the service wires together, and the Android formats.
var domainPkgs = []string{"permd/grants", "permd/indicator", "permd/ledger", "permd/aosp"}

// frameworkClients are under aosp/ but are clients of the daemon, not
// parts of it: they may use the Go client (and, for test helpers, the
// test harness that starts a daemon).
var frameworkClients = []string{"permd/aosp/e2e", "permd/aosp/privacy", "permd/aosp/java"}

// ledgerMustNotUse are the packages that read the ledger (grants counts
// uses through it, indicator replays it); the ledger importing them
// would make a cycle of meaning even where Go allows it.
var ledgerMustNotUse = []string{"permd/grants", "permd/indicator"}

// testHelpers must never be linked into a device binary: they start
// daemons, drive browsers, build APKs or talk to adb from a host.
var testHelpers = []string{
	"permd/framework/frameworktest",
	"permd/aosp/privacy/privacytest",
	"permd/aosp/privacy/internal/cdp",
	"permd/aosp/apk/apktest",
	"permd/aosp/e2e",
	"permd/aosp/adb",
	"permd/aosp/wait",
	"permd/aosp/testclock",
}

// under reports whether pkg is p or inside it.
func under(pkg, p string) bool { return pkg == p || strings.HasPrefix(pkg, p+"/") }

func underAny(pkg string, ps []string) bool {
	return slices.ContainsFunc(ps, func(p string) bool { return under(pkg, p) })
}

// layeringViolations applies the package rules to a dependency graph:
// for each package of this module, the module packages it depends on
// (directly or not).
func layeringViolations(deps map[string][]string) []string {
	var out []string
	for pkg, ds := range deps {
		domain := underAny(pkg, domainPkgs) && !underAny(pkg, frameworkClients)
		for _, d := range ds {
			if domain && under(d, frameworkPkg) {
				out = append(out, pkg+" depends on "+d+": domain packages must not know the framework")
			}
			if under(pkg, "permd/ledger") && underAny(d, ledgerMustNotUse) {
				out = append(out, pkg+" depends on "+d+": the ledger must not depend on its readers")
			}
		}
	}
	sort.Strings(out)
	return out
}

// binaryViolations lists the test helpers among a binary's dependencies.
func binaryViolations(bin string, deps []string) []string {
	var out []string
	for _, d := range deps {
		if underAny(d, testHelpers) {
			out = append(out, bin+" links test helper "+d)
		}
	}
	return out
}

type listed struct {
	ImportPath string
	Deps       []string
}

// goListJSON runs `go list -json` with extra args and env and returns
// each listed package with its module-local dependencies.
func goListJSON(t *testing.T, env []string, args ...string) []listed {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("SKIP: the go command is not on PATH, cannot list dependencies: %v", err)
	}
	cmd := exec.Command(gobin, append([]string{"list", "-json=ImportPath,Deps"}, args...)...)
	cmd.Dir = ".."
	cmd.Env = append(cmd.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s with %v: %v\n%s", strings.Join(args, " "), env, err, stderr.String())
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		p.Deps = slices.DeleteFunc(p.Deps, func(d string) bool { return !under(d, "permd") })
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestLayering(t *testing.T) {
	deps := map[string][]string{}
	for _, p := range goListJSON(t, nil, "./...") {
		deps[p.ImportPath] = p.Deps
	}
	// The listing must hold the packages the rules are about, or the
	// test would pass on an empty graph.
	for _, want := range []string{"permd/grants", "permd/indicator", "permd/ledger", "permd/aosp/packages", "permd/framework"} {
		if _, ok := deps[want]; !ok {
			t.Fatalf("go list ./... does not list %s; got %d packages", want, len(deps))
		}
	}
	for _, v := range layeringViolations(deps) {
		t.Error(v)
	}
}

// TestLayeringRulesCanFail feeds the rules the graph they forbid, and the
// real graph of the framework (which may depend on everything), so that a
// rule that matches nothing is caught.
func TestLayeringRulesCanFail(t *testing.T) {
	bad := map[string][]string{
		"permd/grants":          {"permd/ledger", "permd/framework"},
		"permd/aosp/packages":   {"permd/framework/process"},
		"permd/ledger/store":    {"permd/indicator"},
		"permd/ledger":          {"permd/grants"},
		"permd/aosp/privacy":    {"permd/framework/client"}, // a client: allowed
		"permd/framework":       {"permd/grants", "permd/ledger"},
		"permd/indicator":       {"permd/ledger"}, // a reader of the ledger: allowed
		"permd/aosp/e2e/cmd/x":  {"permd/framework/client"},
		"permd/framework/other": {"permd/framework"},
	}
	got := layeringViolations(bad)
	want := []string{
		"permd/aosp/packages depends on permd/framework/process: domain packages must not know the framework",
		"permd/grants depends on permd/framework: domain packages must not know the framework",
		"permd/ledger depends on permd/grants: the ledger must not depend on its readers",
		"permd/ledger/store depends on permd/indicator: the ledger must not depend on its readers",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations of a forbidden graph:\n got %q\nwant %q", got, want)
	}
	// frameworktest is a test helper that depends on the framework: the
	// binary rule must see it where it is linked.
	for _, p := range goListJSON(t, nil, "permd/aosp/privacy/privacytest") {
		p.Deps = append(p.Deps, p.ImportPath)
		v := binaryViolations(p.ImportPath, p.Deps)
		for _, helper := range []string{"permd/framework/frameworktest", "permd/aosp/privacy/internal/cdp", "permd/aosp/privacy/privacytest"} {
			if !slices.ContainsFunc(v, func(s string) bool { return strings.HasSuffix(s, " "+helper) }) {
				t.Errorf("binary rule on privacytest's own graph: expected %s among %q", helper, v)
			}
		}
	}
}

// TestDeviceBinariesLinkNoTestHelper lists the device binaries as `make
// android` builds them (android/arm64, no cgo, each with its tags).
func TestDeviceBinariesLinkNoTestHelper(t *testing.T) {
	env := deviceTargets["android/arm64"]
	for _, bin := range []string{"permd/cmd/permd", "permd/cmd/permctl"} {
		t.Run(bin, func(t *testing.T) {
			args := []string{"-deps"}
			if tags := deviceTags[bin]; tags != "" {
				args = append(args, "-tags", tags)
			}
			var all []string
			for _, p := range goListJSON(t, env, append(args, bin)...) {
				all = append(all, p.ImportPath)
			}
			if !slices.Contains(all, bin) || !slices.Contains(all, "permd/aosp/etc") {
				t.Fatalf("go list -deps %s lists %v: expected the binary and permd/aosp/etc among them", bin, all)
			}
			for _, v := range binaryViolations(bin, all) {
				t.Error(v)
			}
		})
	}
}
