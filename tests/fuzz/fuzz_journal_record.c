// SPDX-License-Identifier: MIT
/*
 * libFuzzer driver for the journal record check: arbitrary bytes are a whole
 * valid record only when their CRC-32C says so, and a record that passes
 * points inside the input and re-encodes to the same bytes. Built and run by
 * `make fuzz`.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pxd_journal_rec rec;
	uint8_t *p = malloc(size ? size : 1);

	memcpy(p, data, size);
	if (pxd_journal_record_check(p, size, &rec) == PXD_JOURNAL_BAD_NONE) {
		size_t n = pxd_journal_record_bytes(rec.len);
		uint8_t *again = malloc(n);

		if (n > size || (const uint8_t *)rec.payload != p + PXD_JOURNAL_HDR_BYTES ||
		    pxd_journal_record_encode(again, n, rec.received_ms, rec.payload, rec.len) !=
			(ssize_t)n ||
		    memcmp(again, p, n))
			__builtin_trap();
		free(again);
	}
	free(p);
	return 0;
}
