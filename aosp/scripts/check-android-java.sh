#!/usr/bin/env bash
# Compiles the Java that runs on Android (the client's LocalSocket
# transport, the bridge app's glue and the Java files the patch series
# adds, with the client and the bridge's core they use) against the real
# Android API, so that a wrong assumption about an Android API fails here
# and not first in a tree build. Give one of:
#
#   ANDROID_SOURCES=DIR  the SDK's "Sources for Android 35" package
#                        (sdkmanager "sources;android-35": DIR is
#                        $ANDROID_HOME/sources/android-35). It holds the
#                        framework's own sources, @SystemApi and @hide
#                        members included, which is what the glue uses
#                        under platform_apis: true.
#   ANDROID_JAR=FILE     a platform jar: platforms/android-35/android.jar
#                        (public API only: the system and hidden members
#                        the glue uses, listed in
#                        aosp/apps/PermdBridge/android-api.txt, are then
#                        reported missing), or a tree's framework jar.
#
# ANDROID_SHA256 pins the input: the jar's sha256, or for sources the
# sha256 of the sorted "sha256  path" lines of every file under DIR. With
# ANDROID_EXTRA_CP, jars are added to the class path.
#
# Against sources, javac reads only the framework files the checked code
# reaches (-sourcepath, -implicit:none: nothing of the SDK is built); those
# files name classes that a build generates (aconfig flags, AIDL stubs,
# android.R) and the sources package lacks, so javac reports errors in
# them: those are not this check's concern. It fails on any error or
# warning (-Xlint:all) in this repository's files, except a reference to
# android.R (generated, not in the package).
#
# Nothing is downloaded and the check is not part of make test: no copy of
# the SDK could be fetched by the package registries CI reaches
# (docs/android-integration.md says what was tried and what was checked).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v javac >/dev/null || { echo "check-android-java: FAIL: no javac (apt-get install openjdk-17-jdk-headless)" >&2; exit 1; }
if [ -n "${ANDROID_SOURCES:-}" ] && [ -n "${ANDROID_JAR:-}" ]; then
	echo "check-android-java: FAIL: set ANDROID_SOURCES or ANDROID_JAR, not both" >&2
	exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${ANDROID_SOURCES:-}" ]; then
	src=$(cd "$ANDROID_SOURCES" 2>/dev/null && pwd) || { echo "check-android-java: FAIL: ANDROID_SOURCES=$ANDROID_SOURCES: not a directory" >&2; exit 1; }
	for f in android/app/AppOpsManager.java android/net/LocalSocket.java android/os/SystemProperties.java; do
		[ -f "$src/$f" ] || { echo "check-android-java: FAIL: $src has no $f: not the SDK's Android sources package" >&2; exit 1; }
	done
	level=$(sed -n 's/^AndroidVersion.ApiLevel=//p' "$src/source.properties" 2>/dev/null || true)
	sum=$(cd "$src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
	what="the Android sources $src (API ${level:-unknown})"
	input=(-sourcepath "$src")
	cp="${ANDROID_EXTRA_CP:-}"
elif [ -n "${ANDROID_JAR:-}" ]; then
	[ -f "$ANDROID_JAR" ] || { echo "check-android-java: FAIL: ANDROID_JAR=$ANDROID_JAR: no such file" >&2; exit 1; }
	entries=$(unzip -Z1 "$ANDROID_JAR")
	for c in android/app/AppOpsManager.class android/net/LocalSocket.class org/json/JSONObject.class; do
		grep -qx "$c" <<<"$entries" || { echo "check-android-java: FAIL: $ANDROID_JAR has no $c: not an Android platform jar" >&2; exit 1; }
	done
	sum=$(sha256sum "$ANDROID_JAR" | cut -d' ' -f1)
	what="the Android jar $ANDROID_JAR"
	input=()
	cp="$ANDROID_JAR${ANDROID_EXTRA_CP:+:$ANDROID_EXTRA_CP}"
else
	echo "check-android-java: FAIL: set ANDROID_SOURCES to the SDK's sources/android-35 (or ANDROID_JAR to a platform jar)" >&2
	exit 2
fi
echo "check-android-java: $what, sha256 $sum"
# The inputs this check was run against and documented with
# (docs/android-integration.md): another digest is another revision or a
# changed copy, which is said, not refused.
declare -A pinned=(
	[sources-35]=d70ac1b1c8840a577ead0d5b11addf4f23acf5d37dba0acb67d88b0143764a47
	[sources-34]=31fcaa4bb99fdbae094bf65e16957b69f6cf9cebd0d598b5ed49d465d20fec5c
)
if [ -n "${ANDROID_SOURCES:-}" ] && [ -n "${pinned[sources-${level:-}]:-}" ]; then
	if [ "${pinned[sources-$level]}" = "$sum" ]; then
		echo "check-android-java: these are the pinned sources-$level (revision 1)"
	else
		echo "check-android-java: note: not the pinned sources-$level (${pinned[sources-$level]}): another revision or a changed copy"
	fi
fi
if [ -n "${ANDROID_SHA256:-}" ] && [ "$sum" != "$ANDROID_SHA256" ]; then
	echo "check-android-java: FAIL: $what has sha256 $sum, want $ANDROID_SHA256" >&2
	exit 1
fi
# The Java files the patch series adds, as the series leaves them (a later
# patch may change a file an earlier one creates).
mkdir -p "$tmp/patched" "$tmp/classes"
(cd "$tmp/patched" && git init -q .)
for p in $(find aosp/patches -name '[0-9][0-9][0-9][0-9]-*.patch' | sort); do
	(cd "$tmp/patched" && git apply --include='*/Permd*.java' "$OLDPWD/$p")
done
mapfile -t ours < <(find aosp/java/client/src aosp/java/client/android/src aosp/apps/PermdBridge/core/src aosp/apps/PermdBridge/src -name '*.java' | sort)
mapfile -t added < <(cd "$tmp/patched" && find . -name '*.java' | sed 's|^\./||' | sort)
echo "check-android-java: compiling ${#ours[@]} files of this repository and ${#added[@]} the patches add"
files=("${ours[@]}")
for f in "${added[@]}"; do files+=("$tmp/patched/$f"); done
set +e
# should-stop.ifError=FLOW: javac goes on checking this repository's files
# after the errors it finds in the framework's (missing generated classes).
javac --release 17 -Xlint:all -encoding UTF-8 -proc:none -implicit:none \
	-XDshould-stop.ifError=FLOW -Xmaxerrs 1000000 -Xmaxwarns 1000000 \
	"${input[@]}" ${cp:+-cp "$cp"} -d "$tmp/classes" "${files[@]}" >"$tmp/log" 2>&1
set -e
# javac failing as a whole (a bad option, a crash) is not a clean result.
if grep -qE '^(error|javac|An exception has occurred)' "$tmp/log"; then
	tail -20 "$tmp/log" >&2
	echo "check-android-java: FAIL: javac did not run to the end" >&2
	exit 1
fi
# A diagnostic starts with "file:line: error|warning: message"; keep ours,
# with the lines that follow it up to the next diagnostic.
awk -v tmp="$tmp/patched/" '
	/^[^ ].*:[0-9]+: (error|warning): / {
		keep = (index($0, "aosp/") == 1 || index($0, tmp) == 1)
		if (keep && $0 ~ /error: package android\.R does not exist/) { keep = 0; generated++ }
		if (keep) n++
	}
	/^[0-9]+ (errors?|warnings?)$/ { keep = 0 }
	keep { sub(tmp, "(patch) "); print }
	END { if (generated) printf "check-android-java: not checked: %d reference(s) to android.R (generated by a build)\n", generated > "/dev/stderr"; exit n > 0 }
' "$tmp/log" >"$tmp/ours" || {
	cat "$tmp/ours" >&2
	echo "check-android-java: FAIL: errors or warnings above in this repository's Java against $what" >&2
	if [ -n "${ANDROID_JAR:-}" ]; then
		echo "check-android-java: members the glue uses beyond the public SDK (aosp/apps/PermdBridge/android-api.txt):" >&2
		grep -v '^#' aosp/apps/PermdBridge/android-api.txt | grep -v '^$' | sed 's/^/check-android-java:   /' >&2
	fi
	exit 1
}
echo "check-android-java: ok: no error or warning in this repository's Java against $what"
