/* SPDX-License-Identifier: MIT */
/*
 * retry.h - when to send a failed event again: exponential backoff with full
 * jitter, Retry-After, the maximum age after which an event is dead-lettered
 * (specs/ad-apis.md §10.4), and the per-destination circuit breaker. Pure
 * logic: the caller passes the clock and the randomness, so it owns no state
 * beyond the structs below. A breaker belongs to the one dispatcher thread
 * that owns its destination.
 */
#ifndef PXD_RETRY_H
#define PXD_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"

/* An outcome RETRY with a reason starting so was never sent (GA4: another
 * client; Google Ads: the OAuth token round trip): it goes again at once
 * (retry_after_ms = 1) and is no sign of trouble at the destination. */
#define PXD_RETRY_UNSENT "unsent: "

/* §10.4: base 1-2 s, cap 60 s; 72 h fits inside every platform's age window
 * (GA4's is the shortest) so a retried event never ages out at the platform. */
#define PXD_RETRY_BASE_MS 1000u
#define PXD_RETRY_CAP_MS 60000u
#define PXD_RETRY_MAX_AGE_MS (72ull * 3600 * 1000)
#define PXD_RETRY_BREAKER_FAILURES 5u
#define PXD_RETRY_BREAKER_COOLDOWN_MS 30000u

struct pxd_retry_policy {
	uint32_t base_ms;    /* ceiling of the first retry's delay */
	uint32_t cap_ms;     /* the ceiling never grows past this */
	uint64_t max_age_ms; /* an event older than this at its next attempt is dead */
};

enum pxd_retry_verdict {
	PXD_RETRY_AGAIN = 0,	 /* send again after the delay */
	PXD_RETRY_GIVE_UP,	 /* the event would be older than max_age: dead-letter it */
	PXD_RETRY_VERDICT_COUNT, /* number of verdicts; keep last */
};

/* Fills <p> with the defaults above. */
void pxd_retry_policy_default(struct pxd_retry_policy *p);

/*
 * The backoff for retry number <attempt> (0 for the first retry): a delay
 * drawn uniformly from [0, min(cap, base * 2^attempt)] ("full jitter") using
 * <rnd>, any uniformly random 64-bit value from the caller. Never overflows,
 * whatever <attempt>.
 */
uint64_t pxd_retry_backoff_ms(const struct pxd_retry_policy *p, uint32_t attempt, uint64_t rnd);

/*
 * Decides the next attempt of an event that is <age_ms> old (now minus its
 * ts) after its <attempt>th failure: the delay is <retry_after_ms> when the
 * platform sent one (not capped: the platform knows when it will take the
 * event), else the jittered backoff. Writes it to <delay_ms> and returns
 * PXD_RETRY_AGAIN, or PXD_RETRY_GIVE_UP when the event would be older than
 * max_age at that time.
 */
enum pxd_retry_verdict pxd_retry_next(const struct pxd_retry_policy *p, uint32_t attempt,
				      uint32_t retry_after_ms, uint64_t age_ms, uint64_t rnd,
				      uint64_t *delay_ms);

enum pxd_retry_breaker_state {
	PXD_RETRY_BREAKER_CLOSED = 0,  /* requests flow */
	PXD_RETRY_BREAKER_OPEN,	       /* nothing is sent until the cool-down ends */
	PXD_RETRY_BREAKER_HALF_OPEN,   /* one probe request is out; the rest wait */
	PXD_RETRY_BREAKER_STATE_COUNT, /* number of states; keep last */
};

/*
 * A circuit breaker. CLOSED counts consecutive failed requests that came
 * without a Retry-After (a platform that says when is throttling, not down)
 * and opens at <threshold>; OPEN lets the first pxd_retry_breaker_allow()
 * at its probe time through as the single probe and turns HALF_OPEN; the
 * probe's result closes it (success) or opens it again (failure). The probe
 * time is the earliest of the platform's Retry-After and a cool-down that
 * doubles with each consecutive opening, from PXD_RETRY_BASE_MS up to
 * <cooldown_ms>. Results that arrive while OPEN came from requests sent
 * before it opened and change nothing, except that a Retry-After among them
 * can bring the probe forward. Fields are the module's own.
 */
struct pxd_retry_breaker {
	enum pxd_retry_breaker_state _state;
	uint32_t _failures;
	uint32_t _threshold;
	uint32_t _cooldown_ms;
	uint32_t _opens; /* consecutive openings, reset by a success */
	uint64_t _probe_at_ms;
};

/* Starts <b> CLOSED. A <threshold> of 0 is taken as 1. */
void pxd_retry_breaker_init(struct pxd_retry_breaker *b, uint32_t threshold, uint32_t cooldown_ms);

/*
 * Returns true when a request may be sent at <now_ms> (any monotonic ms
 * clock). In OPEN after the cool-down it returns true exactly once, for the
 * probe, and moves to HALF_OPEN; in HALF_OPEN it returns false.
 */
bool pxd_retry_breaker_allow(struct pxd_retry_breaker *b, uint64_t now_ms);

/*
 * Returns true when the request behind the <n> outcomes <out> failed as a
 * whole: every event RETRY, and not all of them merely unsent. This is what
 * pxd_retry_breaker_failure() counts; anything else is a success.
 */
bool pxd_retry_request_failed(const struct pxd_outcome *out, size_t n);

/* Reports a request the destination answered (any outcome but a whole-request retry). */
void pxd_retry_breaker_success(struct pxd_retry_breaker *b);

/* Reports a request that failed as a whole (transport error, 5xx, 429,
 * throttling) and the Retry-After it came with in ms (0: none). */
void pxd_retry_breaker_failure(struct pxd_retry_breaker *b, uint64_t now_ms,
			       uint32_t retry_after_ms);

/* Returns the state at <now_ms> (OPEN stays OPEN until allow() takes the probe). */
enum pxd_retry_breaker_state pxd_retry_breaker_state(const struct pxd_retry_breaker *b);

/* Returns the ms until a probe may go (0 unless OPEN), for the dispatcher's timer. */
uint64_t pxd_retry_breaker_wait_ms(const struct pxd_retry_breaker *b, uint64_t now_ms);

#endif
