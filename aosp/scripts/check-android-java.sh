#!/usr/bin/env bash
# Compiles the Java that imports android.* (the client's LocalSocket
# transport and the bridge app's glue, with the client and the bridge's
# core they need) against a real Android platform jar, so that a wrong
# assumption about an Android API fails here and not first in a tree build:
#
#   ANDROID_JAR=/path/android.jar [ANDROID_EXTRA_CP=a.jar:b.jar] \
#   [ANDROID_JAR_SHA256=<hex>] check-android-java.sh
#
# ANDROID_JAR is the SDK platform jar for API 35
# (platforms/android-35/android.jar) or, better, a jar with the system and
# hidden APIs the glue uses under platform_apis: true (from a built tree,
# see docs/android-integration.md). ANDROID_EXTRA_CP adds jars after it.
# With ANDROID_JAR_SHA256 set, the jar must have that digest.
#
# Nothing is downloaded: no copy of android.jar could be reached from the
# development host (the doc lists what was tried), so this check runs only
# where an SDK or a tree provides the jar, and is not part of make test.
# The symbols the glue needs beyond the public SDK are listed in
# aosp/apps/PermdBridge/android-api.txt; with a public jar, javac reports
# them as missing, and the list tells which errors those are.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${ANDROID_JAR:-}" ]; then
	echo "check-android-java: FAIL: set ANDROID_JAR to an Android platform jar (API 35), e.g. ANDROID_JAR=\$ANDROID_HOME/platforms/android-35/android.jar" >&2
	exit 2
fi
[ -f "$ANDROID_JAR" ] || { echo "check-android-java: FAIL: ANDROID_JAR=$ANDROID_JAR: no such file" >&2; exit 1; }
command -v javac >/dev/null || { echo "check-android-java: FAIL: no javac (apt-get install openjdk-17-jdk-headless)" >&2; exit 1; }
sum=$(sha256sum "$ANDROID_JAR" | cut -d' ' -f1)
echo "check-android-java: $ANDROID_JAR sha256 $sum"
if [ -n "${ANDROID_JAR_SHA256:-}" ] && [ "$sum" != "$ANDROID_JAR_SHA256" ]; then
	echo "check-android-java: FAIL: $ANDROID_JAR has sha256 $sum, want $ANDROID_JAR_SHA256" >&2
	exit 1
fi
# A jar without these is not an Android platform jar (or not a recent one):
# say so rather than report every class missing.
entries=$(unzip -Z1 "$ANDROID_JAR")
for c in android/app/AppOpsManager.class android/net/LocalSocket.class android/content/pm/PackageManager.class org/json/JSONObject.class; do
	grep -qx "$c" <<<"$entries" || { echo "check-android-java: FAIL: $ANDROID_JAR has no $c: not an Android platform jar" >&2; exit 1; }
done
cp="$ANDROID_JAR${ANDROID_EXTRA_CP:+:$ANDROID_EXTRA_CP}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
client=aosp/java/client
core=aosp/apps/PermdBridge/core
glue=aosp/apps/PermdBridge/src
step() {
	local what=$1
	shift
	if ! javac --release 17 -encoding UTF-8 -d "$tmp/classes" -cp "$tmp/classes:$cp" "$@" 2>"$tmp/err"; then
		cat "$tmp/err" >&2
		echo "check-android-java: FAIL: $what does not compile against $ANDROID_JAR" >&2
		echo "check-android-java: symbols the glue needs beyond the public SDK (aosp/apps/PermdBridge/android-api.txt):" >&2
		grep -v '^#' aosp/apps/PermdBridge/android-api.txt | grep -v '^$' | sed 's/^/check-android-java:   /' >&2
		exit 1
	fi
	cat "$tmp/err"
	echo "check-android-java: ok: $what"
}
mkdir -p "$tmp/classes"
# The client's own code is checked with -Xlint elsewhere (make test-java);
# here it only has to build against Android's org.json.
step "the client (with Android's org.json)" -nowarn $(find "$client/src" -name '*.java' | sort)
step "the client's LocalSocket transport" -Xlint:all $(find "$client/android/src" -name '*.java' | sort)
step "the bridge's core" -Xlint:all $(find "$core/src" -name '*.java' | sort)
step "the bridge's Android glue" -Xlint:all $(find "$glue" -name '*.java' | sort)
echo "check-android-java: ok: every Android-facing source compiles against $ANDROID_JAR${ANDROID_EXTRA_CP:+ (+ $ANDROID_EXTRA_CP)}"
