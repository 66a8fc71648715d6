#!/usr/bin/env bash
# Host tests of the bridge app's Android-independent logic
# (aosp/apps/PermdBridge/core) on the JVM, against a real permd: builds
# the daemon, starts it on a temporary socket with the shipped config and
# a host package map for the test apps, runs the JUnit 4 tests, stops it.
# Needs openjdk-17-jdk-headless, junit4 and libandroid-json-java (AOSP's
# org.json). Skips with a message when no JDK is installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v javac >/dev/null; then
	echo "test-bridge-java: SKIP: no javac (apt-get install openjdk-17-jdk-headless junit4 libandroid-json-java)"
	exit 0
fi
cp_libs=/usr/share/java/com.android.json.jar:/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar
for j in ${cp_libs//:/ }; do
	[ -f "$j" ] || { echo "test-bridge-java: FAIL: $j missing (apt-get install junit4 libandroid-json-java)" >&2; exit 1; }
done
tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
${GO:-go} build -o "$tmp/permd" ./cmd/permd
mkdir -p "$tmp/config" "$tmp/data"
cp -r aosp/etc/permd/. "$tmp/config/"
# The test apps' uids, as packages.list would give them on a device.
cat >"$tmp/config/process.json" <<'JSON'
{
  "mode": "auto",
  "poll_interval": "2s",
  "state_interval": "2s",
  "resync_interval": "5m",
  "window": "2s",
  "logd": false,
  "host_packages": {
    "10201": ["com.example.maps"],
    "10202": ["com.example.cam"],
    "10203": ["com.example.notes"],
    "10204": ["com.example.window"],
    "10205": ["com.example.capped"],
    "10206": ["com.example.gone"],
    "10207": ["com.example.gone"],
    "10208": ["com.example.synced"],
    "10209": ["com.example.denied"],
    "10240": ["com.example.callee"],
    "10241": ["com.example.caller"],
    "10242": ["com.example.woken"],
    "10243": ["com.example.flood"],
    "10244": ["com.example.shown"],
    "10251": ["com.example.sharedto"],
    "10252": ["com.example.tapped"],
    "10253": ["com.example.resumed"],
    "10254": ["com.example.bound"],
    "10255": ["com.example.jobbed"],
    "10256": ["com.example.restarted"]
  }
}
JSON
"$tmp/permd" --config-dir "$tmp/config" --data-dir "$tmp/data" --socket "$tmp/permd.sock" --root / >"$tmp/permd.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
	[ -S "$tmp/permd.sock" ] && break
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/permd.log" >&2; echo "test-bridge-java: FAIL: permd exited" >&2; exit 1; }
	sleep 0.05
done
[ -S "$tmp/permd.sock" ] || { cat "$tmp/permd.log" >&2; echo "test-bridge-java: FAIL: no socket" >&2; exit 1; }
core=aosp/apps/PermdBridge/core
client=aosp/java/client
mkdir -p "$tmp/classes"
# The bridge's logic with the Java client (core and its JDK unix-socket
# transport: on a device the client's LocalSocket transport replaces it).
javac -nowarn --release 17 -encoding UTF-8 -d "$tmp/classes" -cp "$cp_libs" \
	$(find "$client/src" "$client/jdk/src" -name '*.java' | sort)
javac -Xlint:all -Werror --release 17 -encoding UTF-8 -d "$tmp/classes" -cp "$tmp/classes:$cp_libs" \
	$(find "$core/src" "$core/tests/src" -name '*.java' | sort)
tests=$(cd "$core/tests/src" && find . -name '*Test.java' | sed 's|^\./||; s|\.java$||; s|/|.|g' | sort)
if ! java -Dpermd.socket="$tmp/permd.sock" -Dpermd.testdata="$PWD/$core/tests/testdata" \
	-cp "$tmp/classes:$cp_libs" org.junit.runner.JUnitCore $tests; then
	echo "--- permd log" >&2; tail -50 "$tmp/permd.log" >&2
	exit 1
fi
