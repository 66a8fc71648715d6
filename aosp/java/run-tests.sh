#!/usr/bin/env bash
# Builds the Java client with plain javac (core --release 11, the JDK
# unix-socket transport --release 17) and runs its JUnit 4 tests against a
# real permd built from this tree. `run-tests.sh bench` runs the Java
# benchmarks instead. Needs Debian's openjdk-17-jdk-headless, junit4,
# libandroid-json-java (make test installs them through .ci/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
mode=${1:-test}

JSON=/usr/share/java/com.android.json.jar
JUNIT=/usr/share/java/junit4.jar
HAMCREST=/usr/share/java/hamcrest-core.jar
for j in "$JSON" "$JUNIT" "$HAMCREST"; do
	[ -r "$j" ] || { echo "run-tests.sh: missing $j (apt-get install libandroid-json-java junit4)" >&2; exit 1; }
done
command -v javac >/dev/null || { echo "run-tests.sh: no javac (apt-get install openjdk-17-jdk-headless)" >&2; exit 1; }

# Other-uid test processes (setpriv) must read the classes and reach the
# sockets, so the work dir is world-readable.
work=$(mktemp -d /tmp/permd-java.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
umask 022

${GO:-go} build -o "$work/bin/" ./cmd/permd
client=aosp/java/client
javac -nowarn --release 11 -encoding UTF-8 -cp "$JSON" -d "$work/core" $(find $client/src -name '*.java')
javac -nowarn --release 17 -encoding UTF-8 -cp "$work/core:$JSON" -d "$work/jdk" $(find $client/jdk/src -name '*.java')
javac -nowarn --release 17 -encoding UTF-8 -cp "$work/core:$work/jdk:$JSON:$JUNIT:$HAMCREST" -d "$work/tests" \
	$(find $client/tests/src -name '*.java')

cp="$work/core:$work/jdk:$work/tests:$JSON:$JUNIT:$HAMCREST"
props=(-Dpermd.bin="$work/bin/permd" -Dpermd.repo="$repo" -Dpermd.testdata="$repo/$client/tests/testdata"
	-Dpermd.tmp="$work" -Dpermd.classpath="$cp")
if [ "$mode" = bench ]; then
	# The Go benchmark starts the daemon, measures the Go client and runs
	# org.permd.client.Bench on the same daemon (aosp/java/bench_test.go).
	PERMD_BIN="$work/bin/permd" PERMD_JAVA_CLASSPATH="$cp" ${GO:-go} test -run '^$' -bench BenchmarkJavaClient -benchtime 1x -v ./aosp/java
	exit
fi
classes=$(cd $client/tests/src && find . -name '*Test.java' | sed 's|^\./||; s|\.java$||; s|/|.|g' | sort)
java "${props[@]}" -cp "$cp" org.junit.runner.JUnitCore $classes
