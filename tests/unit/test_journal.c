// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "journal_format.h"

struct fx {
	char dir[64];
	struct pxd_jstream js;
	struct pxd_chunkpool pool;
	void *free[8];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_journal.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->pool.free = f->free;
	f->pool.max_free = 8;
	assert_int_equal(pxd_journal_open(&f->js, f->dir, 0, 0, 1), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	pxd_journal_close(&f->js, &f->pool);
	for (unsigned i = 0; i < f->pool.nfree; i++)
		free(f->pool.free[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A hung write: nothing is pumped, appends stop at the ceiling instead of growing. */
static void test_appends_stop_at_the_buffer_ceiling(void **state)
{
	struct fx *f = *state;
	static char payload[60000];
	uint64_t start, end, held = 0;
	size_t n = 0;
	int rc;

	memset(payload, 'x', sizeof(payload));
	payload[sizeof(payload) - 1] = '\n';
	while ((rc = pxd_journal_append(&f->js, &f->pool, payload, sizeof(payload), 1, 1ull << 30,
					&start, &end)) == 0 &&
	       n < 10000) {
		held += end - start;
		n++;
	}
	assert_int_equal(rc, -ENOBUFS);
	assert_true(held <= PXD_JOURNAL_BUFFER_MAX);
	assert_true(held > PXD_JOURNAL_BUFFER_MAX - 2 * sizeof(payload));
}

/* A batch taken back leaves the stream exactly as it was, across a segment roll too. */
static void test_rewind_takes_appends_back(void **state)
{
	struct fx *f = *state;
	static char payload[4000];
	struct pxd_jmark m;
	uint64_t start, end, first_end;

	memset(payload, 'y', sizeof(payload));
	payload[sizeof(payload) - 1] = '\n';
	assert_int_equal(pxd_journal_append(&f->js, &f->pool, payload, sizeof(payload), 1, 1u << 20,
					    &start, &first_end),
			 0);
	pxd_journal_mark(&f->js, &m);
	for (int i = 0; i < 400; i++)
		assert_int_equal(pxd_journal_append(&f->js, &f->pool, payload, sizeof(payload), 1,
						    1u << 20, &start, &end),
				 0);
	assert_true(f->js.rolling);
	pxd_journal_rewind(&f->js, &m);
	assert_false(f->js.rolling);
	assert_int_equal(f->js.appended, first_end);
	assert_int_equal(f->js.next_fill.len, 0);
	assert_int_equal(pxd_journal_append(&f->js, &f->pool, payload, sizeof(payload), 1, 1u << 20,
					    &start, &end),
			 0);
	assert_int_equal(start, first_end);
}

/* Checks that <buf> holds <n> records of <len> bytes of <c>, each received at <ms>. */
static void assert_records(const struct pxd_dbuf *buf, unsigned n, size_t len, char c, int64_t ms)
{
	struct pxd_journal_rec rec;
	size_t off = 0;

	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(pxd_journal_record_check(buf->p + off, buf->len - off, &rec),
				 PXD_JOURNAL_BAD_NONE);
		assert_int_equal(rec.len, len);
		assert_int_equal(rec.received_ms, ms);
		for (size_t k = 0; k + 1 < len; k++)
			assert_int_equal(rec.payload[k], c);
		assert_int_equal(rec.payload[len - 1], '\n');
		off += pxd_journal_record_bytes(len);
	}
	assert_int_equal(off, buf->len);
}

/* Writes one record of <len> bytes of <c> in place, as the ingest path serializes. */
static int commit_in_place(struct fx *f, uint32_t len, char c, uint64_t segment_bytes,
			   uint64_t *start, uint64_t *end)
{
	uint32_t cap;
	int err;
	char *p = pxd_journal_reserve(&f->js, &f->pool, len, &cap, &err);

	assert_non_null(p);
	assert_true(cap >= len);
	memset(p, c, len - 1);
	p[len - 1] = '\n';
	return pxd_journal_commit(&f->js, &f->pool, len, 7, segment_bytes, start, end);
}

/* Records written in place carry their header and CRC like appended ones; a
 * reservation not committed appends nothing. */
static void test_records_written_in_place_read_back(void **state)
{
	struct fx *f = *state;
	uint64_t start, end, prev_end = f->js.appended;
	uint32_t cap;
	int err;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(commit_in_place(f, 300, 'a', 1u << 20, &start, &end), 0);
		assert_int_equal(start, prev_end);
		assert_int_equal(end - start, pxd_journal_record_bytes(300));
		prev_end = end;
	}
	assert_non_null(pxd_journal_reserve(&f->js, &f->pool, 5000, &cap, &err));
	assert_true(cap >= 5000);
	assert_int_equal(f->js.appended, prev_end);
	assert_records(&f->js.fill, 3, 300, 'a', 7);
}

/* The record that passes the segment's size moves to the next segment's buffer. */
static void test_record_written_in_place_rolls_the_segment(void **state)
{
	struct fx *f = *state;
	uint64_t seg = 10 * pxd_journal_record_bytes(1000);
	uint64_t start, end;

	for (int i = 0; i < 10; i++)
		assert_int_equal(commit_in_place(f, 1000, 'b', seg, &start, &end), 0);
	assert_false(f->js.rolling);
	assert_int_equal(commit_in_place(f, 1000, 'c', seg, &start, &end), 0);
	assert_true(f->js.rolling);
	assert_int_equal(start, pxd_journal_pos_make(f->js.seq + 1, 0));
	assert_int_equal(f->js.seg_end, pxd_journal_pos_make(f->js.seq, seg));
	assert_records(&f->js.fill, 10, 1000, 'b', 7);
	assert_records(&f->js.next_fill, 1, 1000, 'c', 7);
	assert_int_equal(commit_in_place(f, 1000, 'c', seg, &start, &end), 0);
	assert_records(&f->js.next_fill, 2, 1000, 'c', 7);
}

/* Near the ceiling a reservation is refused like an append, with nothing taken. */
static void test_reserve_stops_at_the_buffer_ceiling(void **state)
{
	struct fx *f = *state;
	static char payload[60000];
	uint64_t start, end;
	uint32_t cap;
	int err;

	memset(payload, 'x', sizeof(payload));
	while (pxd_journal_append(&f->js, &f->pool, payload, sizeof(payload), 1, 1ull << 30, &start,
				  &end) == 0)
		;
	assert_null(pxd_journal_reserve(&f->js, &f->pool, sizeof(payload), &cap, &err));
	assert_int_equal(err, -ENOBUFS);
	assert_int_equal(f->js.appended, end);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_appends_stop_at_the_buffer_ceiling, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rewind_takes_appends_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_written_in_place_read_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_record_written_in_place_rolls_the_segment,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_stops_at_the_buffer_ceiling, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
