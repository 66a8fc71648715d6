#!/usr/bin/env bash
# Compiles permd's SELinux policy (sepolicy/*.te, file_contexts).
#
#   check-sepolicy.sh                      against the small base policy in
#                                          aosp/sepolicy-test (CI)
#   check-sepolicy.sh --platform DIR       against a real system/sepolicy tree
#                                          (e.g. an unpacked lineage-22.0 of
#                                          LineageOS/android_system_sepolicy)
#   options: --variant user|userdebug (default: both), --keep DIR
#
# The files are m4-expanded in the order build/soong/policy.go uses
# (policyConfOrder) and compiled with checkpolicy; file_contexts is then
# checked against the compiled policy with setfiles -c.
#
# Against the base policy this proves syntax, macro use, that every type,
# attribute, class and permission permd's files name is declared, that the
# file_contexts lines are valid, and that permd's own neverallows hold. It
# does not prove that the AOSP types exist with these names in a given
# release or that AOSP's neverallows hold: --platform does that.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

platform=""
variants=(user userdebug)
keep=""
while [ $# -gt 0 ]; do
	case $1 in
	--platform) platform=$(cd "$2" && pwd); shift 2 ;;
	--variant) variants=("$2"); shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	*) echo "usage: $0 [--platform DIR] [--variant user|userdebug] [--keep DIR]" >&2; exit 2 ;;
	esac
done

PATH=$PATH:/sbin:/usr/sbin
missing=()
for t in m4:m4 checkpolicy:checkpolicy setfiles:policycoreutils; do
	command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
done
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "check-sepolicy: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		{ apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi
for t in m4:m4 checkpolicy:checkpolicy setfiles:policycoreutils; do
	command -v "${t%%:*}" >/dev/null || { echo "check-sepolicy: FAIL: ${t%%:*} not found: sudo apt-get install ${t#*:}" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Policy file order from system/sepolicy build/soong/policy.go.
order=(security_classes initial_sids access_vectors global_macros neverallow_macros
	mls_macros mls_decl mls policy_capabilities te_macros ioctl_defines ioctl_macros
	'attributes|*.te' roles_decl roles users initial_sid_contexts fs_use genfs_contexts
	port_contexts)

# ordered_files DIR...: the policy files of the DIRs in conf order; within
# the attributes|*.te group, each dir's attributes file comes first.
ordered_files() {
	local key d f
	for key in "${order[@]}"; do
		for d in "$@"; do
			if [ "$key" = 'attributes|*.te' ]; then
				[ -f "$d/attributes" ] && echo "$d/attributes"
				for f in "$d"/*.te; do [ -f "$f" ] && echo "$f"; done
			else
				[ -f "$d/$key" ] && echo "$d/$key"
			fi
		done
	done
	return 0
}

if [ -n "$platform" ]; then
	[ -f "$platform/public/te_macros" ] || { echo "check-sepolicy: $platform is not a system/sepolicy tree" >&2; exit 1; }
	dirs=("$platform/public" "$platform/private" sepolicy)
	extra=("$platform/flagging/te_macros")
	fc=("$platform/private/file_contexts" sepolicy/file_contexts)
	label="platform policy $platform"
else
	dirs=(aosp/sepolicy-test sepolicy)
	extra=()
	fc=(sepolicy/file_contexts)
	label="test base policy aosp/sepolicy-test"
fi
mapfile -t files < <(ordered_files "${dirs[@]}")
# flagging/te_macros sorts with te_macros (soong sorts by base name).
if [ ${#extra[@]} -gt 0 ]; then
	mapfile -t files < <(for f in "${files[@]}"; do
		echo "$f"
		[ "$f" = "$platform/public/te_macros" ] && printf '%s\n' "${extra[@]}"
	done)
fi

# m4conf VARIANT FILE...: the expanded policy.conf on stdout, with the -D
# set build/soong/policy.go passes for a full-treble phone without asan or
# coverage.
m4conf() {
	local variant=$1; shift
	m4 --fatal-warnings -s \
		-D mls_num_sens=1 -D mls_num_cats=1024 \
		-D target_arch=x86_64 -D target_with_asan=false -D target_with_dexpreopt=false \
		-D target_with_native_coverage=false -D target_build_variant="$variant" \
		-D target_full_treble=true -D target_compatible_property=true \
		-D target_treble_sysprop_neverallow=true -D target_enforce_sysprop_owner=true \
		-D target_exclude_build_test=false \
		-D target_requires_insecure_execmem_for_swiftshader=false \
		-D target_enforce_debugfs_restriction=true -D target_recovery=false \
		-D target_board_api_level=202504 \
		"$@"
}

rc=0
for variant in "${variants[@]}"; do
	conf=$work/policy.$variant.conf
	bin=$work/policy.$variant.bin
	m4conf "$variant" "${files[@]}" >"$conf"
	if ! out=$(checkpolicy -M -c 30 -o "$bin" "$conf" 2>&1); then
		echo "$out" | tail -40 >&2
		echo "check-sepolicy: FAIL ($variant, $label): checkpolicy rejected the policy" >&2
		rc=1
		continue
	fi
	cat "${fc[@]}" >"$work/file_contexts"
	if ! out=$(setfiles -c "$bin" "$work/file_contexts" 2>&1); then
		echo "$out" >&2
		echo "check-sepolicy: FAIL ($variant, $label): file_contexts invalid" >&2
		rc=1
		continue
	fi
	for need in permd_exec permd_socket permd_data_file; do
		grep -q "^type $need," "$conf" || { echo "check-sepolicy: FAIL: type $need not declared" >&2; rc=1; }
	done
	[ -n "$keep" ] && mkdir -p "$keep" && cp "$conf" "$bin" "$keep/"
	echo "check-sepolicy: ok ($variant, $label, ${#files[@]} files)"
done

# The neverallows must bite: each of these rules added to the policy has
# to be rejected, or the check above proves nothing about who may connect.
negatives=(
	'unix_socket_connect(untrusted_app, permd, permd)'
	'allow vendor_init permd:unix_stream_socket connectto;'
	'allow untrusted_app permd_data_file:file read;'
)
for rule in "${negatives[@]}"; do
	echo "$rule" >"$work/zz_negative.te"
	# Insert it after permd's own .te files, inside the te group.
	mapfile -t nfiles < <(last=""
		for f in "${files[@]}"; do [[ $f == sepolicy/*.te ]] && last=$f; done
		for f in "${files[@]}"; do echo "$f"; [ "$f" = "$last" ] && echo "$work/zz_negative.te"; done)
	m4conf "${variants[0]}" "${nfiles[@]}" >"$work/neg.conf"
	if out=$(checkpolicy -M -c 30 -o "$work/neg.bin" "$work/neg.conf" 2>&1); then
		echo "check-sepolicy: FAIL: policy accepted a forbidden rule: $rule" >&2
		rc=1
	elif ! grep -q 'neverallow on line .* of sepolicy/permd' <<<"$out"; then
		echo "$out" | tail -5 >&2
		echo "check-sepolicy: FAIL: '$rule' was rejected, but not by permd's neverallow" >&2
		rc=1
	else
		echo "check-sepolicy: ok (neverallow rejects: $rule)"
	fi
done
exit $rc
