package aosp

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestRCServiceGroups: the service runs with the groups it needs on a
// device: system (data dir, socket), readproc (/proc is hidepid=2), log
// (every uid's event log) and reserved_disk (the record can still be
// written when apps have filled /data).
func TestRCServiceGroups(t *testing.T) {
	b, err := os.ReadFile("permd.rc")
	if err != nil {
		t.Fatal(err)
	}
	inService := false
	var groups []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			inService = f[0] == "service" && len(f) > 1 && f[1] == "permd"
			continue
		}
		if inService && f[0] == "group" {
			groups = f[1:]
		}
	}
	if len(groups) == 0 || groups[0] != "system" {
		t.Fatalf("service permd groups %v: want system as the primary group", groups)
	}
	for _, g := range []string{"readproc", "log", "reserved_disk"} {
		if !slices.Contains(groups, g) {
			t.Errorf("service permd groups %v: missing %s", groups, g)
		}
	}
}
