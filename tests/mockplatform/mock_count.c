// SPDX-License-Identifier: MIT
/*
 * mock_count.c - counting events by a scan for "<key>": (mock_count.h).
 * memmem() over the body: no parse, no allocation.
 */
#include "mock_count.h"

#include <string.h>

size_t pxd_mock_count(const char *body, size_t n, const char *key)
{
	char needle[128];
	size_t klen = strlen(key);
	size_t count = 0;
	const char *p = body;
	const char *end = body + n;

	if (!body || klen + 3 >= sizeof(needle))
		return 0;
	needle[0] = '"';
	memcpy(needle + 1, key, klen);
	memcpy(needle + 1 + klen, "\":", 2);
	while (p < end && (p = memmem(p, (size_t)(end - p), needle, klen + 3))) {
		count++;
		p += klen + 3;
	}
	return count;
}
