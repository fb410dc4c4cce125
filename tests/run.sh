#!/bin/bash
# Runs every test with a time limit and prints "N passed, N failed".
# Exit status 77 from a test means skipped; under CI=true a skip is a failure.
# Usage: tests/run.sh [PATTERN]   (runs the tests whose name contains PATTERN)
set -u
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
PATTERN=${1:-}
pass=0
fail=0
skip=0
failed_names=()
skipped_names=()

run_one() { # name timeout cmd...
	local name=$1 limit=$2
	shift 2
	[[ -n $PATTERN && $name != *"$PATTERN"* ]] && return
	local log
	log=$(mktemp)
	local start=$SECONDS
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
	local rc=$?
	local took=$((SECONDS - start))
	if [[ $rc == 0 ]]; then
		pass=$((pass + 1))
		printf 'PASS  %-45s %4ss\n' "$name" "$took"
	elif [[ $rc == 77 ]]; then
		skip=$((skip + 1))
		skipped_names+=("$name")
		printf 'SKIP  %-45s %4ss  %s\n' "$name" "$took" "$(tail -n 1 "$log")"
	else
		fail=$((fail + 1))
		failed_names+=("$name")
		[[ $rc == 124 || $rc == 137 ]] && echo "(timed out after ${limit}s)" >>"$log"
		printf 'FAIL  %-45s %4ss  (exit %s)\n' "$name" "$took" "$rc"
		sed 's/^/    | /' "$log" | tail -n 60
	fi
	rm -f "$log"
}

for t in "$BUILD"/obj/tests/unit/test_*; do
	[[ -x $t ]] && run_one "unit/$(basename "$t")" 120 "$t"
done
for t in "$BUILD"/san/tests/unit/test_*; do
	[[ -x $t ]] && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		run_one "asan+ubsan/$(basename "$t")" 300 "$t"
done
for t in "$BUILD"/obj/tests/xdp/test_*; do
	[[ -x $t ]] && run_one "xdp/$(basename "$t")" 120 "$t"
done
# Each fuzzer runs briefly from its seed corpus (new inputs go to a scratch
# directory, never into the repository); tests/fuzz/README says how to run longer.
for t in "$BUILD"/fuzz/fuzz_*; do
	[[ -x $t ]] || continue
	name=$(basename "$t")
	scratch=$(mktemp -d)
	run_one "fuzz/$name" 60 "$t" -max_total_time="${FUZZ_SECONDS:-10}" -timeout=5 \
		"$scratch" "tests/fuzz/corpus/${name#fuzz_}"
	rm -rf "$scratch"
done
for t in tests/integ/test_*.sh tests/integ/test_*.py; do
	[[ -f $t ]] || continue
	case $t in
	*.py) run_one "integ/$(basename "$t")" 600 python3 "$t" ;;
	*) run_one "integ/$(basename "$t")" 600 bash "$t" ;;
	esac
done

if [[ ${CI:-} == true && $skip -gt 0 ]]; then
	echo "CI=true: skipped tests count as failures: ${skipped_names[*]}"
	fail=$((fail + skip))
	skip=0
fi
[[ ${#failed_names[@]} -gt 0 ]] && echo "failed: ${failed_names[*]}"
if [[ $skip -gt 0 ]]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[[ $fail == 0 && $((pass + skip)) -gt 0 ]]
