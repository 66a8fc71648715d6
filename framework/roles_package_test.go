package framework

import (
	"slices"
	"testing"
)

type pkgMap map[int][]string

func (m pkgMap) Packages(uid int) []string { return m[uid] }

func (m pkgMap) UIDOf(pkg string, user int) (int, bool) {
	for uid, pkgs := range m {
		if uid/100000 == user && slices.Contains(pkgs, pkg) {
			return uid, true
		}
	}
	return 0, false
}

// TestRoleByPackage checks the shipped roles table: the platform-signed
// bridge (platform_app, package org.permd.bridge in packages.list) gets
// the framework role; SystemUI, also platform_app, stays systemui; an
// untrusted app installed as org.permd.bridge (when the bridge is absent)
// gets nothing; and without a package list no package rule matches.
func TestRoleByPackage(t *testing.T) {
	snap := shippedSnapshot(t, MainFile)
	cfg, err := parseCoreConfig(snap)
	if err != nil {
		t.Fatalf("shipped permd.json: %v", err)
	}
	pkgs := pkgMap{10077: {"org.permd.bridge"}, 10050: {"com.android.systemui"}, 10123: {"org.permd.bridge"}}
	for _, tc := range []struct {
		name string
		a    Actor
		pkgs PackageResolver
		want Role
	}{
		{"bridge", Actor{UID: 10077, Context: "u:r:platform_app:s0:c512,c768"}, pkgs, RoleFramework},
		{"bridge, second user", Actor{UID: 1010077, Context: "u:r:platform_app:s0:c1,c257,c512,c768"}, pkgMap{1010077: {"org.permd.bridge"}}, RoleFramework},
		{"systemui", Actor{UID: 10050, Context: "u:r:platform_app:s0:c512,c768"}, pkgs, RoleSystemUI},
		{"untrusted app named like the bridge", Actor{UID: 10123, Context: "u:r:untrusted_app:s0:c123,c256,c512,c768"}, pkgs, RoleApp},
		{"bridge without a package list", Actor{UID: 10077, Context: "u:r:platform_app:s0:c512,c768"}, nil, RoleSystemUI},
		{"system_server", Actor{UID: 1000, Context: "u:r:system_server:s0"}, pkgs, RoleFramework},
	} {
		if got := resolveRoleWith(cfg.roles, tc.a, tc.pkgs); got != tc.want {
			t.Errorf("%s: role %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestPackageRuleNeedsContextType: a package alone is refused, naming the
// field, because any app can be installed under a free package name.
func TestPackageRuleNeedsContextType(t *testing.T) {
	body := `{"version": 1, "roles": [{"uid": 10077, "package": "org.permd.bridge", "role": "framework"}]}`
	snap := &Snapshot{Files: map[string][]byte{MainFile: []byte(body)}}
	_, err := parseCoreConfig(snap)
	ce, ok := err.(*ConfigError)
	if !ok || ce.Field != "roles[0].context_type" {
		t.Fatalf("package rule without context_type: got %v, want a ConfigError on roles[0].context_type", err)
	}
}
