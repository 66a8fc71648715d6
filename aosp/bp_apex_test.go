package aosp

import (
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// PermissionController, which patch 0001 of packages/modules/Permission
// links to permd-client, is part of the updatable com.android.permission
// APEX (sdk_version system_current, min_sdk_version 30 at the pinned
// tag). Soong refuses the link unless the library is available to that
// APEX, builds against an SDK rather than platform APIs, and runs on the
// APEX's oldest platform.
func TestClientLinksIntoThePermissionApex(t *testing.T) {
	const apexMinSdk = 30
	for _, m := range readBp(t) {
		if m.one("name") != "permd-client" {
			continue
		}
		if !slices.Contains(m.props["apex_available"], "com.android.permission") {
			t.Errorf("permd-client apex_available = %q, want it to include com.android.permission", m.props["apex_available"])
		}
		if !slices.Contains(m.props["apex_available"], "//apex_available:platform") {
			t.Errorf("permd-client apex_available = %q: the bridge app and system_server still need the platform variant", m.props["apex_available"])
		}
		if m.one("platform_apis") == "true" {
			t.Errorf("permd-client uses platform_apis: an sdk_version module (PermissionController) cannot link it")
		}
		n, err := strconv.Atoi(m.one("min_sdk_version"))
		if err != nil || n > apexMinSdk {
			t.Errorf("permd-client min_sdk_version = %q, want a number at most %d", m.one("min_sdk_version"), apexMinSdk)
		}
		return
	}
	t.Fatal("Android.bp has no module permd-client")
}

// The at-access patch (frameworks/base 0001) links the bridge's core into
// services.core: the core must exist as a library of its own, compiling
// the same sources the app and the host tests compile.
func TestBridgeCoreLibrary(t *testing.T) {
	for _, m := range readBpFile(t, filepath.Join(bridgeDir, "Android.bp")) {
		if m.one("name") != "permd-bridge-core" {
			continue
		}
		if m.typ != "java_library" {
			t.Errorf("permd-bridge-core is a %s, want java_library", m.typ)
		}
		if want := []string{"core/src/**/*.java"}; !slices.Equal(m.props["srcs"], want) {
			t.Errorf("permd-bridge-core srcs = %q, want %q", m.props["srcs"], want)
		}
		if !slices.Contains(m.props["static_libs"], "permd-client") {
			t.Errorf("permd-bridge-core does not link permd-client")
		}
		return
	}
	t.Fatal("aosp/apps/PermdBridge/Android.bp has no module permd-bridge-core")
}
