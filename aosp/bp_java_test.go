package aosp

import (
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The Java client's Soong modules must compile exactly the source trees
// aosp/java/run-tests.sh compiles: the core with the Android transport for
// the device, the core with the JDK transport on hosts, and the tests.
func TestAndroidBpJavaModules(t *testing.T) {
	const root = "java/client/"
	want := map[string]struct {
		typ  string
		dirs []string
	}{
		"permd-client":       {"java_library", []string{"src", "android/src"}},
		"permd-client-host":  {"java_library_host", []string{"src", "jdk/src"}},
		"permd-client-tests": {"java_test_host", []string{"tests/src"}},
	}
	found := map[string]bool{}
	for _, m := range readBp(t) {
		w, ok := want[m.one("name")]
		if !ok {
			continue
		}
		found[m.one("name")] = true
		if m.typ != w.typ {
			t.Errorf("%s is a %s, want %s", m.one("name"), m.typ, w.typ)
		}
		var globs []string
		for _, d := range w.dirs {
			globs = append(globs, "aosp/"+root+d+"/**/*.java")
		}
		if srcs := m.props["srcs"]; !slices.Equal(srcs, globs) {
			t.Errorf("%s srcs = %q, want %q", m.one("name"), srcs, globs)
		}
		for _, d := range w.dirs {
			n := 0
			filepath.WalkDir(filepath.FromSlash(root+d), func(p string, e fs.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(p, ".java") {
					n++
				}
				return nil
			})
			if n == 0 {
				t.Errorf("%s: no .java files under aosp/%s%s", m.one("name"), root, d)
			}
		}
		if m.typ == "java_library" && m.one("platform_apis") != "true" && m.one("sdk_version") != "system_current" {
			t.Errorf("permd-client must build against platform or system APIs (LocalSocket, org.json)")
		}
	}
	for name := range want {
		if !found[name] {
			t.Errorf("Android.bp has no module %s", name)
		}
	}
	// Every Java source of the client is in one of those trees.
	filepath.WalkDir(filepath.FromSlash(root), func(p string, e fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".java") {
			return nil
		}
		rel := strings.TrimPrefix(filepath.ToSlash(p), root)
		for _, w := range want {
			for _, d := range w.dirs {
				if strings.HasPrefix(rel, d+"/") {
					return nil
				}
			}
		}
		t.Errorf("%s is in no Soong module's srcs", path.Join("aosp", filepath.ToSlash(p)))
		return nil
	})
}
