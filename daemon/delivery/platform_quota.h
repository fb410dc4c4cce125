/* SPDX-License-Identifier: MIT */
/*
 * platform_quota.h - what each platform documents about its request quota
 * and how long it wants a throttled client to wait (specs/ad-apis.md §1,
 * §2): the defaults of a destination's rate_limit and throttle_backoff
 * keys (http_out.h), and the rule that turns a throttled answer without a
 * Retry-After into a wait rather than a failure. Pure data and logic; any
 * thread.
 */
#ifndef PXD_PLATFORM_QUOTA_H
#define PXD_PLATFORM_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"

/* A platform type's defaults. */
struct pxd_platform_quota {
	uint32_t rate_count; /* requests per <rate_period_ms>, all shards together; 0: none */
	uint32_t rate_period_ms;
	uint32_t throttle_ms; /* wait after a throttled answer without Retry-After */
};

/* The defaults of destination type <type> ("meta", "tiktok", ...): its
 * documented quota where there is one, and its throttle back-off (5 s for
 * a type that documents none). Never NULL. */
const struct pxd_platform_quota *pxd_platform_quota_of(const char *type);

/*
 * Gives every RETRY outcome of <out> (<n> events) that the platform
 * throttled without saying when to come back (a 429 that failed as a
 * whole, not split by the adapter into named and unsent events, or an outcome the adapter marked
 * throttled: Meta's rate codes, TikTok's 40100) the answer's Retry-After, or without one the
 * destination's <throttle_ms>, so the destination waits that long and its
 * breaker does not count the answer as a failure. Returns true when some
 * outcome was throttled.
 */
bool pxd_platform_quota_throttle(const struct pxd_response *resp, struct pxd_outcome *out, size_t n,
				 uint32_t throttle_ms);

#endif
