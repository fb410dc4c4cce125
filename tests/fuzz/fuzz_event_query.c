// SPDX-License-Identifier: MIT
/*
 * libFuzzer driver for the pixel query decoder and the serializer behind it:
 * any query either is refused with a detail or becomes an event whose
 * canonical line is valid JSON-shaped text that fits its buffer. The input
 * sits in a heap block of exactly its size and the scratch in one of the
 * size + 1 bytes the decoder is promised, so ASan sees any over-read of the
 * one and any write past the other (the decoder stores 16 bytes at a time).
 * Built and run by `make fuzz` (see tests/fuzz/README).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char line[131072];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pxd_uuid7 uuid;
	static bool ready;
	struct pxd_event ev;
	char detail[160];
	char *scratch;
	char *q;

	if (size > 8192)
		return 0;
	if (!ready) {
		pxd_uuid7_init(&uuid);
		ready = true;
	}
	q = malloc(size ? size : 1);
	scratch = malloc(size + 1);
	memcpy(q, data, size);
	if (pxd_event_query_parse(q, size, 1795000000000, &ev, scratch, size + 1, detail,
				  sizeof(detail)) == PXD_REFUSAL_NONE) {
		ssize_t n = pxd_event_serialize(&ev, 1795000000000, &uuid, line, sizeof(line));

		if (n <= 0 || line[0] != '{' || line[n - 1] != '}' || memchr(line, '\n', (size_t)n))
			__builtin_trap();
	} else if (!detail[0]) {
		__builtin_trap();
	}
	free(scratch);
	free(q);
	return 0;
}
