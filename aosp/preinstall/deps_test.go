package preinstall

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestStdlibOnly guards DESIGN.md §7: Soong builds the checker as a host
// tool from Go sources without modules, so these packages may import only
// the standard library and each other.
func TestStdlibOnly(t *testing.T) {
	allowed := map[string]bool{
		"permd/aosp/apk":             true,
		"permd/aosp/preinstall":      true,
		"permd/cmd/preinstall-check": true,
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Fatal("go command not found; cannot list dependencies")
		}
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
		"permd/aosp/apk", "permd/aosp/preinstall", "permd/cmd/preinstall-check").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if !allowed[p] {
			t.Errorf("host-tool packages depend on %s; only the standard library, permd/aosp/apk and permd/aosp/preinstall are allowed (DESIGN.md §7)", p)
		}
	}
}
