// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
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

/* The sizes are 32-bit: a request that would wrap them is refused, nothing is touched. */
static void test_dbuf_refuses_past_its_ceiling(void **state)
{
	struct pxd_conn_table *t = *state;
	char one[16];
	/* Claims more than it holds: reserve must refuse before it copies. */
	struct pxd_dbuf b = { one, 3u << 30, 3u << 30 };
	struct pxd_dbuf near = { one, PXD_DBUF_MAX - 8, PXD_DBUF_MAX - 8 };

	assert_int_equal(pxd_dbuf_reserve(&t->pool, &b, 1u << 30), -ENOBUFS);
	assert_int_equal(pxd_dbuf_reserve(&t->pool, &b, 0xffffffffu), -ENOBUFS);
	assert_int_equal(pxd_dbuf_append(&t->pool, &near, one, 16), -ENOBUFS);
	assert_int_equal(b.len, 3u << 30);
	assert_ptr_equal(b.p, one);
}

/* A quiet table gives the slots above the highest one in use back, and new
 * connections then fill it from the bottom. */
static void test_table_trim_keeps_slots_in_use(void **state)
{
	struct pxd_conn_table t;
	struct pxd_conn *c[200];
	struct pxd_conn *n;

	(void)state;
	assert_int_equal(pxd_conn_table_init(&t, 200, 1000, 5000, 200), 0);
	for (int i = 0; i < 200; i++)
		assert_non_null(c[i] = pxd_conn_get(&t, 100 + i, 0));
	pxd_dbuf_append(&t.pool, &c[7]->in, "partial", 7);
	for (int i = 0; i < 200; i++)
		if (i != 3 && i != 7)
			pxd_conn_put(&t, c[i]);
	assert_int_equal(pxd_conn_table_trim(&t), 0);
	assert_int_equal(t.ninit, 8);
	assert_int_equal(t.nfree, 198);
	/* What is in use is untouched. */
	assert_int_equal(c[3]->fd, 103);
	assert_int_equal(c[7]->fd, 107);
	assert_memory_equal(c[7]->in.p, "partial", 7);
	/* Lowest free slot first, then the ones above the slots in use. */
	for (uint32_t want = 0; want < 12; want++) {
		if (want == 3 || want == 7)
			continue;
		assert_non_null(n = pxd_conn_get(&t, 500, 0));
		assert_int_equal(pxd_conn_slot(&t, n), want);
		assert_int_equal(n->fd, 500);
		assert_null(n->in.p);
	}
	assert_int_equal(t.ninit, 12);
	assert_int_equal(t.nfree, 188);
	/* Nothing above the slots in use: nothing to give back. */
	assert_int_equal(pxd_conn_table_trim(&t), 0);
	assert_int_equal(t.ninit, 12);
	/* The top slot given back lowers the top rather than going on the
	 * stack, and is the next one taken. */
	pxd_conn_put(&t, n);
	assert_int_equal(t.ninit, 11);
	assert_int_equal(t.nfree, 189);
	assert_non_null(n = pxd_conn_get(&t, 600, 0));
	assert_int_equal(pxd_conn_slot(&t, n), 11);
	pxd_conn_table_fini(&t);
}

static void test_pool_and_grown_buffers_shrink(void **state)
{
	struct pxd_conn_table *t = *state;
	struct pxd_dbuf b[6] = { 0 };
	char big[40000] = { 0 };

	for (int i = 0; i < 6; i++)
		assert_int_equal(pxd_dbuf_append(&t->pool, &b[i], "x", 1), 0);
	for (int i = 0; i < 6; i++)
		pxd_dbuf_release(&t->pool, &b[i]);
	assert_int_equal(t->pool.nfree, 6);
	pxd_chunkpool_trim(&t->pool, 2);
	assert_int_equal(t->pool.nfree, 2);

	assert_int_equal(pxd_dbuf_append(&t->pool, &b[0], big, sizeof(big)), 0);
	pxd_dbuf_shrink(&t->pool, &b[0]); /* not empty: kept */
	assert_non_null(b[0].p);
	pxd_dbuf_consume(&b[0], sizeof(big));
	pxd_dbuf_shrink(&t->pool, &b[0]);
	assert_null(b[0].p);
	assert_int_equal(b[0].cap, 0);
	assert_int_equal(pxd_dbuf_append(&t->pool, &b[1], "y", 1), 0);
	pxd_dbuf_shrink(&t->pool, &b[1]); /* one chunk: kept */
	assert_non_null(b[1].p);
	pxd_dbuf_release(&t->pool, &b[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_slots_and_generations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_lists_stay_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dbuf_borrows_and_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dbuf_refuses_past_its_ceiling, setup,
						teardown),
		cmocka_unit_test(test_table_trim_keeps_slots_in_use),
		cmocka_unit_test_setup_teardown(test_pool_and_grown_buffers_shrink, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
