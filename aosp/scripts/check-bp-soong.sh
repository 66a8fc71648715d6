#!/usr/bin/env bash
# Runs Soong itself over Android.bp (local use, not CI): catches unknown
# module types and unknown or mistyped properties (also nested ones such as
# arch.arm64.srcs and strip.none) that bpfmt cannot see.
#
# It uses Debian's Soong and Blueprint sources (AOSP of October 2020):
# builds a soong_build that links the cc, etc and genrule module types,
# lays out a scratch tree with this repo's Android.bp, placeholder files for
# every source it names and an example product genrule that uses
# permd_preinstall_vetting_defaults, and runs soong_build for an arm64 and
# an x86_64 device. Newer Soong features are unknown to that version.
# The only errors it accepts are the toolchain runtime objects
# (libclang_rt.builtins, libatomic, crtbegin/crtend) that every real tree
# provides.
#
# Needs: apt-get install soong golang-android-soong-dev \
#   golang-github-google-blueprint-dev golang-github-golang-protobuf-1-3-dev
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
S=/usr/share/gocode/src/android/soong
[ -d "$S/cc" ] || { echo "check-bp-soong: Soong sources missing: apt-get install soong golang-android-soong-dev golang-github-google-blueprint-dev golang-github-golang-protobuf-1-3-dev" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tool=$work/gopath/src/permdsoong
mkdir -p "$tool"
cp "$S"/cmd/soong_build/{main.go,bazel_overlay.go,writedocs.go} "$tool/"
cat >"$tool/modules.go" <<'GO'
package main

import (
	_ "android/soong/cc"
	_ "android/soong/etc"
	_ "android/soong/genrule"
	_ "android/soong/java"
)
GO
(cd "$tool" && GO111MODULE=off GOFLAGS= GOPATH=$work/gopath:/usr/share/gocode go build -o "$work/out/soong_build" .)

src=$work/src
mkdir -p "$src"
cp Android.bp "$src/"
# Every file Android.bp names, as a placeholder (content is not checked).
grep -oE '"(aosp|cmd|out|docs)/[^"*]+"' Android.bp | tr -d '"' | sort -u | while read -r f; do
	mkdir -p "$src/$(dirname "$f")"
	if [ -f "$f" ]; then cp "$f" "$src/$f"; else echo "package x" >"$src/$f"; fi
done
# The Java client's globs must match real files.
mkdir -p "$src/aosp/java" && cp -r aosp/java/client "$src/aosp/java/"
mkdir -p "$src/aosp/etc/permd/preinstall" "$src/oem/apps"
cp aosp/etc/permd/preinstall/*.json "$src/aosp/etc/permd/preinstall/" 2>/dev/null || echo '{}' >"$src/aosp/etc/permd/preinstall/example.json"
echo apk >"$src/oem/apps/Example.apk"
cat >"$src/oem/Android.bp" <<'BP'
genrule {
    name: "oem_preinstall_vetting",
    defaults: ["permd_preinstall_vetting_defaults"],
    srcs: ["apps/**/*.apk"],
}

prebuilt_etc {
    name: "oem_preinstall_vetting.txt",
    src: ":oem_preinstall_vetting",
    filename: "preinstall-vetting.txt",
    sub_dir: "permd",
    system_ext_specific: true,
}
BP
# The bridge app (aosp/apps/PermdBridge) has an Android.bp of its own.
mkdir -p "$src/aosp/apps" && cp -r aosp/apps/PermdBridge "$src/aosp/apps/"
printf 'Android.bp\noem/Android.bp\naosp/apps/PermdBridge/Android.bp\n' >"$src/Android.bp.list"

# What a real tree provides to the Java client modules: SDK and core stubs,
# org.json and JUnit prebuilts, lint.
java_known="legacy.core.platform.api.stubs android_stubs_current android_system_stubs_current android_test_stubs_current
android_module_lib_stubs_current core-lambda-stubs ext framework legacy-core-platform-api-stubs-system-modules
json-prebuilt junit build/soong/java/lint_defaults.txt prebuilts/cmdline-tools/tools/bin/lint
prebuilts/cmdline-tools/tools/lib/lint-classpath.jar
framework-res build/make/core/proguard.flags build/make/core/proguard_basic_keeps.flags build/make/target/product/security
android.hidl.base-V1.0-java android.hidl.manager-V1.0-java org.apache.http.legacy android.test.base android.test.mock"
java_known=$(echo $java_known)
rc=0
for arch in arm64 x86_64; do
	out=$work/out
	rm -f "$out/soong.variables" "$out/build.ninja"
	# The first run writes default soong.variables; then set the arch.
	(cd "$src" && ../out/soong_build -b ../out -n ../out -d ../out/build.ninja.d -l Android.bp.list -o ../out/build.ninja Android.bp >/dev/null 2>&1) || true
	python3 - "$out/soong.variables" "$arch" <<'PY'
import json, sys
p, arch = sys.argv[1], sys.argv[2]
v = json.load(open(p))
v["Allow_missing_dependencies"] = True
if arch == "x86_64":
    v.update({"DeviceArch": "x86_64", "DeviceArchVariant": "", "DeviceCpuVariant": "", "DeviceAbi": ["x86_64"],
              "DeviceSecondaryArch": "x86", "DeviceSecondaryArchVariant": "", "DeviceSecondaryCpuVariant": "", "DeviceSecondaryAbi": ["x86"]})
json.dump(v, open(p, "w"), indent=1)
PY
	log=$(cd "$src" && ../out/soong_build -b ../out -n ../out -d ../out/build.ninja.d -l Android.bp.list -o ../out/build.ninja Android.bp 2>&1) || { echo "$log" >&2; echo "check-bp-soong: FAIL ($arch)" >&2; rc=1; continue; }
	# Drop the toolchain runtime objects and, for the Java client, the SDK
	# stubs, org.json and JUnit that every real tree has; anything left is
	# a real problem.
	bad=$(grep -E '^\s+error = ' "$out/build.ninja" |
		sed -E 's/libclang_rt\.builtins-[a-z0-9_]+-android|libatomic|crtbegin_dynamic|crtend_android//g' |
		awk -v known="$java_known" 'BEGIN { n = split(known, k, " "); for (i = 1; i <= n; i++) ok[k[i]] = 1 }
			/missing dependencies: / {
				sub(/\$$/, ""); head = $0; sub(/missing dependencies: .*/, "missing dependencies: ", head)
				list = $0; sub(/.*missing dependencies: /, "", list); m = split(list, d, ", "); out = ""
				for (i = 1; i <= m; i++) if (!(d[i] in ok)) out = out (out == "" ? "" : ", ") d[i]
				print head out; next }
			{ print }' |
		sed -E 's/[, ]+\$?$//; s/: ,/:/' |
		grep -vE 'missing dependencies:?$' || true)
	if [ -n "$bad" ]; then echo "$bad" >&2; echo "check-bp-soong: FAIL ($arch): unexpected errors in build actions" >&2; rc=1; continue; fi
	for want in system_ext/priv-app/PermdBridge/PermdBridge.apk system_ext/etc/permissions/privapp_allowlist_org.permd.bridge.xml system_ext/bin/permd system_ext/bin/permctl system_ext/etc/permd/permd.json host/linux-x86/bin/preinstall-check system_ext/etc/permd/preinstall-vetting.txt permd-client-host.jar; do
		grep -q "$want" "$out/build.ninja" || { echo "check-bp-soong: FAIL ($arch): no build action installs $want" >&2; rc=1; }
	done
	echo "check-bp-soong: ok ($arch)"
done
exit $rc
