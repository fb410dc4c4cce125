/* SPDX-License-Identifier: MIT */
/*
 * event_line_test.h - what the line reader's unit test and its fuzzer share
 * (header-only, tests only): whether the walk of props from the members a
 * read kept gives what the walk of props' text gives.
 */
#ifndef PXD_EVENT_LINE_TEST_H
#define PXD_EVENT_LINE_TEST_H

#include <stdbool.h>

#include "event_line.h"

static inline bool pxd_test_same_view(const struct pxd_jv *a, const struct pxd_jv *b)
{
	return a->p == b->p && a->n == b->n && a->type == b->type && a->escaped == b->escaped;
}

/* True when <el>'s kept props (if any) walk member by member as its text does. */
static inline bool pxd_test_props_walk_as_text(const struct pxd_event_line *el)
{
	struct pxd_jv_iter kept, text;
	struct pxd_jv k1, v1, k2, v2;
	bool more;

	pxd_jv_iter_props(&kept, el);
	pxd_jv_iter_init(&text, &el->top[PXD_LINE_PROPS]);
	if (el->props_all && (!text.object || el->nprops > PXD_LINE_PROPS_MAX))
		return false;
	do {
		more = pxd_jv_next(&text, &k2, &v2);
		if (pxd_jv_next(&kept, &k1, &v1) != more)
			return false;
		/* An array's elements have no keys. */
		if (more && ((text.object && !pxd_test_same_view(&k1, &k2)) ||
			     !pxd_test_same_view(&v1, &v2)))
			return false;
	} while (more);
	return true;
}

#endif
