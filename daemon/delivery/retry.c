// SPDX-License-Identifier: MIT
#include "retry.h"

#include <string.h>

void pxd_retry_policy_default(struct pxd_retry_policy *p)
{
	p->base_ms = PXD_RETRY_BASE_MS;
	p->cap_ms = PXD_RETRY_CAP_MS;
	p->max_age_ms = PXD_RETRY_MAX_AGE_MS;
}

uint64_t pxd_retry_backoff_ms(const struct pxd_retry_policy *p, uint32_t attempt, uint64_t rnd)
{
	uint64_t ceil = p->base_ms;

	/* Doubling stops at the cap, so the shift never overflows however
	 * many attempts a long outage piles up. */
	for (uint32_t i = 0; i < attempt && ceil < p->cap_ms; i++)
		ceil *= 2;
	if (ceil > p->cap_ms)
		ceil = p->cap_ms;
	/* Full jitter (AWS architecture blog, "Exponential Backoff And
	 * Jitter"): uniform in [0, ceil]. The modulo bias is below 2^-40 for
	 * any ceiling under an hour. */
	return rnd % (ceil + 1);
}

enum pxd_retry_verdict pxd_retry_next(const struct pxd_retry_policy *p, uint32_t attempt,
				      uint32_t retry_after_ms, uint64_t age_ms, uint64_t rnd,
				      uint64_t *delay_ms)
{
	*delay_ms = retry_after_ms ? retry_after_ms : pxd_retry_backoff_ms(p, attempt, rnd);
	return age_ms + *delay_ms > p->max_age_ms ? PXD_RETRY_GIVE_UP : PXD_RETRY_AGAIN;
}

bool pxd_retry_request_failed(const struct pxd_outcome *out, size_t n)
{
	size_t unsent = 0;

	for (size_t i = 0; i < n; i++) {
		if (out[i].delivery != PXD_DELIVERY_RETRY)
			return false;
		unsent += strncmp(out[i].reason, PXD_RETRY_UNSENT, strlen(PXD_RETRY_UNSENT)) == 0;
	}
	return n > 0 && unsent < n;
}

void pxd_retry_breaker_init(struct pxd_retry_breaker *b, uint32_t threshold, uint32_t cooldown_ms)
{
	b->_state = PXD_RETRY_BREAKER_CLOSED;
	b->_failures = 0;
	b->_threshold = threshold ? threshold : 1;
	b->_cooldown_ms = cooldown_ms;
	b->_opens = 0;
	b->_probe_at_ms = 0;
}

bool pxd_retry_breaker_allow(struct pxd_retry_breaker *b, uint64_t now_ms)
{
	switch (b->_state) {
	case PXD_RETRY_BREAKER_CLOSED:
		return true;
	case PXD_RETRY_BREAKER_OPEN:
		if (pxd_retry_breaker_wait_ms(b, now_ms))
			return false;
		b->_state = PXD_RETRY_BREAKER_HALF_OPEN;
		return true;
	default:
		return false;
	}
}

void pxd_retry_breaker_success(struct pxd_retry_breaker *b)
{
	if (b->_state == PXD_RETRY_BREAKER_OPEN)
		return;
	b->_state = PXD_RETRY_BREAKER_CLOSED;
	b->_failures = 0;
	b->_opens = 0;
}

/* The cool-down of the next opening: the back-off schedule's ceiling for
 * the consecutive openings so far, up to the configured cool-down. */
static uint64_t cooldown(const struct pxd_retry_breaker *b)
{
	uint64_t ms = PXD_RETRY_BASE_MS;

	for (uint32_t i = 0; i < b->_opens && ms < b->_cooldown_ms; i++)
		ms *= 2;
	return ms < b->_cooldown_ms ? ms : b->_cooldown_ms;
}

void pxd_retry_breaker_failure(struct pxd_retry_breaker *b, uint64_t now_ms,
			       uint32_t retry_after_ms)
{
	uint64_t wait;

	switch (b->_state) {
	case PXD_RETRY_BREAKER_CLOSED:
		/* The platform said when: that is throttling, scheduled by the
		 * caller, not a sign of a destination that is down. */
		if (retry_after_ms || ++b->_failures < b->_threshold)
			return;
		break;
	case PXD_RETRY_BREAKER_HALF_OPEN:
		break;
	default:
		/* A late answer that says when to come back brings the probe
		 * forward; anything else changes nothing. */
		if (retry_after_ms && now_ms + retry_after_ms < b->_probe_at_ms)
			b->_probe_at_ms = now_ms + retry_after_ms;
		return;
	}
	wait = cooldown(b);
	if (retry_after_ms && retry_after_ms < wait)
		wait = retry_after_ms;
	b->_opens++;
	b->_state = PXD_RETRY_BREAKER_OPEN;
	b->_probe_at_ms = now_ms + wait;
}

enum pxd_retry_breaker_state pxd_retry_breaker_state(const struct pxd_retry_breaker *b)
{
	return b->_state;
}

uint64_t pxd_retry_breaker_wait_ms(const struct pxd_retry_breaker *b, uint64_t now_ms)
{
	if (b->_state != PXD_RETRY_BREAKER_OPEN)
		return 0;
	return now_ms >= b->_probe_at_ms ? 0 : b->_probe_at_ms - now_ms;
}
