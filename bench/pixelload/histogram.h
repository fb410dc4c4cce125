/* SPDX-License-Identifier: MIT */
/*
 * histogram.h - pixelload's log-linear latency histogram (HdrHistogram's
 * layout, values in microseconds): add, merge, percentiles. Owns no memory; a
 * histogram belongs to one worker thread until the run ends, then main merges
 * them.
 */
#ifndef PL_HISTOGRAM_H
#define PL_HISTOGRAM_H

#include <stdint.h>

/*
 * Values below 2^8 get a bucket each; above, every power of two
 * [2^k, 2^(k+1)) is cut in 128 equal buckets, so a reported percentile is
 * within 0.8% of the true value. Values over 2^36 us (19 h) land in the last
 * bucket. Max and min are kept exactly.
 */
#define PL_HIST_SUB_BITS 8
#define PL_HIST_SUB (1u << PL_HIST_SUB_BITS)
#define PL_HIST_HALF (PL_HIST_SUB / 2)
#define PL_HIST_TOP_BITS 36
#define PL_HIST_BUCKETS (PL_HIST_SUB + (PL_HIST_TOP_BITS - PL_HIST_SUB_BITS) * PL_HIST_HALF)

/* All zero is an empty histogram. */
struct pl_hist {
	uint64_t count, sum, min, max;
	uint64_t b[PL_HIST_BUCKETS];
};

/** Folds <h> into <into>; <h> is unchanged. */
void pl_hist_merge(struct pl_hist *into, const struct pl_hist *h);

/**
 * Returns the <pct> percentile (0 < pct <= 100): the highest value of the
 * bucket holding that rank, as HdrHistogram reports, never above the exact
 * max; 0 for an empty histogram.
 */
uint64_t pl_hist_pct(const struct pl_hist *h, double pct);

/** Returns the highest value bucket <i> holds (i < PL_HIST_BUCKETS). */
uint64_t pl_hist_upper(unsigned i);

/* ---- inline definitions: pl_hist_add runs once per answer ---- */

/** Returns the bucket of <v>: the last one for values of 2^36 and more. */
static inline unsigned pl_hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < PL_HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	if (msb >= PL_HIST_TOP_BITS)
		return PL_HIST_BUCKETS - 1;
	shift = msb - PL_HIST_SUB_BITS + 1;
	return PL_HIST_SUB + (shift - 1) * PL_HIST_HALF + (unsigned)((v >> shift) - PL_HIST_HALF);
}

/** Counts <v>. */
static inline void pl_hist_add(struct pl_hist *h, uint64_t v)
{
	if (!h->count || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
	h->b[pl_hist_index(v)]++;
}

#endif
