/* SPDX-License-Identifier: MIT */
/*
 * bisect.h - plans the resends of a batch the platform refused as a whole
 * because of a few bad events (Meta, TikTok: specs/ad-apis.md §2, §10.2):
 * halves are resent until each refusal is pinned on a single event, which is
 * then dead-lettered while everything else is delivered. Pure data structure:
 * no I/O, no allocation. A plan belongs to the dispatcher thread that runs it.
 *
 * Sub-batches are index ranges [lo, hi) into the refused batch, so the caller
 * sends items + lo without copying. A range whose left sibling went through
 * while their parent was refused must hold a bad event, so it is split again
 * without being sent; a single event is always sent alone, so that its
 * refusal carries the platform's reason for that event.
 */
#ifndef PXD_BISECT_H
#define PXD_BISECT_H

#include <stdbool.h>
#include <stddef.h>

#include "adapter.h"

/* How an adapter says "the platform refused this whole batch over some event
 * it did not name": every outcome PERMANENT with a reason starting so. */
#define PXD_BISECT_REASON "batch: "

/* Each split pushes two ranges for one popped; with known-bad ranges split
 * in place, a batch of up to 2^64 events never holds more than this. */
#define PXD_BISECT_STACK 130

enum pxd_bisect_result {
	PXD_BISECT_ACCEPTED = 0, /* not refused as a whole: its events got their own outcomes */
	PXD_BISECT_REFUSED,	 /* refused as a whole again */
	PXD_BISECT_UNDECIDED,	 /* failed for another reason (5xx, timeout): retried as usual */
	PXD_BISECT_RESULT_COUNT, /* number of results; keep last */
};

struct pxd_bisect_range {
	size_t lo;
	size_t hi;
	bool left;	/* the first half of its parent */
	bool known_bad; /* its parent was refused and its left sibling accepted */
};

/* A bisection in progress. Fields are the module's own. */
struct pxd_bisect {
	struct pxd_bisect_range _stack[PXD_BISECT_STACK];
	size_t _depth;
	struct pxd_bisect_range _sent; /* the range last returned by next() */
	bool _waiting;		       /* next() returned _sent; its result is due */
	size_t _isolated;
	size_t _requests;
};

/*
 * Starts planning for a batch of <n> events that was refused as a whole.
 * Returns 0, or -EINVAL when <n> is 0. A batch of one needs no plan: next()
 * then yields nothing, and that event is the bad one.
 */
int pxd_bisect_init(struct pxd_bisect *b, size_t n);

/*
 * Yields the next range to send in <lo>, <hi> and returns true, or returns
 * false when the plan is complete. Each range yielded needs a
 * pxd_bisect_report() before the next call; calling again without one
 * returns false.
 */
bool pxd_bisect_next(struct pxd_bisect *b, size_t *lo, size_t *hi);

/*
 * Records what happened to the range last yielded. A single event REFUSED
 * is isolated: the caller dead-letters it with the platform's reason.
 * Returns 0, or -EINVAL when no range is waiting for a result.
 */
int pxd_bisect_report(struct pxd_bisect *b, enum pxd_bisect_result r);

/*
 * Returns true when the <n> outcomes of one request ask for bisection: more
 * than one event, each PERMANENT with a PXD_BISECT_REASON reason. Any thread.
 */
bool pxd_bisect_wanted(const struct pxd_outcome *out, size_t n);

/* Returns the number of single events isolated so far. */
size_t pxd_bisect_isolated(const struct pxd_bisect *b);

/* Returns the number of ranges yielded so far (requests the plan cost). */
size_t pxd_bisect_requests(const struct pxd_bisect *b);

#endif
