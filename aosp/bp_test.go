package aosp

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Android.bp is checked for syntax by bpfmt (aosp/scripts/check-bp.sh)
// and for meaning only by a real Soong. These tests keep it in step with
// the tree: every config file has its prebuilt_etc module, and every Go
// package Soong builds lists exactly the files `go build` would use.

// bpModule is the part of an Android.bp module these tests read:
// top-level string and string-list properties.
type bpModule struct {
	typ   string
	props map[string][]string
}

var (
	bpModuleStart = regexp.MustCompile(`^([a-z_]+) \{$`)
	bpString      = regexp.MustCompile(`^    ([A-Za-z_]+): "([^"]*)",$`)
	bpListOne     = regexp.MustCompile(`^    ([A-Za-z_]+): \[(.*)\],$`)
	bpListStart   = regexp.MustCompile(`^    ([A-Za-z_]+): \[$`)
	bpQuoted      = regexp.MustCompile(`"([^"]*)"`)
	bpBool        = regexp.MustCompile(`^    ([A-Za-z_]+): (true|false),$`)
)

// readBp parses the bpfmt-formatted Android.bp at the repo root (bpfmt's
// layout is fixed, which check-bp.sh enforces, so a line-based reader is
// enough).
func readBp(t *testing.T) []bpModule {
	t.Helper()
	return readBpFile(t, "../Android.bp")
}

// readBpFile is readBp for another bpfmt-formatted Android.bp.
func readBpFile(t *testing.T, file string) []bpModule {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	var mods []bpModule
	var cur *bpModule
	var list string
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil:
			if m := bpModuleStart.FindStringSubmatch(line); m != nil {
				mods = append(mods, bpModule{typ: m[1], props: map[string][]string{}})
				cur = &mods[len(mods)-1]
			}
		case line == "}":
			cur = nil
		case list != "":
			if strings.TrimSpace(line) == "]," {
				list = ""
			} else {
				for _, q := range bpQuoted.FindAllStringSubmatch(line, -1) {
					cur.props[list] = append(cur.props[list], q[1])
				}
			}
		default:
			if m := bpString.FindStringSubmatch(line); m != nil {
				cur.props[m[1]] = []string{m[2]}
			} else if m := bpBool.FindStringSubmatch(line); m != nil {
				cur.props[m[1]] = []string{m[2]}
			} else if m := bpListOne.FindStringSubmatch(line); m != nil {
				for _, q := range bpQuoted.FindAllStringSubmatch(m[2], -1) {
					cur.props[m[1]] = append(cur.props[m[1]], q[1])
				}
			} else if m := bpListStart.FindStringSubmatch(line); m != nil {
				list = m[1]
				cur.props[list] = []string{}
			}
		}
	}
	return mods
}

func (m bpModule) one(prop string) string {
	if v := m.props[prop]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func TestAndroidBpConfigModules(t *testing.T) {
	mods := readBp(t)
	bySrc := map[string]bpModule{}
	var required []string
	for _, m := range mods {
		if m.typ == "prebuilt_etc" {
			bySrc[m.one("src")] = m
			if _, err := os.Stat(filepath.Join("..", m.one("src"))); err != nil {
				t.Errorf("prebuilt_etc %s: src %s: %v", m.one("name"), m.one("src"), err)
			}
		}
		if m.typ == "cc_prebuilt_binary" && m.one("name") == "permd" {
			required = m.props["required"]
		}
	}
	err := filepath.WalkDir("etc/permd", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		rel, _ := filepath.Rel("etc/permd", p)
		rel = filepath.ToSlash(rel)
		src := "aosp/etc/permd/" + rel
		wantSub := path.Join("permd", path.Dir(rel))
		name := "permd_" + strings.ReplaceAll(rel, "/", "_")
		if rel == "permd.json" {
			name = "permd.json"
		}
		m, ok := bySrc[src]
		if !ok {
			t.Errorf("%s is installed by no prebuilt_etc module; add to Android.bp:\n"+
				"prebuilt_etc {\n    name: %q,\n    src: %q,\n    filename: %q,\n    sub_dir: %q,\n    system_ext_specific: true,\n}\n"+
				"and %q to permd's required list", src, name, src, path.Base(rel), wantSub, name)
			return nil
		}
		if got := m.one("sub_dir"); got != wantSub {
			t.Errorf("prebuilt_etc %s: sub_dir %q, want %q (installs to /system_ext/etc/%s)", m.one("name"), got, wantSub, wantSub)
		}
		if got := m.one("filename"); got != "" && got != path.Base(rel) {
			t.Errorf("prebuilt_etc %s: filename %q, want %q", m.one("name"), got, path.Base(rel))
		}
		if m.one("system_ext_specific") != "true" {
			t.Errorf("prebuilt_etc %s is not system_ext_specific", m.one("name"))
		}
		if !slices.Contains(required, m.one("name")) {
			t.Errorf("prebuilt_etc %s is not in permd's required list, so PRODUCT_PACKAGES += permd would not install it", m.one("name"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAndroidBpDevicePrebuilts(t *testing.T) {
	bp := mustRead(t, "../Android.bp")
	script := mustRead(t, "scripts/build-android.sh")
	for _, bin := range []string{"permd", "permctl"} {
		for _, arch := range []string{"arm64", "x86_64"} {
			want := `srcs: ["out/android/` + arch + `/` + bin + `"]`
			if !strings.Contains(bp, want) {
				t.Errorf("Android.bp: expected %s for %s", want, bin)
			}
		}
	}
	if !strings.Contains(script, "out/android") || !strings.Contains(script, "build android arm64 arm64") || !strings.Contains(script, "build linux amd64 x86_64") {
		t.Errorf("build-android.sh no longer writes out/android/{arm64,x86_64}: Android.bp's srcs would be missing")
	}
	for _, m := range readBp(t) {
		for _, rc := range m.props["init_rc"] {
			if _, err := os.Stat(filepath.Join("..", rc)); err != nil {
				t.Errorf("%s %s: init_rc %s: %v", m.typ, m.one("name"), rc, err)
			}
		}
	}
}

// TestAndroidBpGoPackages compares each Soong Go module with `go list`:
// same files (Soong compiles exactly srcs, it applies no build
// constraints), same repo imports as deps.
func TestAndroidBpGoPackages(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("SKIP: the go command is not on PATH: %v", err)
	}
	mods := readBp(t)
	pkgOf := map[string]string{} // module name -> import path
	for _, m := range mods {
		switch m.typ {
		case "bootstrap_go_package":
			pkgOf[m.one("name")] = m.one("pkgPath")
		case "blueprint_go_binary":
			if len(m.props["srcs"]) > 0 {
				pkgOf[m.one("name")] = "permd/" + path.Dir(m.props["srcs"][0])
			}
		}
	}
	var absent []string
	for _, m := range mods {
		if m.typ != "bootstrap_go_package" && m.typ != "blueprint_go_binary" {
			continue
		}
		name, pkg := m.one("name"), pkgOf[m.one("name")]
		dir := strings.TrimPrefix(pkg, "permd/")
		if _, err := os.Stat(filepath.Join("..", dir)); err != nil {
			absent = append(absent, pkg)
			continue
		}
		cmd := exec.Command(gobin, "list", "-json", pkg)
		cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("go list %s: %v", pkg, err)
			continue
		}
		var info struct {
			GoFiles, CgoFiles, EmbedFiles, Imports []string
		}
		if err := json.Unmarshal(out, &info); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, f := range info.GoFiles {
			want = append(want, dir+"/"+f)
		}
		got := slices.Clone(m.props["srcs"])
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("Android.bp %s srcs:\n  %s\nwant (go list %s):\n  %s", name, strings.Join(got, "\n  "), pkg, strings.Join(want, "\n  "))
		}
		if len(info.CgoFiles) > 0 || len(info.EmbedFiles) > 0 {
			t.Errorf("%s uses cgo or go:embed (%v %v); Soong's Go rules support neither", pkg, info.CgoFiles, info.EmbedFiles)
		}
		var deps []string
		for _, d := range m.props["deps"] {
			deps = append(deps, pkgOf[d])
		}
		for _, imp := range info.Imports {
			if strings.HasPrefix(imp, "permd/") && !slices.Contains(deps, imp) {
				t.Errorf("Android.bp %s: %s imports %s but deps has no module with that pkgPath", name, pkg, imp)
			}
		}
	}
	if len(absent) > 0 {
		t.Skipf("SKIP: Android.bp builds %v, which are not in this tree yet; their srcs are unchecked", absent)
	}
}
