#!/usr/bin/env bash
# Builds the device binaries that Android.bp installs as prebuilts:
#   out/android/arm64/{permd,permctl}   GOOS=android GOARCH=arm64, no cgo:
#                                        PIE, interpreter /system/bin/linker64
#   out/android/x86_64/{permd,permctl}  GOOS=linux GOARCH=amd64, static, for
#                                        x86_64 Cuttlefish (android/amd64 would
#                                        need cgo and the NDK to link)
# Both are stripped (-s -w) and stamped with `git describe`; --version also
# names the SQLite driver linked (modernc without cgo). Then checks the ELF
# headers, so a wrong toolchain setting fails here and not on a device.
set -euo pipefail
cd "$(dirname "$0")/../.."

GO=${GO:-go}
OUT=${OUT:-out/android}
VERSION=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo dev)}
LDFLAGS="-s -w -X main.version=${VERSION}"
CMDS=(permd permctl)

# tags: permctl on a device talks to permd over the socket only, so it
# links no SQLite (about 4 MB less on arm64); --db is for a host permctl.
# aosp/deps_test.go checks this line.
tags() {
	case $1 in
	permctl) echo nosqlite ;;
	esac
}

build() { # goos goarch dir
	local goos=$1 goarch=$2 dir=$OUT/$3
	mkdir -p "$dir"
	for c in "${CMDS[@]}"; do
		GOOS=$goos GOARCH=$goarch CGO_ENABLED=0 \
			"$GO" build -trimpath -tags "$(tags "$c")" -ldflags "$LDFLAGS" -o "$dir/$c" "./cmd/$c"
	done
}

fail() { echo "build-android: $*" >&2; exit 1; }

need() { command -v "$1" >/dev/null || fail "$1 not found (Debian package $2)"; }
need readelf binutils
need file file

build android arm64 arm64
build linux amd64 x86_64

# arm64: Android's bionic loader runs only PIE executables; Go's internal
# linker must have named linker64 as interpreter and added no libraries
# (a DT_NEEDED here means cgo crept in, and the libc would be missing).
for c in "${CMDS[@]}"; do
	f=$OUT/arm64/$c
	readelf -h "$f" | grep -q 'Machine:.*AArch64' || fail "$f: not an AArch64 ELF"
	readelf -h "$f" | grep -Eq 'Type:[[:space:]]+DYN' || fail "$f: not PIE (ELF type is not DYN)"
	interp=$(readelf -l "$f" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
	[ "$interp" = /system/bin/linker64 ] || fail "$f: interpreter is '${interp}', want /system/bin/linker64"
	if readelf -d "$f" | grep -q '(NEEDED)'; then
		fail "$f: links shared libraries: $(readelf -d "$f" | grep '(NEEDED)' | tr -s ' ' | tr '\n' ';')"
	fi
	readelf -S "$f" | grep -q '\.symtab' && fail "$f: not stripped (.symtab present)"
	echo "$(file -b "$f" | cut -d, -f1-4)  $f"
done

# x86_64: fully static, so it runs on Cuttlefish without bionic.
for c in "${CMDS[@]}"; do
	f=$OUT/x86_64/$c
	readelf -h "$f" | grep -q 'Machine:.*X86-64' || fail "$f: not an x86-64 ELF"
	readelf -l "$f" | grep -q 'program interpreter' && fail "$f: dynamically linked (has an interpreter)"
	readelf -d "$f" 2>/dev/null | grep -q '(NEEDED)' && fail "$f: links shared libraries"
	readelf -S "$f" | grep -q '\.symtab' && fail "$f: not stripped (.symtab present)"
	echo "$(file -b "$f" | cut -d, -f1-4)  $f"
done

ls -l "$OUT"/*/
echo "build-android: ok (version $VERSION)"
