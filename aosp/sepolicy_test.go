package aosp

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
)

// TestRoleContextsCanConnect keeps the default role table and the
// SELinux client rules in step: every SELinux type the role table names
// must be allowed to connect (else that role can never be reached on a
// device), and every domain allowed to connect must get a role other than
// "app" (else it reaches the socket for nothing).
func TestRoleContextsCanConnect(t *testing.T) {
	te, err := os.ReadFile("../sepolicy/permd_clients.te")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^unix_socket_connect\((\w+), permd, permd\)`).FindAllStringSubmatch(string(te), -1) {
		allowed[m[1]] = true
	}
	raw, err := os.ReadFile("etc/permd/permd.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Roles []struct {
			UID         *int   `json:"uid"`
			ContextType string `json:"context_type"`
			Role        string `json:"role"`
		} `json:"roles"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("permd.json: %v", err)
	}
	// Domains a uid-only rule reaches: shell is uid 2000 in AOSP.
	uidDomain := map[int]string{2000: "shell"}
	named := map[string]bool{}
	for _, r := range cfg.Roles {
		d := r.ContextType
		if d == "" && r.UID != nil {
			d = uidDomain[*r.UID]
		}
		if d == "" {
			continue
		}
		named[d] = true
		if !allowed[d] {
			t.Errorf("permd.json gives context %s the role %s, but sepolicy/permd_clients.te does not let %s connect", d, r.Role, d)
		}
	}
	for d := range allowed {
		if !named[d] {
			t.Errorf("sepolicy lets %s connect, but permd.json gives it no role", d)
		}
	}
}
