#!/usr/bin/env bash
# Smoke test of the arm64 build under qemu-aarch64-static (Debian package
# qemu-user-static): a static linux/arm64 build of permd and permctl (the
# same code as the android/arm64 device build, minus bionic's loader) runs
# in host mode against a fixture tree in a temp dir. It starts, answers
# `permctl status`, records a ledger row and reads it back, verifies the
# hash chain, and exits 0 on SIGTERM with its socket removed.
#
# qemu is run directly (no binfmt_misc needed). When qemu-aarch64-static is
# missing it is installed as root, or the script fails saying how; it
# prints SKIP only when the machine cannot run it at all (not amd64/arm64),
# and exits non-zero only when something really fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}

say() { echo "qemu-smoke: $*"; }
fail() { echo "qemu-smoke: FAIL: $*" >&2; [ -f "${log:-}" ] && { echo "--- permd log:" >&2; tail -30 "$log" >&2; }; exit 1; }

case $(uname -m) in
x86_64 | amd64) QEMU=${QEMU:-qemu-aarch64-static} ;;
aarch64 | arm64) QEMU="" ;; # native: run the binaries directly
*)
	echo "################################################################"
	echo "qemu-smoke: SKIP: host $(uname -m) is neither x86_64 nor arm64"
	echo "################################################################"
	exit 0
	;;
esac

if [ -n "$QEMU" ] && ! command -v "$QEMU" >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing qemu-user-static"
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends qemu-user-static >/dev/null
	fi
	command -v "$QEMU" >/dev/null || fail "$QEMU not found; install it: sudo apt-get install qemu-user-static"
fi

tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

say "building linux/arm64 (static, no cgo)"
mkdir -p "$tmp/bin"
for c in permd permctl; do
	tags=""
	[ "$c" = permctl ] && tags=nosqlite # as on a device (build-android.sh)
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 "$GO" build -trimpath -tags "$tags" \
		-ldflags "-s -w -X main.version=qemu-smoke" -o "$tmp/bin/$c" "./cmd/$c"
done
readelf -h "$tmp/bin/permd" | grep -q 'AArch64' || fail "built binary is not AArch64"

# Fixture tree: what permd reads through --root on a device.
root=$tmp/root
mkdir -p "$root/proc/1" "$root/data/system" "$root/dev/socket"
printf 'cpu  1 0 1 100 0 0 0 0 0 0\nbtime 1764000000\n' >"$root/proc/stat"
printf '1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n' >"$root/proc/1/stat"
cat >"$root/data/system/packages.list" <<'PKGS'
com.example.camera 10123 0 /data/user/0/com.example.camera default:targetSdkVersion=34 3003 0 1 1 @system
com.example.notes 10124 0 /data/user/0/com.example.notes default:targetSdkVersion=34 none 0 1 1 com.android.vending
PKGS

sock=$tmp/permd.sock
log=$tmp/permd.log
run() { if [ -n "$QEMU" ]; then "$QEMU" "$@"; else "$@"; fi; }
permctl() { run "$tmp/bin/permctl" --socket "$sock" "$@"; }

ver=$(run "$tmp/bin/permd" --version) || fail "permd --version under qemu"
say "$ver"
case $ver in *arm64*) ;; *) fail "--version does not say arm64: $ver" ;; esac

# Started directly (not through the run function, which would background
# a subshell): $pid must be the qemu process itself, which passes SIGTERM
# on to the guest's handler.
# shellcheck disable=SC2086
$QEMU "$tmp/bin/permd" --socket "$sock" --root "$root" --data-dir "$tmp/data" \
	--config-dir embedded >"$log" 2>&1 &
pid=$!

# qemu-user is slow to start a Go binary: allow up to 60 s.
for _ in $(seq 1 600); do
	[ -S "$sock" ] && permctl status >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || { wait "$pid" || true; pid=""; fail "permd exited during startup"; }
	sleep 0.1
done
out=$(permctl status 2>&1) || fail "permctl status: $out"
say "permctl status ok"
echo "$out" | sed 's/^/    /' | head -12

marker="qemu-smoke-$$"
rec='{"records":[{"uid":10123,"kind":"access","category":"camera","op":"android.permission.CAMERA","result":"allowed","app_state":"foreground","detail":{"attribution_tag":"'$marker'"}}]}'
out=$(permctl call ledger.report "$rec" 2>&1) || fail "ledger.report: $out"
echo "$out" | grep -q '"committed": 1' || fail "ledger.report did not commit one record: $out"
say "ledger.report committed 1 record"

out=$(permctl call ledger.query '{"uid":10123}' 2>&1) || fail "ledger.query: $out"
echo "$out" | grep -q "$marker" || fail "the reported row is not in ledger.query: $out"
say "ledger.query returns the row"

out=$(permctl --json ledger --uid 10123 2>&1) || fail "permctl --json ledger: $out"
echo "$out" | grep -q "$marker" || fail "permctl --json ledger does not show the row: $out"
say "permctl --json ledger shows the row"

out=$(permctl call ledger.verify 2>&1) || fail "ledger.verify: $out"
echo "$out" | grep -q '"ok": true' || fail "ledger.verify: $out"
say "ledger.verify ok"

kill -TERM "$pid"
rc=0
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "permd still running 30 s after SIGTERM"
wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || fail "permd exited with status $rc after SIGTERM"
[ -e "$sock" ] && fail "socket $sock left behind after shutdown"
say "SIGTERM: clean exit, socket removed"
say "ok"
