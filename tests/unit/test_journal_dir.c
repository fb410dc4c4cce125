// SPDX-License-Identifier: MIT
/* Journal names and directory listings: building, parsing, sorting and filtering. */
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

static void test_names(void **state)
{
	char buf[64];
	unsigned i;
	unsigned s;

	(void)state;
	assert_int_equal(pxd_journal_stream_path(buf, sizeof(buf), "/var/j", 3, 12), 0);
	assert_string_equal(buf, "/var/j/i3-s12");
	assert_int_equal(pxd_journal_segment_path(buf, sizeof(buf), "/var/j/i3-s12", 0x2a), 0);
	assert_string_equal(buf, "/var/j/i3-s12/000000000000002a.seg");
	assert_int_equal(pxd_journal_segment_name(buf, sizeof(buf), UINT32_MAX), 0);
	assert_string_equal(buf, "00000000ffffffff.seg");
	assert_int_equal(strlen(buf), PXD_JOURNAL_SEG_NAME_LEN);
	assert_int_equal(pxd_journal_segment_path(buf, 20, "/var/j/i3-s12", 1), -ENAMETOOLONG);
	assert_int_equal(pxd_journal_stream_path(buf, 8, "/var/j", 3, 12), -ENAMETOOLONG);

	assert_int_equal(pxd_journal_stream_parse("i0-s0", &i, &s), 0);
	assert_int_equal(i, 0);
	assert_int_equal(s, 0);
	assert_int_equal(pxd_journal_stream_parse("i12-s345", &i, &s), 0);
	assert_int_equal(i, 12);
	assert_int_equal(s, 345);
	static const char *const bad[] = { "",	     "i",      "i1",	 "i1-s",   "i-s1",
					   "i01-s1", "i1-s01", "i1-s1x", "x1-s1",  "i1_s1",
					   "i+1-s1", "i1-s-1", " i1-s1", "i1-s1 ", "i1000000-s0" };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		assert_int_equal(pxd_journal_stream_parse(bad[k], &i, &s), -EINVAL);
	assert_string_equal(pxd_journal_bad_name(PXD_JOURNAL_BAD_CRC), "bad_crc");
	assert_string_equal(pxd_journal_bad_name(PXD_JOURNAL_BAD_GAP), "missing_segment");
}

static void test_lists_are_sorted_and_filtered(void **state)
{
	struct journal_fx *f = *state;
	struct pxd_journal_stream_id *ids;
	struct pxd_journal_seg *segs;
	char path[256];
	size_t n;

	journal_put(f, 10, 1, 0);
	journal_put(f, 2, 2, 0);
	journal_put(f, 0x1a, 3, 5);
	snprintf(path, sizeof(path), "%s/000000000000000B.seg", f->stream); /* upper case */
	close(open(path, O_WRONLY | O_CREAT, 0600));
	snprintf(path, sizeof(path), "%s/0000000000000000.seg", f->stream); /* seq 0 */
	close(open(path, O_WRONLY | O_CREAT, 0600));
	snprintf(path, sizeof(path), "%s/0000000000000003.seg.tmp", f->stream);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	snprintf(path, sizeof(path), "%s/0000000100000000.seg", f->stream); /* > UINT32_MAX */
	close(open(path, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(pxd_journal_segments_list(f->stream, &segs, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(segs[0].seq, 2);
	assert_int_equal(segs[1].seq, 10);
	assert_int_equal(segs[2].seq, 0x1a);
	assert_int_equal(segs[2].bytes, journal_seg_size(f, 0x1a));
	free(segs);

	snprintf(path, sizeof(path), "%s/i10-s0", f->journal);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/i2-s1", f->journal);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/i2-s0", f->journal); /* a file, not a stream */
	close(open(path, O_WRONLY | O_CREAT, 0600));
	snprintf(path, sizeof(path), "%s/watermarks", f->journal);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(pxd_journal_streams_list(f->journal, &ids, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ids[0].ingest, 0);
	assert_int_equal(ids[1].ingest, 2);
	assert_int_equal(ids[1].shard, 1);
	assert_int_equal(ids[2].ingest, 10);
	free(ids);
	assert_int_equal(pxd_journal_streams_list("/nonexistent/journal", &ids, &n), -ENOENT);
}

/*
 * Three segments of records of varied sizes, some larger than the reader's
 * starting buffer, read back in order from 0 and again from a saved position.
 */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_lists_are_sorted_and_filtered, journal_setup,
						journal_teardown),
	};

	return cmocka_run_group_tests_name("journal_dir", tests, NULL, NULL);
}
