// SPDX-License-Identifier: MIT
/*
 * histogram.c - pixelload's latency histogram: bucket bounds, merging and
 * percentiles (adding is inline in histogram.h).
 */
#include "histogram.h"

#include <math.h>

#include "compiler.h"

uint64_t pl_hist_upper(unsigned i)
{
	unsigned shift, sub;

	if (i < PL_HIST_SUB)
		return i;
	shift = (i - PL_HIST_SUB) / PL_HIST_HALF + 1;
	sub = (i - PL_HIST_SUB) % PL_HIST_HALF + PL_HIST_HALF;
	return ((uint64_t)(sub + 1) << shift) - 1;
}

void pl_hist_merge(struct pl_hist *into, const struct pl_hist *h)
{
	if (!h->count)
		return;
	if (!into->count || h->min < into->min)
		into->min = h->min;
	into->max = PXD_MAX(into->max, h->max);
	into->count += h->count;
	into->sum += h->sum;
	for (unsigned i = 0; i < PL_HIST_BUCKETS; i++)
		into->b[i] += h->b[i];
}

uint64_t pl_hist_pct(const struct pl_hist *h, double pct)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	rank = (uint64_t)ceil(pct / 100.0 * (double)h->count);
	rank = PXD_MAX(rank, 1);
	for (unsigned i = 0; i < PL_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank)
			return PXD_MIN(pl_hist_upper(i), h->max);
	}
	return h->max;
}
