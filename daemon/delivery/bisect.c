// SPDX-License-Identifier: MIT
#include "bisect.h"

#include <errno.h>
#include <string.h>

/* Pushes the halves of <r>, right first so the left half is sent first. */
static void split(struct pxd_bisect *b, struct pxd_bisect_range r)
{
	size_t mid = r.lo + (r.hi - r.lo) / 2;

	b->_stack[b->_depth++] = (struct pxd_bisect_range){ mid, r.hi, false, false };
	b->_stack[b->_depth++] = (struct pxd_bisect_range){ r.lo, mid, true, false };
}

int pxd_bisect_init(struct pxd_bisect *b, size_t n)
{
	if (!n)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	if (n == 1)
		b->_isolated = 1;
	else
		split(b, (struct pxd_bisect_range){ 0, n, false, true });
	return 0;
}

bool pxd_bisect_next(struct pxd_bisect *b, size_t *lo, size_t *hi)
{
	if (b->_waiting)
		return false;
	while (b->_depth) {
		struct pxd_bisect_range r = b->_stack[--b->_depth];

		if (r.known_bad && r.hi - r.lo > 1) {
			split(b, r);
			continue;
		}
		b->_sent = r;
		b->_waiting = true;
		b->_requests++;
		*lo = r.lo;
		*hi = r.hi;
		return true;
	}
	return false;
}

int pxd_bisect_report(struct pxd_bisect *b, enum pxd_bisect_result r)
{
	struct pxd_bisect_range s = b->_sent;
	struct pxd_bisect_range *top = b->_depth ? &b->_stack[b->_depth - 1] : NULL;

	if (!b->_waiting)
		return -EINVAL;
	b->_waiting = false;
	switch (r) {
	case PXD_BISECT_ACCEPTED:
		/* The parent held a bad event and this half did not: the
		 * sibling (still on top, as this half was not split) does. */
		if (s.left && top && !top->left && top->lo == s.hi)
			top->known_bad = true;
		return 0;
	case PXD_BISECT_REFUSED:
		if (s.hi - s.lo == 1)
			b->_isolated++;
		else
			split(b, s);
		return 0;
	case PXD_BISECT_UNDECIDED:
		return 0;
	default:
		b->_waiting = true;
		return -EINVAL;
	}
}

bool pxd_bisect_wanted(const struct pxd_outcome *out, size_t n)
{
	if (n < 2)
		return false;
	for (size_t i = 0; i < n; i++)
		if (out[i].delivery != PXD_DELIVERY_PERMANENT ||
		    strncmp(out[i].reason, PXD_BISECT_REASON, strlen(PXD_BISECT_REASON)) != 0)
			return false;
	return true;
}

size_t pxd_bisect_isolated(const struct pxd_bisect *b)
{
	return b->_isolated;
}

size_t pxd_bisect_requests(const struct pxd_bisect *b)
{
	return b->_requests;
}
