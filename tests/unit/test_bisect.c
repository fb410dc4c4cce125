// SPDX-License-Identifier: MIT
#include "bisect.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_N 1024

/* A platform that refuses a whole request when it holds any bad event. */
static bool refuses(const bool *bad, size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++)
		if (bad[i])
			return true;
	return false;
}

struct run {
	unsigned delivered[MAX_N]; /* times each event went through */
	unsigned isolated[MAX_N];  /* times each event was sent alone and refused */
	size_t requests;
};

static void run_plan(const bool *bad, size_t n, struct run *r)
{
	struct pxd_bisect b;
	size_t lo, hi;

	memset(r, 0, sizeof(*r));
	assert_int_equal(pxd_bisect_init(&b, n), 0);
	while (pxd_bisect_next(&b, &lo, &hi)) {
		assert_true(lo < hi && hi <= n);
		r->requests++;
		if (!refuses(bad, lo, hi)) {
			for (size_t i = lo; i < hi; i++)
				r->delivered[i]++;
			assert_int_equal(pxd_bisect_report(&b, PXD_BISECT_ACCEPTED), 0);
			continue;
		}
		if (hi - lo == 1)
			r->isolated[lo]++;
		assert_int_equal(pxd_bisect_report(&b, PXD_BISECT_REFUSED), 0);
	}
	assert_int_equal(pxd_bisect_requests(&b), r->requests);
	if (n > 1) {
		size_t nbad = 0;

		for (size_t i = 0; i < n; i++)
			nbad += bad[i];
		assert_int_equal(pxd_bisect_isolated(&b), nbad);
	}
}

static void test_isolates_one_bad_event_and_skips_known_bad_halves(void **state)
{
	static const size_t want[][2] = { { 0, 4 }, { 4, 6 }, { 6, 7 }, { 7, 8 } };
	bool bad[8] = { false };
	struct pxd_bisect b;
	size_t lo, hi, i = 0;

	(void)state;
	bad[6] = true;
	assert_int_equal(pxd_bisect_init(&b, 8), 0);
	/* [0,4) goes through, so [4,8) must hold the bad event: it is split
	 * without being sent, and so is [6,8) after [4,6) goes through. */
	while (pxd_bisect_next(&b, &lo, &hi)) {
		assert_true(i < 4);
		assert_int_equal(lo, want[i][0]);
		assert_int_equal(hi, want[i][1]);
		i++;
		pxd_bisect_report(&b,
				  refuses(bad, lo, hi) ? PXD_BISECT_REFUSED : PXD_BISECT_ACCEPTED);
	}
	assert_int_equal(i, 4);
	assert_int_equal(pxd_bisect_isolated(&b), 1);
}

static void test_every_good_event_delivered_once_every_bad_isolated(void **state)
{
	static bool bad[MAX_N];
	static struct run r;
	uint32_t seed = 12345;

	(void)state;
	for (size_t n = 1; n <= 70; n++) {
		for (unsigned trial = 0; trial < 20; trial++) {
			size_t nbad = 0;

			for (size_t i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				bad[i] = (seed >> 16) % 16 == 0;
				nbad += bad[i];
			}
			if (n > 1 && !nbad)
				bad[(seed >> 8) % n] = true;
			if (n == 1)
				bad[0] = true;
			run_plan(bad, n, &r);
			for (size_t i = 0; i < n; i++) {
				assert_int_equal(r.delivered[i], bad[i] ? 0 : 1);
				assert_int_equal(r.isolated[i], bad[i] && n > 1 ? 1 : 0);
			}
		}
	}
}

static void test_requests_grow_with_log_n(void **state)
{
	static bool bad[MAX_N];
	static struct run r;

	(void)state;
	memset(bad, 0, sizeof(bad));
	bad[777] = true;
	run_plan(bad, 1000, &r);
	/* One bad event among 1,000: one request per level, at most 2 log2(n). */
	assert_true(r.requests <= 20);
	assert_int_equal(r.isolated[777], 1);
	bad[3] = true;
	run_plan(bad, 1000, &r);
	assert_true(r.requests <= 40);
}

static void test_undecided_half_infers_nothing(void **state)
{
	struct pxd_bisect b;
	size_t lo, hi;

	(void)state;
	assert_int_equal(pxd_bisect_init(&b, 4), 0);
	assert_true(pxd_bisect_next(&b, &lo, &hi));
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 2);
	/* A 503 on the left half says nothing about the right: it is sent whole. */
	assert_int_equal(pxd_bisect_report(&b, PXD_BISECT_UNDECIDED), 0);
	assert_true(pxd_bisect_next(&b, &lo, &hi));
	assert_int_equal(lo, 2);
	assert_int_equal(hi, 4);
	assert_int_equal(pxd_bisect_report(&b, PXD_BISECT_ACCEPTED), 0);
	assert_false(pxd_bisect_next(&b, &lo, &hi));
	assert_int_equal(pxd_bisect_isolated(&b), 0);
}

static void test_misuse_is_refused(void **state)
{
	struct pxd_bisect b;
	size_t lo, hi;

	(void)state;
	assert_int_equal(pxd_bisect_init(&b, 0), -EINVAL);
	assert_int_equal(pxd_bisect_init(&b, 1), 0);
	assert_false(pxd_bisect_next(&b, &lo, &hi));
	assert_int_equal(pxd_bisect_isolated(&b), 1);
	assert_int_equal(pxd_bisect_report(&b, PXD_BISECT_REFUSED), -EINVAL);
	assert_int_equal(pxd_bisect_init(&b, 3), 0);
	assert_true(pxd_bisect_next(&b, &lo, &hi));
	/* The result of the range out is due before the next one. */
	assert_false(pxd_bisect_next(&b, &lo, &hi));
	assert_int_equal(pxd_bisect_report(&b, PXD_BISECT_RESULT_COUNT), -EINVAL);
	assert_int_equal(pxd_bisect_report(&b, PXD_BISECT_ACCEPTED), 0);
	assert_int_equal(pxd_bisect_report(&b, PXD_BISECT_ACCEPTED), -EINVAL);
}

static void test_wanted_only_when_every_event_says_batch(void **state)
{
	struct pxd_outcome out[3] = { 0 };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		out[i].delivery = PXD_DELIVERY_PERMANENT;
		snprintf(out[i].reason, sizeof(out[i].reason), PXD_BISECT_REASON "meta: code 100");
	}
	assert_true(pxd_bisect_wanted(out, 3));
	/* One event is already isolated. */
	assert_false(pxd_bisect_wanted(out, 1));
	out[1].reason[0] = 'x';
	assert_false(pxd_bisect_wanted(out, 3));
	out[1].reason[0] = 'b';
	out[2].delivery = PXD_DELIVERY_RETRY;
	assert_false(pxd_bisect_wanted(out, 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isolates_one_bad_event_and_skips_known_bad_halves),
		cmocka_unit_test(test_every_good_event_delivered_once_every_bad_isolated),
		cmocka_unit_test(test_requests_grow_with_log_n),
		cmocka_unit_test(test_undecided_half_infers_nothing),
		cmocka_unit_test(test_misuse_is_refused),
		cmocka_unit_test(test_wanted_only_when_every_event_says_batch),
	};

	return cmocka_run_group_tests_name("bisect", tests, NULL, NULL);
}
