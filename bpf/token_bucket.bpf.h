/* SPDX-License-Identifier: MIT */
/*
 * token_bucket.bpf.h - per-source token buckets for the XDP program, kept as
 * GCRA theoretical arrival times (one u64 per bucket, see struct
 * pxd_xdp_bucket). Equivalent to a token bucket of <burst> tokens refilled
 * at one token per <interval> ns. BPF programs only.
 */
#ifndef PXD_TOKEN_BUCKET_BPF_H
#define PXD_TOKEN_BUCKET_BPF_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "xdp_filter.h"

/*
 * Takes one token from the bucket <*tat> at time <now>. A bucket with
 * <interval> 0 is off and always has a token. Returns 1 and advances <*tat>
 * when a token was there, 0 (and leaves <*tat>) when the bucket is empty.
 *
 * <*tat> may live in a map value shared by every CPU. The read-modify-write
 * is not atomic: two CPUs taking from the same bucket at the same instant can
 * both succeed on the last token. A single aligned u64 is never torn, so the
 * error is bounded by the number of CPUs racing and never blocks a source
 * that is within its rate.
 */
static __always_inline int tb_take(__u64 *tat, __u64 now, __u64 interval, __u64 tolerance)
{
	__u64 base = *tat;

	if (!interval)
		return 1;
	if (base < now)
		base = now;
	if (base - now > tolerance)
		return 0;
	*tat = base + interval;
	return 1;
}

#endif
