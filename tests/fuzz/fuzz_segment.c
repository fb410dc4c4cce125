// SPDX-License-Identifier: MIT
/*
 * libFuzzer driver for the Segment decoder: a /v1/batch body is parsed,
 * each message mapped to a canonical event, read back by the canonical
 * reader and serialized. A refusal must come with a detail; an accepted
 * event must serialize to one line. Built and run by `make fuzz`.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event_json.h"
#include "segment.h"

#define NOW_MS 1795000000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[65536];
static char line[131072];

static void check_one(json_t *msg, json_t *root, struct pxd_uuid7 *uuid)
{
	struct pxd_event_json ej = { .n = 1, .server_fields = true };
	struct pxd_event ev;
	char detail[256] = "";
	unsigned dropped = 0;
	json_t *canon = NULL;

	if (pxd_segment_map(msg, NULL, root, NOW_MS, &canon, &dropped, detail, sizeof(detail))) {
		if (!detail[0])
			__builtin_trap();
		return;
	}
	ej.root = canon;
	detail[0] = '\0';
	if (pxd_event_json_get(&ej, 0, NOW_MS, &ev, scratch, sizeof(scratch), detail,
			       sizeof(detail))) {
		if (!detail[0])
			__builtin_trap();
	} else if (pxd_event_serialize(&ev, NOW_MS, uuid, line, sizeof(line)) <= 0 ||
		   memchr(line, '\n', strlen(line))) {
		__builtin_trap();
	}
	json_decref(canon);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pxd_uuid7 uuid;
	static bool ready;
	json_t *root, *batch;
	int64_t ms;
	char iso[64];

	if (size > PXD_SEGMENT_MAX_BATCH)
		return 0;
	if (!ready) {
		pxd_uuid7_init(&uuid);
		ready = true;
	}
	/* The time parser sees raw bytes too. */
	if (size < sizeof(iso)) {
		memcpy(iso, data, size);
		iso[size] = '\0';
		(void)pxd_segment_iso_ms(iso, &ms);
	}
	root = json_loadb((const char *)data, size, 0, NULL);
	if (!root)
		return 0;
	batch = json_object_get(root, "batch");
	if (json_is_array(batch)) {
		for (size_t i = 0; i < json_array_size(batch) && i < 64; i++)
			check_one(json_array_get(batch, i), root, &uuid);
	} else {
		check_one(root, root, &uuid);
	}
	json_decref(root);
	return 0;
}
