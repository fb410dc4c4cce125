// SPDX-License-Identifier: MIT
/*
 * libFuzzer driver for the one-pass beacon decoder (event_beacon.c) against
 * the jansson path (event_json.c), which POST /e used before: both must give
 * the same verdict with the same detail (bodies with a NUL byte aside:
 * jansson passes over some, the one-pass decoder refuses every one), and
 * every accepted event the same
 * canonical line, props compared after one more trip through event_json.c's
 * writer (the one-pass decoder keeps the client's number text, "1e2" where
 * the other writes 100). Built and run by `make fuzz`.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_beacon.h"
#include "event_json.h"
#include "jsonw.h"

#define NOW_MS INT64_C(1795000000000)
#define MAX_EVENTS 8 /* events compared line by line; the rest by verdict */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[65536];
static char line[131072];
static char lines[MAX_EVENTS][16384];
static size_t nlines;

/* <ev>'s canonical line with a fixed event_id, props normalized. */
static void canonical(struct pxd_event *ev, char *out, size_t cap)
{
	static char props[65536];
	static struct pxd_uuid7 uuid;
	struct pxd_jsonw w;
	json_t *p = NULL;
	ssize_t n;

	pxd_uuid7_init(&uuid);
	if (ev->props_json.p) {
		p = json_loadb(ev->props_json.p, ev->props_json.n, JSON_REJECT_DUPLICATES, NULL);
		if (!p)
			__builtin_trap();
		pxd_jsonw_init(&w, props, sizeof(props));
		if (!pxd_event_json_write(&w, p, 64) || (n = pxd_jsonw_finish(&w)) < 0)
			__builtin_trap();
		ev->props_json = pxd_sv_make(props, (size_t)n);
	}
	if (!ev->event_id.p)
		ev->event_id = PXD_SV("fixed");
	ev->received_at = NOW_MS;
	if (pxd_event_serialize(ev, NOW_MS, &uuid, line, sizeof(line)) <= 0)
		__builtin_trap();
	snprintf(out, cap, "%s", line);
	json_decref(p);
}

static enum pxd_refusal take(void *arg, struct pxd_event *ev, char *detail, size_t dlen)
{
	(void)arg;
	(void)detail;
	(void)dlen;
	if (nlines < MAX_EVENTS)
		canonical(ev, lines[nlines], sizeof(lines[0]));
	nlines++;
	return PXD_REFUSAL_NONE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char other[16384];
	struct pxd_event_json ej;
	struct pxd_event ev;
	char detail_old[256] = "";
	char detail_new[256] = "";
	enum pxd_refusal r_old;
	enum pxd_refusal r_new;
	size_t n = 0;

	/* jansson passes over some NUL bytes; the one-pass decoder refuses them */
	if (size > 65536 || memchr(data, 0, size))
		return 0;
	nlines = 0;
	r_new = pxd_event_beacon_decode((const char *)data, size, NOW_MS, scratch, sizeof(scratch),
					take, NULL, detail_new, sizeof(detail_new));
	r_old = pxd_event_json_parse(&ej, (const char *)data, size, detail_old, sizeof(detail_old));
	for (size_t i = 0; r_old == PXD_REFUSAL_NONE && i < ej.n; i++) {
		r_old = pxd_event_json_get(&ej, i, NOW_MS, &ev, scratch, sizeof(scratch),
					   detail_old, sizeof(detail_old));
		if (r_old != PXD_REFUSAL_NONE)
			break;
		if (n < MAX_EVENTS && n < nlines) {
			canonical(&ev, other, sizeof(other));
			if (strcmp(other, lines[n])) {
				fprintf(stderr, "event %zu:\n jansson: %s\n one-pass: %s\n", n,
					other, lines[n]);
				__builtin_trap();
			}
		}
		n++;
	}
	pxd_event_json_free(&ej);
	if (r_old != r_new || strcmp(detail_old, detail_new) ||
	    (r_old == PXD_REFUSAL_NONE && n != nlines)) {
		fprintf(stderr,
			"jansson: %d \"%s\" (%zu events)\none-pass: %d \"%s\" (%zu events)\n",
			r_old, detail_old, n, r_new, detail_new, nlines);
		__builtin_trap();
	}
	return 0;
}
