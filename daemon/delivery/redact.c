// SPDX-License-Identifier: MIT
#include "daemon/delivery/redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

_Static_assert(sizeof(PXD_REDACTED) - 1 < PXD_REDACT_RUN, "a redaction must shrink the text");

static bool token_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '+' || c == '/' ||
	       c == '=';
}

size_t pxd_redact(char *s)
{
	size_t n = strlen(s);
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t j = i;
		bool alpha = false, digit = false;

		while (j < n && token_char(s[j])) {
			alpha |= isalpha((unsigned char)s[j]) != 0;
			digit |= isdigit((unsigned char)s[j]) != 0;
			j++;
		}
		if (j == i) {
			s[o++] = s[i++];
		} else if (j - i >= PXD_REDACT_RUN && alpha && digit) {
			memcpy(s + o, PXD_REDACTED, sizeof(PXD_REDACTED) - 1);
			o += sizeof(PXD_REDACTED) - 1;
			i = j;
		} else {
			memmove(s + o, s + i, j - i);
			o += j - i;
			i = j;
		}
	}
	s[o] = '\0';
	return o;
}
