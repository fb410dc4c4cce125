// SPDX-License-Identifier: MIT
/* Journal recovery and retention: torn tails cut, corruption kept and reported, segments deleted.
 */
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

static int read_all(const struct journal_fx *f, int *nrec, uint64_t *bad_pos)
{
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	int rc;

	*nrec = 0;
	assert_int_equal(pxd_journal_reader_open(f->stream, 0, &r), 0);
	while ((rc = pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec)) == PXD_JOURNAL_READ_OK)
		journal_assert_rec(&rec, (*nrec)++);
	*bad_pos = pxd_journal_reader_pos(r);
	pxd_journal_reader_close(r);
	return rc;
}

/*
 * The last record torn at every byte: the file ending at each offset inside
 * it (a short write), and the file keeping its size with zeros from each
 * offset on (what a power loss leaves). Each is TORN at the record's start,
 * and cutting it leaves exactly the records before it.
 */
static void test_torn_tail_at_every_offset(void **state)
{
	struct journal_fx *f = *state;
	struct pxd_journal_tail tail;
	uint64_t last;
	uint64_t bad_pos;
	size_t len;
	char *img;
	char *damaged;
	int nrec;

	for (int k = 0; k < 5; k++)
		journal_put(f, 1, k, 20);
	for (int k = 5; k < 9; k++)
		journal_put(f, 2, k, 30);
	last = journal_put(f, 2, 9, 40);
	img = journal_slurp(f, 2, &len);
	damaged = malloc(len);
	assert_non_null(damaged);
	for (int zeros = 0; zeros < 2; zeros++) {
		for (size_t cut = pxd_journal_pos_off(last) + 1; cut < len; cut++) {
			size_t keep = zeros ? len : cut;

			memcpy(damaged, img, len);
			if (zeros)
				memset(damaged + cut, 0, len - cut);
			journal_overwrite(f, 2, damaged, keep);
			assert_int_equal(read_all(f, &nrec, &bad_pos), PXD_JOURNAL_READ_TORN);
			assert_int_equal(nrec, 9);
			assert_int_equal(bad_pos, last);
			assert_int_equal(pxd_journal_scan_end(f->stream, &tail), 0);
			assert_int_equal(tail.end, last);
			assert_int_equal(tail.torn_bytes, keep - pxd_journal_pos_off(last));
			assert_false(tail.corrupt);
			assert_int_equal(tail.last_seq, 2);
			assert_int_equal(pxd_journal_cut_torn(f->stream, &tail), 0);
			assert_int_equal(journal_seg_size(f, 2), pxd_journal_pos_off(last));
			assert_int_equal(read_all(f, &nrec, &bad_pos), PXD_JOURNAL_READ_END);
			assert_int_equal(nrec, 9);
			assert_int_equal(pxd_journal_scan_end(f->stream, &tail), 0);
			assert_int_equal(tail.torn_bytes, 0);
			assert_int_equal(tail.end, last);
		}
	}
	/* A whole record cut off is no torn tail: the file ends on a boundary. */
	journal_overwrite(f, 2, img, pxd_journal_pos_off(last));
	assert_int_equal(read_all(f, &nrec, &bad_pos), PXD_JOURNAL_READ_END);
	free(damaged);
	free(img);
}

/*
 * Zeros after the last record: what an ack=durable writer pre-wrote and did
 * not cut (a crash), or a file system that grew the file before the data
 * reached it. They are cut as quietly as the end of the file; zeros with
 * anything else after them are a torn tail.
 */
static void test_zero_filled_tail_is_cut(void **state)
{
	struct journal_fx *f = *state;
	struct pxd_journal_tail tail;
	struct pxd_journal_seg_check chk;
	char zeros[8192] = { 0 };
	uint64_t bad_pos;
	uint64_t size;
	int nrec;

	for (int k = 0; k < 4; k++)
		journal_put(f, 1, k, 7);
	size = journal_seg_size(f, 1);
	journal_put_raw(f, 1, zeros, sizeof(zeros));
	assert_int_equal(read_all(f, &nrec, &bad_pos), PXD_JOURNAL_READ_TORN);
	assert_int_equal(nrec, 4);
	assert_int_equal(bad_pos, pxd_journal_pos_make(1, (uint32_t)size));
	assert_int_equal(pxd_journal_segment_check(f->stream, 1, &chk), 0);
	assert_int_equal(chk.nbad, 0);
	assert_int_equal(chk.zeros, sizeof(zeros));
	assert_int_equal(chk.end, size);
	assert_int_equal(pxd_journal_cut_torn(f->stream, &tail), 0);
	assert_int_equal(tail.torn_bytes, sizeof(zeros));
	assert_true(tail.zeros);
	assert_false(tail.corrupt);
	assert_int_equal(journal_seg_size(f, 1), size);

	zeros[sizeof(zeros) - 1] = 'x';
	journal_put_raw(f, 1, zeros, sizeof(zeros));
	assert_int_equal(pxd_journal_cut_torn(f->stream, &tail), 0);
	assert_int_equal(tail.torn_bytes, sizeof(zeros));
	assert_false(tail.zeros);
	assert_int_equal(tail.bad, PXD_JOURNAL_BAD_LEN);
	assert_int_equal(journal_seg_size(f, 1), size);
}

/* Damage at the end of the segment being written: what the writer appends after it is read. */
static void test_corruption_in_the_middle(void **state)
{
	struct journal_fx *f = *state;
	struct pxd_journal_seg_check chk;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	struct pxd_journal_tail tail;
	uint64_t skipped = 0;
	uint64_t p[12];
	size_t len;
	char *img;
	int k;

	for (k = 0; k < 4; k++)
		p[k] = journal_put(f, 1, k, 11);
	for (; k < 8; k++)
		p[k] = journal_put(f, 2, k, 11);
	for (; k < 12; k++)
		p[k] = journal_put(f, 3, k, 11);
	img = journal_slurp(f, 1, &len);
	img[pxd_journal_pos_off(p[2]) + 20] ^= 0x20; /* a payload byte of record 2 */
	journal_overwrite(f, 1, img, len);
	free(img);

	assert_int_equal(pxd_journal_reader_open(f->stream, 0, &r), 0);
	for (k = 0; k < 2; k++) {
		assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
				 PXD_JOURNAL_READ_OK);
		journal_assert_rec(&rec, k);
	}
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_CORRUPT);
	assert_int_equal(pxd_journal_reader_pos(r), p[2]);
	assert_int_equal(pxd_journal_reader_bad(r), PXD_JOURNAL_BAD_CRC);
	assert_int_equal(pxd_journal_reader_skip(r, &skipped), 0);
	assert_int_equal(skipped, p[3] - p[2]);
	for (k = 3; k < 12; k++) {
		assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
				 PXD_JOURNAL_READ_OK);
		journal_assert_rec(&rec, k);
	}
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_END);

	assert_int_equal(pxd_journal_segment_check(f->stream, 1, &chk), 0);
	assert_int_equal(chk.records, 3);
	assert_int_equal(chk.nbad, 1);
	assert_int_equal(chk.bad[0].off, pxd_journal_pos_off(p[2]));
	assert_int_equal(chk.bad[0].bytes, p[3] - p[2]);
	assert_int_equal(chk.bad[0].why, PXD_JOURNAL_BAD_CRC);
	assert_int_equal(chk.end, chk.bytes);
	assert_int_equal(chk.first_ms, 1700000000000);
	assert_int_equal(chk.last_ms, 1700000000003);

	/* The last record of segment 1 damaged: a later segment exists, so not torn. */
	img = journal_slurp(f, 1, &len);
	journal_overwrite(f, 1, img, len - 1);
	free(img);
	pxd_journal_reader_seek(r, p[3]);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_CORRUPT);
	assert_int_equal(pxd_journal_reader_bad(r), PXD_JOURNAL_BAD_SHORT);
	skipped = 0;
	assert_int_equal(pxd_journal_reader_skip(r, &skipped), 0);
	assert_int_equal(skipped, len - 1 - pxd_journal_pos_off(p[3]));
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 4);

	/* In the last segment, with a valid record after it: corrupt, and never cut. */
	img = journal_slurp(f, 3, &len);
	img[pxd_journal_pos_off(p[9]) + 5] ^= 0x01; /* its length */
	journal_overwrite(f, 3, img, len);
	pxd_journal_reader_seek(r, p[9]);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_CORRUPT);
	assert_int_equal(pxd_journal_scan_end(f->stream, &tail), 0);
	assert_true(tail.corrupt);
	assert_int_equal(tail.torn_bytes, 0);
	assert_int_equal(pxd_journal_cut_torn(f->stream, &tail), -EBADMSG);
	assert_int_equal(journal_seg_size(f, 3), len);
	free(img);
	pxd_journal_reader_close(r);
}

static void test_delete_below(void **state)
{
	struct journal_fx *f = *state;
	struct pxd_journal_seg *segs;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	uint64_t bytes = 0;
	uint64_t p3;
	unsigned nsegs = 0;
	size_t n;

	journal_put(f, 1, 0, 0);
	journal_put(f, 2, 1, 0);
	p3 = journal_put(f, 3, 2, 0);
	journal_put(f, 4, 3, 0);
	/* The end of segment 1 does not free it: the writer may still be finishing it. */
	assert_int_equal(pxd_journal_delete_below(
			     f->stream, pxd_journal_pos_make(1, (uint32_t)journal_seg_size(f, 1)),
			     &nsegs, &bytes),
			 0);
	assert_int_equal(nsegs, 0);
	assert_int_equal(pxd_journal_delete_below(f->stream, p3 + 5, &nsegs, &bytes), 0);
	assert_int_equal(nsegs, 2);
	assert_int_equal(bytes, 2 * journal_seg_size(f, 3));
	assert_int_equal(pxd_journal_segments_list(f->stream, &segs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(segs[0].seq, 3);
	free(segs);
	/* Never the last segment, whatever the position. */
	assert_int_equal(pxd_journal_delete_below(f->stream, PXD_JOURNAL_POS_MAX, NULL, NULL), 0);
	assert_int_equal(pxd_journal_segments_list(f->stream, &segs, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(segs[0].seq, 4);
	free(segs);
	/* A reader at a deleted position goes on with the oldest segment left. */
	assert_int_equal(pxd_journal_reader_open(f->stream, 0, &r), 0);
	pxd_journal_reader_seek(r, p3);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 3);
	assert_int_equal(rec.pos, pxd_journal_pos_make(4, 0));
	pxd_journal_reader_close(r);
}

static void test_empty_stream(void **state)
{
	struct journal_fx *f = *state;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	struct pxd_journal_tail tail;

	assert_int_equal(pxd_journal_scan_end(f->stream, &tail), 0);
	assert_int_equal(tail.end, 0);
	assert_int_equal(tail.nsegments, 0);
	assert_int_equal(pxd_journal_cut_torn(f->stream, &tail), 0);
	assert_int_equal(pxd_journal_reader_open(f->stream, 0, &r), 0);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_END);
	/* The writer creates segment 1 with an empty file first. */
	journal_put_raw(f, 1, "", 0);
	assert_int_equal(pxd_journal_scan_end(f->stream, &tail), 0);
	assert_int_equal(tail.end, pxd_journal_pos_make(1, 0));
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_END);
	journal_put(f, 1, 0, 1);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_OK);
	journal_assert_rec(&rec, 0);
	pxd_journal_reader_close(r);
	assert_int_equal(pxd_journal_reader_open("/nonexistent/i0-s0", 0, &r), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_torn_tail_at_every_offset, journal_setup,
						journal_teardown),
		cmocka_unit_test_setup_teardown(test_zero_filled_tail_is_cut, journal_setup,
						journal_teardown),
		cmocka_unit_test_setup_teardown(test_corruption_in_the_middle, journal_setup,
						journal_teardown),
		cmocka_unit_test_setup_teardown(test_delete_below, journal_setup, journal_teardown),
		cmocka_unit_test_setup_teardown(test_empty_stream, journal_setup, journal_teardown),
	};

	return cmocka_run_group_tests_name("journal_recovery", tests, NULL, NULL);
}
