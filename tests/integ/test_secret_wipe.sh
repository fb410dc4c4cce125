#!/bin/bash
# Secret buffers are wiped with OPENSSL_cleanse() or explicit_bzero(): a plain
# memset() before free() is a dead store the compiler may drop, leaving the
# secret in freed memory. Checks the sources for a memset() of a buffer named
# for a secret.
set -u
cd "$(dirname "$0")/../.."
pass=0
fail=0
pattern='memset\([^;]*(secret|token|refresh|password|passwd|api_key|admin_key)'
hits=$(grep -rnE "$pattern" daemon delivery adapters --include='*.c')
if [[ -z $hits ]]; then
	echo "ok   no memset() of a secret buffer"
	pass=$((pass + 1))
else
	echo "FAIL memset() of a secret buffer; use OPENSSL_cleanse() or explicit_bzero():"
	echo "$hits"
	fail=$((fail + 1))
fi
# The check itself finds what it looks for.
if echo 'memset(w->secret, 0, sizeof(w->secret));' | grep -qE "$pattern"; then
	echo "ok   the pattern matches a plain memset of a secret"
	pass=$((pass + 1))
else
	echo "FAIL the pattern misses a plain memset of a secret"
	fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
