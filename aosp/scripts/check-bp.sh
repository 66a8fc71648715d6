#!/usr/bin/env bash
# Checks that every Android.bp in the repository parses and is formatted
# as bpfmt (Debian package blueprint-tools) formats it. This is a syntax
# and style check only: module types and properties are checked by Soong
# itself (docs/aosp.md, "Checking Android.bp with Soong").
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v bpfmt >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "check-bp: installing blueprint-tools"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends blueprint-tools >/dev/null ||
		{ apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends blueprint-tools >/dev/null; }
fi
command -v bpfmt >/dev/null || { echo "check-bp: FAIL: bpfmt not found: sudo apt-get install blueprint-tools" >&2; exit 1; }
mapfile -t bps < <(find . -name '*.bp' -not -path './out/*' -not -path './.git/*' | sort)
[ ${#bps[@]} -gt 0 ] || { echo "check-bp: FAIL: no Android.bp found" >&2; exit 1; }
rc=0
for f in "${bps[@]}"; do
	# bpfmt exits non-zero on a parse error but 0 when it only prints a
	# diff, so the diff output is the verdict.
	if ! out=$(bpfmt -d "$f" 2>&1); then
		echo "$out" >&2; echo "check-bp: FAIL: $f does not parse" >&2; rc=1
	elif [ -n "$out" ]; then
		echo "$out" >&2; echo "check-bp: FAIL: $f is not bpfmt-formatted (run: bpfmt -w $f)" >&2; rc=1
	else
		echo "check-bp: ok ($f)"
	fi
done
exit $rc
