package aosp

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The bridge app's Soong modules and its privileged-permission allowlist
// are checked here, since no Soong runs on a host: the app is packaged
// the way a privileged system_ext app must be, and the allowlist names
// exactly the privileged permissions the manifest asks for (an unlisted
// one stops boot under enforcement; an extra one hides a mistake).

const bridgeDir = "apps/PermdBridge"

// privilegedPerms are the protection levels, in the platform manifest
// (frameworks/base core/res/AndroidManifest.xml, as copied into
// packages/modules/Permission tests/cts/permissionpolicy/res/raw/
// android_manifest.xml at the pinned tag), of every permission the bridge
// requests: true where the level includes "privileged".
var privilegedPerms = map[string]bool{
	"android.permission.WATCH_APPOPS":                     true,  // signature|privileged
	"android.permission.MANAGE_APP_OPS_MODES":             false, // signature|installer|verifier|role
	"android.permission.GET_APP_OPS_STATS":                true,  // signature|privileged|development
	"android.permission.GRANT_RUNTIME_PERMISSIONS":        false, // signature|installer|verifier
	"android.permission.REVOKE_RUNTIME_PERMISSIONS":       false, // signature|installer|verifier
	"android.permission.GET_RUNTIME_PERMISSIONS":          false, // signature
	"android.permission.OBSERVE_GRANT_REVOKE_PERMISSIONS": true,  // signature|privileged
	"android.permission.PACKAGE_USAGE_STATS":              true,  // signature|privileged|development|appop|retailDemo
	"android.permission.SET_ACTIVITY_WATCHER":             false, // signature
	"android.permission.INTERACT_ACROSS_USERS":            true,  // signature|privileged|development|role
	"android.permission.MANAGE_USERS":                     true,  // signature|privileged
	"android.permission.SCHEDULE_EXACT_ALARM":             true,  // signature|privileged|appop
	"android.permission.QUERY_ALL_PACKAGES":               false, // normal
	"android.permission.RECEIVE_BOOT_COMPLETED":           false, // normal
}

func TestBridgeAppModules(t *testing.T) {
	mods := readBpFile(t, filepath.Join(bridgeDir, "Android.bp"))
	var app, allow *bpModule
	for i := range mods {
		switch mods[i].typ {
		case "android_app":
			app = &mods[i]
		case "prebuilt_etc":
			allow = &mods[i]
		}
	}
	if app == nil || allow == nil {
		t.Fatalf("%s/Android.bp: want an android_app and a prebuilt_etc, got %+v", bridgeDir, mods)
	}
	for prop, want := range map[string]string{
		"platform_apis": "true", "certificate": "platform", "privileged": "true", "system_ext_specific": "true",
	} {
		if got := app.one(prop); got != want {
			t.Errorf("android_app %s: %s = %q, want %q", app.one("name"), prop, got, want)
		}
	}
	if !slices.Contains(app.props["required"], allow.one("name")) {
		t.Errorf("android_app does not require its allowlist %s: the app would install without it and boot would stop", allow.one("name"))
	}
	if !slices.Contains(app.props["static_libs"], "permd-client") {
		t.Errorf("android_app does not link permd-client")
	}
	// The app compiles the same logic the host tests compile.
	if want := []string{"src/**/*.java", "core/src/**/*.java"}; !slices.Equal(app.props["srcs"], want) {
		t.Errorf("android_app srcs = %q, want %q", app.props["srcs"], want)
	}
	if allow.one("sub_dir") != "permissions" || allow.one("system_ext_specific") != "true" {
		t.Errorf("allowlist must install to /system_ext/etc/permissions: sub_dir %q, system_ext_specific %q", allow.one("sub_dir"), allow.one("system_ext_specific"))
	}
	// Soong names the installed file after the module unless filename is
	// set, and PackageManager's SystemConfig skips files not ending in .xml.
	if fn := allow.one("filename"); !strings.HasSuffix(fn, ".xml") {
		t.Errorf("allowlist filename %q: must end in .xml or SystemConfig ignores it (and boot stops)", fn)
	}
	if _, err := os.Stat(filepath.Join(bridgeDir, allow.one("src"))); err != nil {
		t.Errorf("allowlist src: %v", err)
	}
}

type bridgeManifest struct {
	Package string `xml:"package,attr"`
	Uses    []struct {
		Name string `xml:"name,attr"`
	} `xml:"uses-permission"`
}

type privappAllowlist struct {
	Apps []struct {
		Package string `xml:"package,attr"`
		Perms   []struct {
			Name string `xml:"name,attr"`
		} `xml:"permission"`
	} `xml:"privapp-permissions"`
}

func TestBridgeAllowlistMatchesManifest(t *testing.T) {
	var m bridgeManifest
	if err := xml.Unmarshal([]byte(mustRead(t, filepath.Join(bridgeDir, "AndroidManifest.xml"))), &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	var a privappAllowlist
	if err := xml.Unmarshal([]byte(mustRead(t, filepath.Join(bridgeDir, "privapp_allowlist_org.permd.bridge.xml"))), &a); err != nil {
		t.Fatalf("allowlist: %v", err)
	}
	if len(a.Apps) != 1 || a.Apps[0].Package != m.Package {
		t.Fatalf("allowlist names %+v, want one entry for %s", a.Apps, m.Package)
	}
	var want, got []string
	for _, u := range m.Uses {
		priv, known := privilegedPerms[u.Name]
		if !known {
			t.Errorf("manifest requests %s, whose protection level this test does not know: add it to privilegedPerms", u.Name)
		}
		if priv {
			want = append(want, u.Name)
		}
	}
	for _, p := range a.Apps[0].Perms {
		got = append(got, p.Name)
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("allowlist %q, want exactly the privileged permissions requested: %q", got, want)
	}
	// The role table must name the manifest's package (framework/roles_package_test.go
	// checks the rule itself).
	if !strings.Contains(mustRead(t, "etc/permd/permd.json"), `"package": "`+m.Package+`"`) {
		t.Errorf("permd.json has no roles rule for %s", m.Package)
	}
}
