// SPDX-License-Identifier: MIT
#include "platform_quota.h"

#include <string.h>

#include "compiler.h"
#include "retry.h"

/* A type that documents no back-off waits this long after a bare 429:
 * past the 1 s windows most quotas count in, short of a breaker's pause. */
#define THROTTLE_DEFAULT_MS 5000u

struct row {
	const char *type;
	struct pxd_platform_quota q;
};

/*
 * §1 and §2. Quotas are requests (not events) for the whole destination;
 * the dispatcher splits them over its shards. Back-offs: a per-second
 * quota waits 1 s; a per-minute one 60 s; Meta's rate codes (4, 17, 32,
 * 613, 80000-80014) count over rolling windows of an hour, so 60 s before
 * a probe; Google Ads' RESOURCE_EXHAUSTED is a token bucket Google asks to
 * leave for 30 s; Amplitude pauses a device about 30 s; Mixpanel's own
 * advice starts at 2 s.
 */
static const struct row rows[] = {
	{ "meta", { 0, 0, 60000 } },	     { "google_ads", { 0, 0, 30000 } },
	{ "tiktok", { 1000, 1000, 1000 } },  { "linkedin", { 600, 60000, 60000 } },
	{ "snapchat", { 10, 1000, 1000 } },  { "pinterest", { 5000, 60000, 60000 } },
	{ "segment", { 1000, 1000, 1000 } }, { "amplitude", { 0, 0, 30000 } },
	{ "mixpanel", { 0, 0, 2000 } },
};

static const struct pxd_platform_quota other = { 0, 0, THROTTLE_DEFAULT_MS };

const struct pxd_platform_quota *pxd_platform_quota_of(const char *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		if (strcmp(rows[i].type, type) == 0)
			return &rows[i].q;
	return &other;
}

/* Whether the adapter split the answer: some events marked unsent, to go
 * again at once without the ones it named. */
static bool split(const struct pxd_outcome *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (out[i].delivery == PXD_DELIVERY_RETRY &&
		    !strncmp(out[i].reason, PXD_RETRY_UNSENT, strlen(PXD_RETRY_UNSENT)))
			return true;
	return false;
}

bool pxd_platform_quota_throttle(const struct pxd_response *resp, struct pxd_outcome *out, size_t n,
				 uint32_t throttle_ms)
{
	/* A 429 that delivered some events, or named the throttled ones and
	 * left the rest unsent (Amplitude's per-device throttling), leaves
	 * them to their own back-off: the other devices go on. */
	bool whole = resp->status == 429 && pxd_retry_request_failed(out, n) && !split(out, n);
	/* The answer's own Retry-After comes first, also where the adapter
	 * left it off its outcomes (Amplitude's per-device ones). */
	uint32_t wait_ms = resp->retry_after_ms ? resp->retry_after_ms : throttle_ms;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (out[i].delivery != PXD_DELIVERY_RETRY || !(out[i].throttled || whole))
			continue;
		any = true;
		if (!out[i].retry_after_ms)
			out[i].retry_after_ms = wait_ms;
	}
	return any;
}
