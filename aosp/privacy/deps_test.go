package privacy_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTestCodeNotLinked: the browser driver and the fixture are test
// code; no binary may link them.
func TestTestCodeNotLinked(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	out, err := exec.Command(gobin, "list", "-deps", "permd/cmd/permctl", "permd/cmd/permd").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "permd/aosp/privacy/internal/cdp" || p == "permd/aosp/privacy/privacytest" {
			t.Errorf("a binary links %s, which is test code", p)
		}
	}
}
