// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "conn.h"

static int setup(void **state)
{
	static struct pxd_conn_table t;

	if (pxd_conn_table_init(&t, 8, 1000, 5000, 200))
		return -1;
	*state = &t;
	return 0;
}

static int teardown(void **state)
{
	pxd_conn_table_fini(*state);
	return 0;
}

static void test_slots_and_generations(void **state)
{
	struct pxd_conn_table *t = *state;
	struct pxd_conn *c[8];
	uint16_t gen;
	uint32_t slot;

	for (int i = 0; i < 8; i++) {
		c[i] = pxd_conn_get(t, 100 + i, 0);
		assert_non_null(c[i]);
		assert_int_equal(c[i]->fd, 100 + i);
	}
	assert_null(pxd_conn_get(t, 200, 0)); /* table full: the caller refuses */
	pxd_conn_put(t, c[7]);
	assert_null(pxd_conn_get(t, 201, 1)); /* the last slot is reserved */
	c[7] = pxd_conn_get(t, 107, 0);
	assert_non_null(c[7]);
	slot = pxd_conn_slot(t, c[3]);
	gen = c[3]->gen;
	pxd_conn_put(t, c[3]);
	assert_int_equal(c[3]->fd, -1);
	assert_int_not_equal(t->slots[slot].gen, gen); /* late CQEs are stale at once */
	c[3] = pxd_conn_get(t, 300, 0);
	assert_int_equal(pxd_conn_slot(t, c[3]), slot);
	assert_int_not_equal(c[3]->gen, gen);
	for (int i = 0; i < 8; i++)
		pxd_conn_put(t, c[i]);
	assert_int_equal(t->nfree, 8);
}

/* Deadlines: the request deadline is fixed at the first byte; idle refreshes. */
static void test_timer_lists_stay_sorted(void **state)
{
	struct pxd_conn_table *t = *state;
	struct pxd_conn *a = pxd_conn_get(t, 1, 0);
	struct pxd_conn *b = pxd_conn_get(t, 2, 0);

	pxd_conn_timer_set(t, a, PXD_TIMER_REQUEST, 0);
	pxd_conn_timer_set(t, b, PXD_TIMER_REQUEST, 100);
	pxd_conn_timer_set(t, a, PXD_TIMER_REQUEST, 900); /* more bytes: deadline kept */
	assert_int_equal(a->deadline_ms, 1000);
	assert_int_equal(pxd_conn_next_deadline(t), 1000);
	assert_null(pxd_conn_expired(t, PXD_TIMER_REQUEST, 999));
	assert_ptr_equal(pxd_conn_expired(t, PXD_TIMER_REQUEST, 1000), a);
	assert_null(pxd_conn_expired(t, PXD_TIMER_REQUEST, 1000));
	assert_ptr_equal(pxd_conn_expired(t, PXD_TIMER_REQUEST, 1100), b);

	pxd_conn_timer_set(t, a, PXD_TIMER_IDLE, 0);
	pxd_conn_timer_set(t, b, PXD_TIMER_IDLE, 10);
	pxd_conn_timer_set(t, a, PXD_TIMER_IDLE, 20); /* activity: refreshed, moves to the tail */
	assert_int_equal(pxd_conn_next_deadline(t), 5010);
	assert_ptr_equal(pxd_conn_expired(t, PXD_TIMER_IDLE, 6000), b);
	assert_ptr_equal(pxd_conn_expired(t, PXD_TIMER_IDLE, 6000), a);
	assert_int_equal(pxd_conn_next_deadline(t), UINT64_MAX);
	pxd_conn_put(t, a);
	pxd_conn_put(t, b);
}

static void test_dbuf_borrows_and_grows(void **state)
{
	struct pxd_conn_table *t = *state;
	struct pxd_dbuf b = { 0 };
	char big[40000];

	memset(big, 'x', sizeof(big));
	assert_int_equal(pxd_dbuf_append(&t->pool, &b, "hello", 5), 0);
	assert_int_equal(b.cap, PXD_CHUNK_SIZE);
	pxd_dbuf_consume(&b, 2);
	assert_memory_equal(b.p, "llo", 3);
	assert_int_equal(pxd_dbuf_append(&t->pool, &b, big, sizeof(big)), 0);
	assert_true(b.cap >= sizeof(big) + 3);
	assert_memory_equal(b.p, "llo", 3);
	assert_int_equal(t->pool.nfree, 1); /* the first chunk went back to the pool */
	pxd_dbuf_release(&t->pool, &b);
	assert_null(b.p);
	assert_int_equal(pxd_dbuf_append(&t->pool, &b, "x", 1), 0);
	assert_int_equal(t->pool.nfree, 0); /* reused from the pool */
	pxd_dbuf_release(&t->pool, &b);
	assert_int_equal(t->pool.nfree, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_slots_and_generations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_lists_stay_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dbuf_borrows_and_grows, setup, teardown),
	};

	return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
