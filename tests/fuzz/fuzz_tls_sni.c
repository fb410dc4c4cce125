// SPDX-License-Identifier: MIT
/*
 * libFuzzer driver for the server_name extension reader: any bytes either
 * give a host name (lowercase, no trailing dot, only host-name characters,
 * shorter than the buffer) or a refusal, and never a read past the input.
 * Built and run by `make fuzz`.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/tls/tls_sni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	char name[256];
	int n;

	memcpy(p, data, size);
	n = pxd_tls_sni_parse(p, size, name, sizeof(name));
	if (n > 0) {
		if ((size_t)n != strlen(name) || name[n - 1] == '.')
			__builtin_trap();
		for (int i = 0; i < n; i++)
			if (isupper((unsigned char)name[i]) ||
			    !(isalnum((unsigned char)name[i]) || strchr("-._", name[i])))
				__builtin_trap();
		/* Whatever was read matches itself. */
		if (!pxd_tls_sni_match(name, name))
			__builtin_trap();
	}
	free(p);
	return 0;
}
