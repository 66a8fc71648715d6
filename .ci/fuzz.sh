#!/usr/bin/env bash
# Runs every Go fuzz target for the given time (default 10s) on top of its
# seed corpus. go test -fuzz takes one target per run, so list them.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-10s}
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
		echo "fuzz $pkg $f ($t)"
		# On a loaded machine the go command can report "context deadline
		# exceeded" when the fuzz time ends while a worker is between
		# inputs, with no failing input found. That run is repeated once;
		# a real failure writes its input under testdata/fuzz and fails.
		out=$(mktemp)
		if ! go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg" 2>&1 | tee "$out"; then
			if grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"; then
				echo "fuzz $pkg $f: the go command stopped on its own deadline without a failing input; running it again"
				go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg" || { rm -f "$out"; exit 1; }
			else
				rm -f "$out"
				exit 1
			fi
		fi
		rm -f "$out"
	done
done
