// SPDX-License-Identifier: MIT
/*
 * libFuzzer driver for the pixel query decoder and the serializer behind it:
 * any query either is refused with a detail or becomes an event whose
 * canonical line is valid JSON-shaped text that fits its buffer. The input
 * sits in a heap block of exactly its size so ASan sees any over-read.
 * Built and run by `make fuzz` (see tests/fuzz/README).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[8193];
static char line[131072];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pxd_uuid7 uuid;
	static bool ready;
	struct pxd_event ev;
	char detail[160];
	char *q;

	if (size >= sizeof(scratch))
		return 0;
	if (!ready) {
		pxd_uuid7_init(&uuid);
		ready = true;
	}
	q = malloc(size ? size : 1);
	memcpy(q, data, size);
	if (pxd_event_query_parse(q, size, 1795000000000, &ev, scratch, sizeof(scratch), detail,
				  sizeof(detail)) == PXD_REFUSAL_NONE) {
		ssize_t n = pxd_event_serialize(&ev, 1795000000000, &uuid, line, sizeof(line));

		if (n <= 0 || line[0] != '{' || line[n - 1] != '}' || memchr(line, '\n', (size_t)n))
			__builtin_trap();
	} else if (!detail[0]) {
		__builtin_trap();
	}
	free(q);
	return 0;
}
