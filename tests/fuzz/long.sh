#!/bin/bash
# make fuzz-long: runs every fuzzer for FUZZ_LONG_SECONDS (default 600) from
# its corpus in tests/fuzz/corpus/<parser>/, merges the inputs that found new
# coverage back into that folder (-merge=1 keeps it small) and keeps crashes,
# timeouts and leaks in tests/fuzz/corpus/crashes/. Prints one line per
# fuzzer with its runs and coverage, then "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SECONDS_EACH=${FUZZ_LONG_SECONDS:-600}
crashes=tests/fuzz/corpus/crashes
mkdir -p "$crashes"
pass=0
fail=0
for t in "$BUILD"/fuzz/fuzz_*; do
	[[ -x $t ]] || continue
	name=$(basename "$t")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	mkdir -p "$corpus"
	scratch=$(mktemp -d)
	log=$(mktemp)
	dict=()
	[[ $name == fuzz_http_parse ]] && dict=(-dict=tests/fuzz/http.dict)
	before=$(find "$corpus" -maxdepth 1 -type f | wc -l)
	timeout --kill-after=30 $((SECONDS_EACH + 120)) "$t" "${dict[@]}" \
		-max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$crashes/$name-" "$scratch" "$corpus" >"$log" 2>&1
	rc=$?
	"$t" -merge=1 "$corpus" "$scratch" >/dev/null 2>&1
	after=$(find "$corpus" -maxdepth 1 -type f | wc -l)
	stats=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	if [[ $rc == 0 ]]; then
		pass=$((pass + 1))
		printf 'ok   %-22s %ss, corpus %d -> %d; %s\n' "$name" "$SECONDS_EACH" "$before" \
			"$after" "$stats"
	else
		fail=$((fail + 1))
		printf 'FAIL %-22s exit %s; artifacts in %s/%s-*\n' "$name" "$rc" "$crashes" "$name"
		tail -n 30 "$log" | sed 's/^/    | /'
	fi
	rm -rf "$scratch" "$log"
done
echo "$pass passed, $fail failed"
[[ $fail == 0 && $pass -gt 0 ]]
