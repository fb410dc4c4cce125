// SPDX-License-Identifier: MIT
/*
 * libFuzzer driver for the beacon JSON path: parse, read every event of a
 * batch, serialize what passes. Refusals must come with a detail; accepted
 * events must serialize to one line. Built and run by `make fuzz`.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[65536];
static char line[131072];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pxd_uuid7 uuid;
	static bool ready;
	struct pxd_event_json ej;
	struct pxd_event ev;
	char detail[256];

	if (size > 65536)
		return 0;
	if (!ready) {
		pxd_uuid7_init(&uuid);
		ready = true;
	}
	detail[0] = '\0';
	if (pxd_event_json_parse(&ej, (const char *)data, size, detail, sizeof(detail)) !=
	    PXD_REFUSAL_NONE) {
		if (!detail[0])
			__builtin_trap();
		return 0;
	}
	for (size_t i = 0; i < ej.n; i++) {
		detail[0] = '\0';
		if (pxd_event_json_get(&ej, i, 1795000000000, &ev, scratch, sizeof(scratch), detail,
				       sizeof(detail)) != PXD_REFUSAL_NONE) {
			if (!detail[0])
				__builtin_trap();
			continue;
		}
		if (pxd_event_serialize(&ev, 1795000000000, &uuid, line, sizeof(line)) <= 0 ||
		    memchr(line, '\n', strlen(line)))
			__builtin_trap();
	}
	pxd_event_json_free(&ej);
	return 0;
}
