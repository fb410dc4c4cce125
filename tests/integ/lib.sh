# Shared by the bash integration tests: counting checks and the closing
# "N passed, N failed" line. Source it; call finish last.
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

check() { # what command...: runs the command, counts it as the check <what>
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

finish() { # prints the summary; the test's exit status is its result
	echo "$pass passed, $fail failed"
	[[ $fail == 0 && $pass -gt 0 ]]
}
