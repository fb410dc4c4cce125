// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "uuid7.h"

#define NOW_MS INT64_C(1732300000123) /* 0x0193_5520_4b7b */

static int setup_state(void **state)
{
	struct pxd_uuid7 *u = malloc(sizeof(*u));

	if (!u || pxd_uuid7_init(u)) {
		free(u);
		return -1;
	}
	*state = u;
	return 0;
}

static int teardown_state(void **state)
{
	free(*state);
	return 0;
}

static void assert_uuid7_shape(const char *id)
{
	assert_int_equal(strlen(id), PXD_UUID7_LEN);
	for (int i = 0; i < PXD_UUID7_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(id[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", id[i]));
	}
	assert_int_equal(id[14], '7');		 /* version */
	assert_non_null(strchr("89ab", id[19])); /* variant 10 */
}

static void test_format_version_variant_and_timestamp(void **state)
{
	struct pxd_uuid7 *u = *state;
	char id[PXD_UUID7_LEN + 1];

	pxd_uuid7_next(u, NOW_MS, id);
	assert_uuid7_shape(id);
	/* the first 48 bits are the milliseconds, big-endian */
	assert_memory_equal(id, "01935520-4b7b-", 14);
	assert_int_equal(u->last_ms, NOW_MS);
}

static void test_monotonic_10k_ids_in_one_ms(void **state)
{
	struct pxd_uuid7 *u = *state;
	char prev[PXD_UUID7_LEN + 1];
	char id[PXD_UUID7_LEN + 1];

	pxd_uuid7_next(u, NOW_MS, prev);
	for (int i = 0; i < 10000; i++) {
		pxd_uuid7_next(u, NOW_MS, id);
		assert_uuid7_shape(id);
		assert_true(strcmp(prev, id) < 0);
		/* the timestamp stays the caller's: the counter has room */
		assert_memory_equal(id, "01935520-4b7b-", 14);
		memcpy(prev, id, sizeof(id));
	}
}

static void test_clock_stepping_back_keeps_order(void **state)
{
	struct pxd_uuid7 *u = *state;
	char a[PXD_UUID7_LEN + 1];
	char b[PXD_UUID7_LEN + 1];

	pxd_uuid7_next(u, NOW_MS, a);
	pxd_uuid7_next(u, NOW_MS - 5000, b);
	assert_true(strcmp(a, b) < 0);
	assert_memory_equal(b, "01935520-4b7b-", 14);
}

static void test_counter_overflow_moves_to_next_ms(void **state)
{
	struct pxd_uuid7 *u = *state;
	char a[PXD_UUID7_LEN + 1];
	char b[PXD_UUID7_LEN + 1];

	pxd_uuid7_next(u, NOW_MS, a);
	u->counter = (1u << 26) - 1;
	pxd_uuid7_next(u, NOW_MS, b);
	assert_true(strcmp(a, b) < 0);
	assert_memory_equal(b, "01935520-4b7c-", 14);
	assert_int_equal(u->last_ms, NOW_MS + 1);
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, PXD_UUID7_LEN);
}

/* Two states (two threads) making ids in the same milliseconds never collide. */
static void test_ids_are_unique_across_states(void **state)
{
	enum { PER_STATE = 50000 };
	struct pxd_uuid7 *u = *state;
	struct pxd_uuid7 other;
	char(*ids)[PXD_UUID7_LEN + 1] = calloc(2 * PER_STATE, sizeof(*ids));

	assert_non_null(ids);
	assert_int_equal(pxd_uuid7_init(&other), 0);
	for (int i = 0; i < PER_STATE; i++) {
		pxd_uuid7_next(u, NOW_MS + i / 1000, ids[2 * i]);
		pxd_uuid7_next(&other, NOW_MS + i / 1000, ids[2 * i + 1]);
	}
	qsort(ids, 2 * PER_STATE, sizeof(*ids), cmp_id);
	for (int i = 1; i < 2 * PER_STATE; i++)
		assert_true(cmp_id(ids[i - 1], ids[i]) != 0);
	free(ids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format_version_variant_and_timestamp,
						setup_state, teardown_state),
		cmocka_unit_test_setup_teardown(test_monotonic_10k_ids_in_one_ms, setup_state,
						teardown_state),
		cmocka_unit_test_setup_teardown(test_clock_stepping_back_keeps_order, setup_state,
						teardown_state),
		cmocka_unit_test_setup_teardown(test_counter_overflow_moves_to_next_ms, setup_state,
						teardown_state),
		cmocka_unit_test_setup_teardown(test_ids_are_unique_across_states, setup_state,
						teardown_state),
	};

	return cmocka_run_group_tests_name("uuid7", tests, NULL, NULL);
}
