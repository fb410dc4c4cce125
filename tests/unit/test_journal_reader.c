// SPDX-License-Identifier: MIT
/* The journal reader: across segments, below a limit, following a live stream, past damage. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_test.h"

static void test_round_trip_across_segments(void **state)
{
	struct journal_fx *f = *state;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	uint64_t pos[60];
	uint64_t mid_next = 0;
	int n = 0;

	for (uint32_t seq = 1; seq <= 3; seq++)
		for (int k = 0; k < 20; k++, n++)
			pos[n] =
			    journal_put(f, seq, n, (size_t)(n * 37 % 300) + (n == 33 ? 65000 : 0));
	assert_int_equal(pxd_journal_reader_open(f->stream, 64, &r), 0);
	for (int k = 0; k < n; k++) {
		assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
				 PXD_JOURNAL_READ_OK);
		journal_assert_rec(&rec, k);
		assert_int_equal(rec.pos, pos[k]);
		if (k + 1 < n && pxd_journal_pos_seq(pos[k + 1]) == pxd_journal_pos_seq(pos[k]))
			assert_int_equal(rec.next, pos[k + 1]);
		if (k == 29)
			mid_next = rec.next;
	}
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_END);
	assert_int_equal(pxd_journal_reader_pos(r),
			 pxd_journal_pos_make(3, (uint32_t)journal_seg_size(f, 3)));
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_END);

	pxd_journal_reader_seek(r, mid_next);
	for (int k = 30; k < n; k++) {
		assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
				 PXD_JOURNAL_READ_OK);
		journal_assert_rec(&rec, k);
	}
	/* A watermark at the very end of a segment goes on with the next one. */
	pxd_journal_reader_seek(r, pxd_journal_pos_make(1, (uint32_t)journal_seg_size(f, 1)));
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 20);
	assert_int_equal(rec.pos, pxd_journal_pos_make(2, 0));
	pxd_journal_reader_close(r);
}

static void test_limit_is_respected(void **state)
{
	struct journal_fx *f = *state;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	uint64_t p[6];

	for (int k = 0; k < 3; k++)
		p[k] = journal_put(f, 1, k, 10);
	for (int k = 3; k < 6; k++)
		p[k] = journal_put(f, 2, k, 10);
	assert_int_equal(pxd_journal_reader_open(f->stream, 0, &r), 0);
	assert_int_equal(pxd_journal_reader_next(r, 0, &rec), PXD_JOURNAL_READ_END);
	assert_int_equal(pxd_journal_reader_next(r, p[2], &rec), PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 0);
	assert_int_equal(pxd_journal_reader_next(r, p[2], &rec), PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 1);
	assert_int_equal(pxd_journal_reader_next(r, p[2], &rec), PXD_JOURNAL_READ_END);
	assert_int_equal(pxd_journal_reader_pos(r), p[2]);
	/* A limit inside a record (not published whole yet) stops before it. */
	assert_int_equal(pxd_journal_reader_next(r, p[2] + 5, &rec), PXD_JOURNAL_READ_END);
	/* The writer rolled: (2, 0) publishes all of segment 1 and nothing of 2. */
	assert_int_equal(pxd_journal_reader_next(r, p[3], &rec), PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 2);
	assert_int_equal(pxd_journal_reader_next(r, p[3], &rec), PXD_JOURNAL_READ_END);
	assert_int_equal(pxd_journal_reader_next(r, p[5], &rec), PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 3);
	assert_int_equal(rec.pos, p[3]);
	assert_int_equal(pxd_journal_reader_next(r, p[5], &rec), PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 4);
	assert_int_equal(pxd_journal_reader_next(r, p[5], &rec), PXD_JOURNAL_READ_END);
	pxd_journal_reader_close(r);
}

/*
 * The writer appends while the shard reads: bytes of a half-written record
 * beyond the limit are never read, so when the record is complete and
 * published it reads whole (the read window never keeps stale bytes).
 */
static void test_live_stream_is_followed(void **state)
{
	struct journal_fx *f = *state;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	char buf[256];
	uint64_t end;
	ssize_t n;

	journal_put(f, 1, 0, 3);
	end = pxd_journal_pos_make(1, (uint32_t)journal_seg_size(f, 1));
	n = pxd_journal_record_encode(buf, sizeof(buf), 1700000000001, "{\"n\":1,\"x\":1}\n", 14);
	assert_true(n > 0);
	journal_put_raw(f, 1, buf, 10); /* the writer's next write is in flight */
	assert_int_equal(pxd_journal_reader_open(f->stream, 0, &r), 0);
	assert_int_equal(pxd_journal_reader_next(r, end, &rec), PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 0);
	assert_int_equal(pxd_journal_reader_next(r, end, &rec), PXD_JOURNAL_READ_END);
	journal_put_raw(f, 1, buf + 10, (size_t)n - 10);
	end += (uint64_t)n;
	assert_int_equal(pxd_journal_reader_next(r, end, &rec), PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 1);
	/* A new segment appears after the reader reached the end of the old one. */
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_END);
	journal_put(f, 2, 2, 0);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 2);
	pxd_journal_reader_close(r);
}

/* Reads all of the stream; returns the records read and the final outcome. */
static void test_skip_keeps_reading_a_live_segment(void **state)
{
	struct journal_fx *f = *state;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	char junk[40];
	uint64_t skipped = 0;
	uint64_t bad;

	journal_put(f, 1, 0, 5);
	bad = pxd_journal_pos_make(1, (uint32_t)journal_seg_size(f, 1));
	memset(junk, 0x5a, sizeof(junk));
	journal_put_raw(f, 1, junk, sizeof(junk));
	assert_int_equal(pxd_journal_reader_open(f->stream, 0, &r), 0);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_OK);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_TORN);
	assert_int_equal(pxd_journal_reader_pos(r), bad);
	assert_int_equal(pxd_journal_reader_bad(r), PXD_JOURNAL_BAD_LEN);
	assert_int_equal(pxd_journal_reader_skip(r, &skipped), 0);
	assert_int_equal(skipped, sizeof(junk));
	assert_int_equal(pxd_journal_reader_pos(r), bad + sizeof(junk));
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_END);
	journal_put(f, 1, 1, 5);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 1);
	assert_int_equal(rec.pos, bad + sizeof(junk));
	pxd_journal_reader_close(r);
}

/* A damaged record with valid data after it: in an older segment, or in the last one. */
static void test_missing_segment_is_corrupt(void **state)
{
	struct journal_fx *f = *state;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	uint64_t skipped = 0;
	char path[256];

	journal_put(f, 1, 0, 0);
	journal_put(f, 2, 1, 0);
	journal_put(f, 3, 2, 0);
	journal_seg_path(f, 2, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pxd_journal_reader_open(f->stream, 0, &r), 0);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_OK);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_CORRUPT);
	assert_int_equal(pxd_journal_reader_bad(r), PXD_JOURNAL_BAD_GAP);
	assert_int_equal(pxd_journal_reader_skip(r, &skipped), 0);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 2);
	/* Seeking into the hole is the same. */
	pxd_journal_reader_seek(r, pxd_journal_pos_make(2, 0));
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_CORRUPT);
	pxd_journal_reader_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_across_segments, journal_setup,
						journal_teardown),
		cmocka_unit_test_setup_teardown(test_limit_is_respected, journal_setup,
						journal_teardown),
		cmocka_unit_test_setup_teardown(test_live_stream_is_followed, journal_setup,
						journal_teardown),
		cmocka_unit_test_setup_teardown(test_skip_keeps_reading_a_live_segment,
						journal_setup, journal_teardown),
		cmocka_unit_test_setup_teardown(test_missing_segment_is_corrupt, journal_setup,
						journal_teardown),
	};

	return cmocka_run_group_tests_name("journal_reader", tests, NULL, NULL);
}
