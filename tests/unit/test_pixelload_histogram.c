// SPDX-License-Identifier: MIT
/*
 * Tests for pixelload's latency histogram (bench/pixelload/histogram.c):
 * percentiles against a brute-force sort of the same random samples (never
 * below the exact value, at most one bucket width above it, exact below 256),
 * the bucket bounds tiling the value range, values past the top, and merging.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/pixelload/histogram.h"
#include "bench/pixelload/rng.h"

#define SAMPLES 20000

static const double pcts[] = { 0.01, 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100 };

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* How the samples of a run are drawn. */
enum draw {
	DRAW_SMALL = 0, /* 0..299: the exact buckets and the first log-linear ones */
	DRAW_UNIFORM,	/* 0..10^6 us */
	DRAW_LOG,	/* 2^0..2^36 us, uniform in log2: every power of two */
	DRAW_TAIL,	/* mostly 50..150 us with a few multi-second stalls */
	DRAW_COUNT,	/* number of ways; keep last */
};

static uint64_t draw(uint64_t *s, enum draw how)
{
	switch (how) {
	case DRAW_SMALL:
		return pl_rng_below(s, 300);
	case DRAW_UNIFORM:
		return pl_rng_next(s) % 1000001;
	case DRAW_LOG:
		return (uint64_t)exp2((double)(pl_rng_next(s) >> 11) * 0x1.0p-53 * 36);
	default:
		return pl_rng_chance(s, 0.001) ? 1000000 + pl_rng_below(s, 9000000)
					       : 50 + pl_rng_below(s, 101);
	}
}

/* The smallest value bucket <i> holds. */
static uint64_t lower(unsigned i)
{
	return i ? pl_hist_upper(i - 1) + 1 : 0;
}

static void check_against_sort(uint64_t seed, enum draw how, size_t n)
{
	uint64_t *v = calloc(n, sizeof(*v)), s = seed, sum = 0;
	struct pl_hist *h = calloc(1, sizeof(*h));

	assert_non_null(v);
	assert_non_null(h);
	for (size_t i = 0; i < n; i++) {
		v[i] = draw(&s, how);
		sum += v[i];
		pl_hist_add(h, v[i]);
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	assert_int_equal(h->count, n);
	assert_int_equal(h->sum, sum);
	assert_int_equal(h->min, v[0]);
	assert_int_equal(h->max, v[n - 1]);
	for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
		size_t rank = (size_t)ceil(pcts[k] / 100.0 * (double)n);
		uint64_t exact = v[(rank ? rank : 1) - 1];
		uint64_t got = pl_hist_pct(h, pcts[k]);
		unsigned b = pl_hist_index(exact);

		/* The answer is the exact value's bucket top, capped at the max. */
		if (got < exact || got > pl_hist_upper(b) || got > h->max ||
		    (exact < PL_HIST_SUB && got != exact) ||
		    (double)(got - exact) > (double)exact / PL_HIST_HALF) {
			print_error("seed %llu draw %d n %zu p%g: got %llu, exact %llu\n",
				    (unsigned long long)seed, (int)how, n, pcts[k],
				    (unsigned long long)got, (unsigned long long)exact);
			fail();
		}
	}
	assert_int_equal(pl_hist_pct(h, 100), h->max);
	free(v);
	free(h);
}

static void test_percentiles_match_a_sort(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 5; seed++)
		for (int how = 0; how < DRAW_COUNT; how++) {
			check_against_sort(seed * 0x9E3779B97F4A7C15ull, (enum draw)how, SAMPLES);
			check_against_sort(seed * 7919, (enum draw)how, 1 + (size_t)seed * 13);
		}
}

static void test_single_value_and_empty(void **state)
{
	struct pl_hist h = { 0 };

	(void)state;
	assert_int_equal(pl_hist_pct(&h, 50), 0);
	assert_int_equal(pl_hist_pct(&h, 100), 0);
	pl_hist_add(&h, 1234);
	for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++)
		assert_int_equal(pl_hist_pct(&h, pcts[k]), 1234); /* capped at the exact max */
	assert_int_equal(h.min, 1234);
	assert_int_equal(h.max, 1234);
	pl_hist_add(&h, 0);
	assert_int_equal(h.min, 0);
	assert_int_equal(pl_hist_pct(&h, 50), 0);
	assert_int_equal(pl_hist_pct(&h, 51), 1234);
}

static void test_buckets_tile_the_range(void **state)
{
	(void)state;
	for (unsigned i = 0; i < PL_HIST_BUCKETS; i++) {
		uint64_t lo = lower(i), hi = pl_hist_upper(i);

		assert_true(lo <= hi);
		assert_int_equal(pl_hist_index(lo), i);
		assert_int_equal(pl_hist_index(hi), i);
		assert_int_equal(pl_hist_index(lo + (hi - lo) / 2), i);
		if (i < PL_HIST_SUB)
			assert_int_equal(lo, hi); /* one value per bucket below 256 */
		else
			assert_true((double)(hi - lo + 1) <= (double)lo / PL_HIST_HALF);
	}
	assert_int_equal(pl_hist_upper(PL_HIST_BUCKETS - 1), (1ull << PL_HIST_TOP_BITS) - 1);
}

static void test_values_past_the_top_land_in_the_last_bucket(void **state)
{
	struct pl_hist h = { 0 };

	(void)state;
	assert_int_equal(pl_hist_index((1ull << PL_HIST_TOP_BITS) - 1), PL_HIST_BUCKETS - 1);
	assert_int_equal(pl_hist_index(1ull << PL_HIST_TOP_BITS), PL_HIST_BUCKETS - 1);
	assert_int_equal(pl_hist_index(UINT64_MAX), PL_HIST_BUCKETS - 1);
	pl_hist_add(&h, 5);
	pl_hist_add(&h, 1ull << 40);
	assert_int_equal(h.b[PL_HIST_BUCKETS - 1], 1);
	assert_int_equal(h.max, 1ull << 40); /* min, max and sum stay exact */
	assert_int_equal(h.sum, (1ull << 40) + 5);
	assert_int_equal(pl_hist_pct(&h, 50), 5);
	assert_int_equal(pl_hist_pct(&h, 100), (1ull << PL_HIST_TOP_BITS) - 1);
}

static void test_merge_equals_one_histogram(void **state)
{
	struct pl_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct pl_hist *all = calloc(1, sizeof(*all)), *none = calloc(1, sizeof(*none));
	uint64_t s = 42;

	(void)state;
	assert_true(a && b && all && none);
	for (int i = 0; i < 5000; i++) {
		uint64_t v = draw(&s, i % 2 ? DRAW_LOG : DRAW_TAIL);

		pl_hist_add(i % 3 ? a : b, v);
		pl_hist_add(all, v);
	}
	pl_hist_merge(a, none); /* an empty one changes nothing */
	pl_hist_merge(none, b); /* into an empty one: a copy, min included */
	assert_memory_equal(none, b, sizeof(*b));
	pl_hist_merge(a, b);
	assert_memory_equal(a, all, sizeof(*all));
	free(a);
	free(b);
	free(all);
	free(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentiles_match_a_sort),
		cmocka_unit_test(test_single_value_and_empty),
		cmocka_unit_test(test_buckets_tile_the_range),
		cmocka_unit_test(test_values_past_the_top_land_in_the_last_bucket),
		cmocka_unit_test(test_merge_equals_one_histogram),
	};

	return cmocka_run_group_tests_name("pixelload_histogram", tests, NULL, NULL);
}
