// SPDX-License-Identifier: MIT
/*
 * libFuzzer driver for the canonical-line reader, against jansson's loader:
 * the reader takes a line only when json_loadb() takes it as an object, and
 * refuses one json_loadb() takes only for its own limits (depth, number
 * length) or for a NUL byte (which jansson's loader lets pass after some
 * tokens; the journal never holds one: pxd_event_serialize() escapes it). A line both take reads
 * the same top-level strings and numbers, every string unescapes to jansson's bytes, and the
 * members of props it kept walk as the text does. Built and run by `make fuzz`.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "event_line.h"
#include "tests/unit/event_line_test.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether <j> nests deeper than the reader takes or holds a long number. */
static bool past_limits(const json_t *j, unsigned depth, const char *text, size_t size)
{
	const char *k;
	json_t *v;
	size_t i;
	size_t run = 0;

	if (depth > PXD_EVENT_LINE_MAX_DEPTH)
		return true;
	for (size_t b = 0; depth == 1 && b < size; b++) {
		bool num = (text[b] >= '0' && text[b] <= '9') || strchr("+-.eE", text[b]);

		run = num ? run + 1 : 0;
		if (run > PXD_EVENT_LINE_MAX_NUMBER)
			return true;
	}
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k,
				    v) if (past_limits(v, depth + 1, NULL, 0)) return true;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) if (past_limits(v, depth + 1, NULL, 0)) return true;
	}
	return false;
}

static void same_string(const struct pxd_jv *v, const json_t *want)
{
	char out[4096];
	ssize_t n;

	if (!json_is_string(want)) {
		if (v->type == PXD_JV_STRING)
			__builtin_trap();
		return;
	}
	if (v->type != PXD_JV_STRING || v->n >= sizeof(out))
		__builtin_trap();
	n = pxd_jv_unescape(v, out, sizeof(out));
	if (n != (ssize_t)json_string_length(want) ||
	    memcmp(out, json_string_value(want), (size_t)n))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct pxd_event_line el;
	json_t *j;
	int rc;

	if (size > 4000)
		return 0;
	rc = pxd_event_line_read(&el, text, size);
	j = json_loadb(text, size, 0, NULL);
	if (!json_is_object(j)) {
		if (!rc)
			__builtin_trap();
		json_decref(j);
		return 0;
	}
	if (rc) {
		if (!memchr(text, 0, size) && !past_limits(j, 1, text, size))
			__builtin_trap();
		json_decref(j);
		return 0;
	}
	for (int k = 0; k < PXD_LINE_KEY_COUNT; k++) {
		const json_t *want = json_object_get(j, pxd_line_key_names[k].p);
		const struct pxd_jv *got = &el.top[k];

		if (!want != !got->type)
			__builtin_trap();
		if (json_is_string(want) || got->type == PXD_JV_STRING)
			same_string(got, want);
		if (json_is_integer(want) &&
		    (got->type != PXD_JV_INTEGER || pxd_jv_int(got) != json_integer_value(want)))
			__builtin_trap();
		if (json_is_real(want) &&
		    (got->type != PXD_JV_REAL || pxd_jv_number(got) != json_real_value(want)))
			__builtin_trap();
	}
	if (!pxd_test_props_walk_as_text(&el))
		__builtin_trap();
	for (int f = 0; f < PXD_LINE_USER_COUNT; f++) {
		const json_t *user = json_object_get(j, "user");
		const json_t *want =
		    json_is_object(user) ? json_object_get(user, pxd_line_user_names[f].p) : NULL;

		same_string(&el.user[f], json_is_string(want) ? want : NULL);
		if (!json_is_string(want) && el.user[f].type)
			__builtin_trap();
	}
	json_decref(j);
	return 0;
}
