/* SPDX-License-Identifier: MIT */
/*
 * event_test.h - what the canonical-event tests (test_event.c,
 * test_event_json.c, test_event_query.c) share (header-only, tests only): one
 * fixed "now", a fixture with an event, its id state, decode scratch and
 * output line, and a view assertion. Include after <cmocka.h>.
 */
#ifndef PXD_EVENT_TEST_H
#define PXD_EVENT_TEST_H

#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "event_json.h"
#include "uuid7.h"

#define NOW_MS INT64_C(1732300000456)

struct event_fixture {
	struct pxd_event_json ej; /* beacon bodies only; freed by event_teardown() */
	struct pxd_event ev;
	struct pxd_uuid7 uuid;
	char scratch[65536];
	char line[16384];
	char detail[256];
};

/* inline definitions */

static inline int event_setup(void **state)
{
	struct event_fixture *f = calloc(1, sizeof(*f));

	if (!f || pxd_uuid7_init(&f->uuid)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int event_teardown(void **state)
{
	struct event_fixture *f = *state;

	pxd_event_json_free(&f->ej);
	free(f);
	return 0;
}

/* <v> is a view of exactly the C string <want>. */
static inline void event_assert_sv(struct pxd_sv v, const char *want)
{
	assert_non_null(v.p);
	assert_int_equal(v.n, strlen(want));
	assert_memory_equal(v.p, want, v.n);
}

#endif
