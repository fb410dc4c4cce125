#!/bin/bash
# Runs every test with a time limit and prints "N passed, N failed".
# Exit status 77 from a test means skipped; under CI=true a skip is a failure.
# Usage: tests/run.sh [PATTERN]   (runs the tests whose name contains PATTERN)
#
# The tests expected are derived from the files present: each
# tests/unit/test_*.c, tests/xdp/test_*.c and tests/fuzz/fuzz_*.c must have
# its binary (the ASan, XDP and fuzz builds under CI=true, or when their
# build folder exists) and each tests/integ/test_*.{py,sh} runs. A test that
# is expected and not built is a failure, and so is a run in which fewer
# tests ran than were expected.
set -u
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
PATTERN=${1:-}
pass=0
fail=0
skip=0
failed_names=()
skipped_names=()
expected=0

matches() { [[ -z $PATTERN || $1 == *"$PATTERN"* ]]; }

not_built() { # name binary
	matches "$1" || return
	expected=$((expected + 1))
	fail=$((fail + 1))
	failed_names+=("$1")
	printf 'FAIL  %-45s        (not built: %s; run make test)\n' "$1" "$2"
}

run_one() { # name timeout cmd...
	local name=$1 limit=$2
	shift 2
	matches "$name" || return
	expected=$((expected + 1))
	local log
	log=$(mktemp)
	local start=$SECONDS
	# PXD_TEST_LOCK=FILE serialises the tests that own fixed names (network
	# namespaces, /sys/fs/bpf/pixeld) or measure load between checkouts
	# tested side by side on one machine.
	local lock=()
	[[ -n ${PXD_TEST_LOCK:-} && $name == @(integ|xdp)/* ]] && lock=(flock "$PXD_TEST_LOCK")
	"${lock[@]}" timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
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

wanted() { # build-folder: under CI=true, or when that build exists
	[[ ${CI:-} == true || -d $1 ]]
}

run_binaries() { # label build-folder limit sources...: each source's binary, or not built
	local label=$1 dir=$2 limit=$3 src name
	shift 3
	for src in "$@"; do
		name=$(basename "$src" .c)
		if [[ -x $dir/$name ]]; then
			run_one "$label/$name" "$limit" "$dir/$name"
		else
			not_built "$label/$name" "$dir/$name"
		fi
	done
}

run_binaries unit "$BUILD/obj/tests/unit" 120 tests/unit/test_*.c
if wanted "$BUILD/san/tests/unit"; then
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		run_binaries asan+ubsan "$BUILD/san/tests/unit" 300 tests/unit/test_*.c
fi
wanted "$BUILD/obj/tests/xdp" && run_binaries xdp "$BUILD/obj/tests/xdp" 120 tests/xdp/test_*.c
# Each fuzzer runs briefly from its seed corpus (new inputs go to a scratch
# directory, never into the repository); tests/fuzz/README says how to run longer.
if wanted "$BUILD/fuzz"; then
	for src in tests/fuzz/fuzz_*.c; do
		name=$(basename "$src" .c)
		t=$BUILD/fuzz/$name
		if [[ ! -x $t ]]; then
			not_built "fuzz/$name" "$t"
			continue
		fi
		scratch=$(mktemp -d)
		run_one "fuzz/$name" 60 "$t" -max_total_time="${FUZZ_SECONDS:-10}" -timeout=5 \
			"$scratch" "tests/fuzz/corpus/${name#fuzz_}"
		rm -rf "$scratch"
	done
fi
# Every integration test's pixeld leaves its log here; the last check reads
# them all for secrets and plain emails.
PXD_LOG_ARCHIVE=$(mktemp -d /tmp/pixeld-logs.XXXXXX)
export PXD_LOG_ARCHIVE
for t in tests/integ/test_*.sh tests/integ/test_*.py; do
	[[ -f $t ]] || continue
	case $t in
	*.py) run_one "integ/$(basename "$t")" 600 python3 "$t" ;;
	*) run_one "integ/$(basename "$t")" 600 bash "$t" ;;
	esac
done
run_one "integ/log_secrets" 600 python3 tests/integ/check_log_secrets.py
rm -rf "$PXD_LOG_ARCHIVE"

if [[ ${CI:-} == true && $skip -gt 0 ]]; then
	echo "CI=true: skipped tests count as failures: ${skipped_names[*]}"
	fail=$((fail + skip))
	skip=0
fi
ran=$((pass + fail + skip))
if [[ $ran -lt $expected || $expected == 0 ]]; then
	echo "expected $expected tests${PATTERN:+ matching \"$PATTERN\"}, $ran ran"
	fail=$((fail + expected - ran + (expected == 0)))
fi
[[ ${#failed_names[@]} -gt 0 ]] && echo "failed: ${failed_names[*]}"
if [[ $skip -gt 0 ]]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[[ $fail == 0 ]]
