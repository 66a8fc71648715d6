#!/usr/bin/env bash
# Checks the patch series aosp/patches/<project>/NNNN-*.patch against an
# AOSP/LineageOS tree at the tag pinned in aosp/patches/UPSTREAM:
#
#   check-patches.sh TREE                 every project with patches
#   check-patches.sh --project P DIR      one project, DIR is its checkout
#
# Each project's patches are applied in order, each to the result of the
# ones before it, to a scratch copy of the files the series touches (the
# tree itself is never written); any reject fails the run and names the
# patch. (`git apply --check` of the whole series at once cannot do this:
# it checks every patch against the tree as it is, so a file one patch
# creates and a later one changes is reported missing.) Every patch must
# also carry the header fields What:, Why:, Article: and Upstream:.
#
# A project's directory may be a full checkout or a partial tree: only
# the files the series patches, laid out at their paths, each as stored at
# the commit aosp/patches/UPSTREAM pins for it. A partial tree is marked
# by a file PARTIAL-TREE at its top naming where each file came from; the
# output says which kind was checked, and for a partial tree prints that
# file, since it proves the hunks match those files and nothing about the
# rest of the project.
set -euo pipefail
cd "$(dirname "$0")/../.."
only=""
if [ "${1:-}" = --project ]; then
	only=$2
	[ -d "${3:-}" ] || { echo "check-patches: FAIL: ${3:-(none)} is not a directory" >&2; exit 1; }
	dir=$(cd "$3" && pwd)
	shift 3
else
	[ $# -eq 1 ] || { echo "usage: $0 TREE | --project PROJECT DIR" >&2; exit 2; }
	[ -d "$1" ] || { echo "check-patches: FAIL: $1 is not a directory (want an AOSP/LineageOS checkout)" >&2; exit 1; }
	tree=$(cd "$1" && pwd)
fi
rc=0
mapfile -t projects < <(find aosp/patches -name '*.patch' -printf '%h\n' | sed 's|^aosp/patches/||' | sort -u)
[ ${#projects[@]} -gt 0 ] || { echo "check-patches: FAIL: no patches under aosp/patches" >&2; exit 1; }
for p in "${projects[@]}"; do
	if [ -n "$only" ]; then
		[ "$p" = "$only" ] || continue
		target=$dir
	else
		target=$tree/$p
	fi
	mapfile -t series < <(find "aosp/patches/$p" -name '[0-9][0-9][0-9][0-9]-*.patch' | sort)
	for f in "${series[@]}"; do
		for field in What: Why: Article: Upstream:; do
			grep -q "^$field" "$f" || { echo "check-patches: FAIL: $f has no $field line in its header" >&2; rc=1; }
		done
	done
	if [ ! -d "$target" ]; then
		echo "check-patches: FAIL: $p: no checkout at $target" >&2
		rc=1
		continue
	fi
	abs=()
	for f in "${series[@]}"; do abs+=("$PWD/$f"); done
	if [ -f "$target/PARTIAL-TREE" ]; then
		kind="partial tree: only the patched files"
		sed 's/^/check-patches:   /' "$target/PARTIAL-TREE"
	else
		kind="full checkout"
	fi
	scratch=$(mktemp -d)
	mapfile -t touched < <(sed -n 's|^--- a/||p' "${abs[@]}" | sort -u)
	for f in "${touched[@]}"; do
		if [ -f "$target/$f" ]; then
			mkdir -p "$scratch/$(dirname "$f")"
			cp "$target/$f" "$scratch/$f"
		fi
	done
	failed=""
	for f in "${abs[@]}"; do
		if ! (cd "$scratch" && git apply "$f"); then
			failed=$f
			break
		fi
	done
	rm -rf "$scratch"
	if [ -z "$failed" ]; then
		echo "check-patches: ok ($p: ${#series[@]} patch(es) apply in order to $target, a $kind)"
	else
		echo "check-patches: FAIL: $p: ${failed##*/} does not apply to $target, a $kind (after the patches before it)" >&2
		rc=1
	fi
done
exit $rc
