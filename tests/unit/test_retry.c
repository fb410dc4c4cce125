// SPDX-License-Identifier: MIT
#include "retry.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

/* splitmix64: a fixed stream of uniform 64-bit values, standing in for the
 * caller's randomness. */
static uint64_t next_rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void test_backoff_ceiling_doubles_to_the_cap(void **state)
{
	struct pxd_retry_policy p;
	static const uint64_t ceil[] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000 };

	(void)state;
	pxd_retry_policy_default(&p);
	for (uint32_t a = 0; a < 8; a++) {
		/* rnd = ceil is the top of [0, ceil]; ceil + 1 wraps to 0. */
		assert_int_equal(pxd_retry_backoff_ms(&p, a, ceil[a]), ceil[a]);
		assert_int_equal(pxd_retry_backoff_ms(&p, a, ceil[a] + 1), 0);
		assert_int_equal(pxd_retry_backoff_ms(&p, a, UINT64_MAX),
				 UINT64_MAX % (ceil[a] + 1));
	}
	/* However many attempts, never past the cap and never an overflow. */
	assert_true(pxd_retry_backoff_ms(&p, UINT32_MAX, UINT64_MAX) <= p.cap_ms);
	assert_true(pxd_retry_backoff_ms(&p, 64, 59999) == 59999);
}

static void test_full_jitter_spreads_over_the_whole_range(void **state)
{
	struct pxd_retry_policy p = { .base_ms = 1000, .cap_ms = 60000, .max_age_ms = 0 };
	uint64_t s = 42, lo = UINT64_MAX, hi = 0, sum = 0;
	unsigned buckets[10] = { 0 };
	const unsigned n = 100000;

	(void)state;
	for (unsigned i = 0; i < n; i++) {
		uint64_t d = pxd_retry_backoff_ms(&p, 3, next_rnd(&s));

		assert_true(d <= 8000);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		sum += d;
		buckets[d * 10 / 8001]++;
	}
	/* Uniform on [0, 8000]: reaches both ends, mean 4000, flat deciles. */
	assert_true(lo < 10 && hi > 7990);
	assert_true(sum / n > 3900 && sum / n < 4100);
	for (unsigned i = 0; i < 10; i++)
		assert_true(buckets[i] > n / 10 * 9 / 10 && buckets[i] < n / 10 * 11 / 10);
}

static void test_retry_after_overrides_backoff(void **state)
{
	struct pxd_retry_policy p;
	uint64_t delay = 0;

	(void)state;
	pxd_retry_policy_default(&p);
	assert_int_equal(pxd_retry_next(&p, 0, 120000, 0, 999, &delay), PXD_RETRY_AGAIN);
	assert_int_equal(delay, 120000);
	assert_int_equal(pxd_retry_next(&p, 5, 0, 0, 31999, &delay), PXD_RETRY_AGAIN);
	assert_int_equal(delay, 31999);
}

static void test_gives_up_past_max_age(void **state)
{
	struct pxd_retry_policy p = { .base_ms = 1000, .cap_ms = 60000, .max_age_ms = 100000 };
	uint64_t delay = 0;

	(void)state;
	assert_int_equal(pxd_retry_next(&p, 0, 0, 99000, 1000, &delay), PXD_RETRY_AGAIN);
	assert_int_equal(delay, 1000);
	assert_int_equal(pxd_retry_next(&p, 0, 0, 99001, 1000, &delay), PXD_RETRY_GIVE_UP);
	/* A Retry-After past the event's age limit gives up too. */
	assert_int_equal(pxd_retry_next(&p, 0, 60000, 50000, 0, &delay), PXD_RETRY_GIVE_UP);
	assert_int_equal(delay, 60000);
	pxd_retry_policy_default(&p);
	assert_int_equal(p.max_age_ms, 72ull * 3600 * 1000);
}

static void test_breaker_opens_after_consecutive_failures(void **state)
{
	struct pxd_retry_breaker b;

	(void)state;
	pxd_retry_breaker_init(&b, 3, 30000);
	assert_int_equal(pxd_retry_breaker_state(&b), PXD_RETRY_BREAKER_CLOSED);
	pxd_retry_breaker_failure(&b, 100, 0);
	pxd_retry_breaker_failure(&b, 200, 0);
	/* A success in between resets the count. */
	pxd_retry_breaker_success(&b);
	pxd_retry_breaker_failure(&b, 300, 0);
	pxd_retry_breaker_failure(&b, 400, 0);
	assert_true(pxd_retry_breaker_allow(&b, 450));
	assert_int_equal(pxd_retry_breaker_state(&b), PXD_RETRY_BREAKER_CLOSED);
	pxd_retry_breaker_failure(&b, 500, 0);
	assert_int_equal(pxd_retry_breaker_state(&b), PXD_RETRY_BREAKER_OPEN);
	assert_false(pxd_retry_breaker_allow(&b, 501));
	/* The first opening waits the back-off's first step. */
	assert_int_equal(pxd_retry_breaker_wait_ms(&b, 600), PXD_RETRY_BASE_MS - 100);
	/* Late answers of requests sent before it opened change nothing. */
	pxd_retry_breaker_success(&b);
	pxd_retry_breaker_failure(&b, 700, 0);
	assert_int_equal(pxd_retry_breaker_state(&b), PXD_RETRY_BREAKER_OPEN);
	assert_false(pxd_retry_breaker_allow(&b, 1499));
	assert_int_equal(pxd_retry_breaker_wait_ms(&b, 0), 1500);
}

static void test_breaker_cool_down_doubles_up_to_its_cap(void **state)
{
	struct pxd_retry_breaker b;
	uint64_t now = 0;
	uint64_t waits[7];

	(void)state;
	pxd_retry_breaker_init(&b, 1, 5000);
	for (int k = 0; k < 7; k++) {
		pxd_retry_breaker_failure(&b, now, 0); /* the probe failed */
		waits[k] = pxd_retry_breaker_wait_ms(&b, now);
		now += waits[k];
		assert_true(pxd_retry_breaker_allow(&b, now));
	}
	assert_int_equal(waits[0], 1000);
	assert_int_equal(waits[1], 2000);
	assert_int_equal(waits[2], 4000);
	assert_int_equal(waits[3], 5000);
	assert_int_equal(waits[6], 5000);
	/* The probe succeeds: closed, and the next opening starts over. */
	pxd_retry_breaker_success(&b);
	pxd_retry_breaker_failure(&b, now, 0);
	assert_int_equal(pxd_retry_breaker_wait_ms(&b, now), 1000);
}

static void test_breaker_honours_retry_after(void **state)
{
	struct pxd_retry_breaker b;

	(void)state;
	pxd_retry_breaker_init(&b, 2, 30000);
	/* Throttled with a Retry-After: the caller waits it out, never opens. */
	for (int k = 0; k < 10; k++)
		pxd_retry_breaker_failure(&b, 1000 + k, 2000);
	assert_int_equal(pxd_retry_breaker_state(&b), PXD_RETRY_BREAKER_CLOSED);
	/* Down (no Retry-After) opens it; a failed probe that comes with one
	 * probes again at the earlier of the two. */
	pxd_retry_breaker_failure(&b, 2000, 0);
	pxd_retry_breaker_failure(&b, 2000, 0);
	assert_int_equal(pxd_retry_breaker_state(&b), PXD_RETRY_BREAKER_OPEN);
	assert_true(pxd_retry_breaker_allow(&b, 3000));
	pxd_retry_breaker_failure(&b, 3000, 500);
	assert_int_equal(pxd_retry_breaker_wait_ms(&b, 3000), 500);
	assert_true(pxd_retry_breaker_allow(&b, 3500));
	pxd_retry_breaker_failure(&b, 3500, 9000);
	assert_int_equal(pxd_retry_breaker_wait_ms(&b, 3500), 4000);
	/* A late answer's Retry-After brings the probe forward. */
	pxd_retry_breaker_failure(&b, 4000, 1000);
	assert_int_equal(pxd_retry_breaker_wait_ms(&b, 4000), 1000);
	/* The probe succeeds: closed at once. */
	assert_true(pxd_retry_breaker_allow(&b, 5000));
	pxd_retry_breaker_success(&b);
	assert_int_equal(pxd_retry_breaker_state(&b), PXD_RETRY_BREAKER_CLOSED);
}

static void test_breaker_half_open_allows_exactly_one_probe(void **state)
{
	struct pxd_retry_breaker b;

	(void)state;
	pxd_retry_breaker_init(&b, 1, 1000);
	pxd_retry_breaker_failure(&b, 5000, 0);
	assert_int_equal(pxd_retry_breaker_state(&b), PXD_RETRY_BREAKER_OPEN);
	assert_int_equal(pxd_retry_breaker_wait_ms(&b, 6000), 0);
	assert_true(pxd_retry_breaker_allow(&b, 6000));
	assert_int_equal(pxd_retry_breaker_state(&b), PXD_RETRY_BREAKER_HALF_OPEN);
	assert_false(pxd_retry_breaker_allow(&b, 6001));
	assert_false(pxd_retry_breaker_allow(&b, 99999));
	/* The probe fails: open for another cool-down from now. */
	pxd_retry_breaker_failure(&b, 7000, 0);
	assert_int_equal(pxd_retry_breaker_state(&b), PXD_RETRY_BREAKER_OPEN);
	assert_false(pxd_retry_breaker_allow(&b, 7999));
	assert_true(pxd_retry_breaker_allow(&b, 8000));
	assert_false(pxd_retry_breaker_allow(&b, 8000));
	/* The probe succeeds: closed, and requests flow. */
	pxd_retry_breaker_success(&b);
	assert_int_equal(pxd_retry_breaker_state(&b), PXD_RETRY_BREAKER_CLOSED);
	assert_true(pxd_retry_breaker_allow(&b, 8001));
	assert_true(pxd_retry_breaker_allow(&b, 8002));
	assert_int_equal(pxd_retry_breaker_wait_ms(&b, 8002), 0);
}

static void test_breaker_threshold_zero_means_one(void **state)
{
	struct pxd_retry_breaker b;

	(void)state;
	pxd_retry_breaker_init(&b, 0, 10);
	pxd_retry_breaker_failure(&b, 1, 0);
	assert_int_equal(pxd_retry_breaker_state(&b), PXD_RETRY_BREAKER_OPEN);
}

static void test_request_failed_counts_whole_request_retries(void **state)
{
	struct pxd_outcome out[2] = {
		{ .delivery = PXD_DELIVERY_RETRY, .reason = "meta: HTTP 503" },
		{ .delivery = PXD_DELIVERY_RETRY, .reason = "meta: HTTP 503" },
	};

	(void)state;
	assert_true(pxd_retry_request_failed(out, 2));
	assert_false(pxd_retry_request_failed(out, 0));
	/* Some events delivered or refused: the destination answered. */
	out[1].delivery = PXD_DELIVERY_PERMANENT;
	assert_false(pxd_retry_request_failed(out, 2));
	out[1].delivery = PXD_DELIVERY_OK;
	assert_false(pxd_retry_request_failed(out, 2));
	/* Only unsent events: nothing went wrong at the destination. */
	for (size_t i = 0; i < 2; i++) {
		out[i].delivery = PXD_DELIVERY_RETRY;
		snprintf(out[i].reason, sizeof(out[i].reason),
			 PXD_RETRY_UNSENT "google_ads: fetched an access token");
	}
	assert_false(pxd_retry_request_failed(out, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_ceiling_doubles_to_the_cap),
		cmocka_unit_test(test_full_jitter_spreads_over_the_whole_range),
		cmocka_unit_test(test_retry_after_overrides_backoff),
		cmocka_unit_test(test_gives_up_past_max_age),
		cmocka_unit_test(test_breaker_opens_after_consecutive_failures),
		cmocka_unit_test(test_breaker_half_open_allows_exactly_one_probe),
		cmocka_unit_test(test_breaker_cool_down_doubles_up_to_its_cap),
		cmocka_unit_test(test_breaker_honours_retry_after),
		cmocka_unit_test(test_breaker_threshold_zero_means_one),
		cmocka_unit_test(test_request_failed_counts_whole_request_retries),
	};

	return cmocka_run_group_tests_name("retry", tests, NULL, NULL);
}
