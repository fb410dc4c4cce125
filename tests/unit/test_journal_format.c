// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "journal_format.h"

/* A journal directory with one stream, i0-s0, written by the tests as the writer would. */
struct fx {
	char journal[64];
	char stream[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->journal, "/tmp/test_journal_format.XXXXXX");
	if (!mkdtemp(f->journal))
		return -1;
	pxd_journal_stream_path(f->stream, sizeof(f->stream), f->journal, 0, 0);
	if (mkdir(f->stream, 0700))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pxd_test_rm_tree(f->journal);
	free(f);
	return 0;
}

static void seg_path(const struct fx *f, uint32_t seq, char *buf, size_t cap)
{
	assert_int_equal(pxd_journal_segment_path(buf, cap, f->stream, seq), 0);
}

static uint64_t seg_size(const struct fx *f, uint32_t seq)
{
	char path[256];
	struct stat st;

	seg_path(f, seq, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* Appends raw bytes to segment <seq>, creating it. */
static void put_raw(const struct fx *f, uint32_t seq, const void *p, size_t n)
{
	char path[256];
	int fd;

	seg_path(f, seq, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* Appends record number <n> (a JSON line <pad> bytes longer than the bare one); returns its
 * position. */
static uint64_t put(const struct fx *f, uint32_t seq, int n, size_t pad)
{
	static char rec[PXD_JOURNAL_HDR_BYTES + 70000];
	char line[70000];
	uint64_t pos = pxd_journal_pos_make(seq, 0);
	char path[256];
	struct stat st;
	int len;

	seg_path(f, seq, path, sizeof(path));
	if (stat(path, &st) == 0)
		pos = pxd_journal_pos_make(seq, (uint32_t)st.st_size);
	len = snprintf(line, sizeof(line), "{\"n\":%d,\"pad\":\"%*s\"}\n", n, (int)pad, "");
	assert_int_equal(
	    pxd_journal_record_encode(rec, sizeof(rec), 1700000000000 + n, line, (size_t)len),
	    PXD_JOURNAL_HDR_BYTES + (size_t)len);
	put_raw(f, seq, rec, PXD_JOURNAL_HDR_BYTES + (size_t)len);
	return pos;
}

/* Checks that <rec> is record number <n> as put() wrote it. */
static void assert_rec(const struct pxd_journal_rec *rec, int n)
{
	char prefix[32];
	int len = snprintf(prefix, sizeof(prefix), "{\"n\":%d,", n);

	assert_int_equal(rec->received_ms, 1700000000000 + n);
	assert_true(rec->len > (uint32_t)len);
	assert_memory_equal(rec->payload, prefix, (size_t)len);
	assert_int_equal(rec->payload[rec->len - 1], '\n');
	assert_int_equal(rec->next - rec->pos, PXD_JOURNAL_HDR_BYTES + rec->len);
}

/* Copies segment <seq> to <save> (malloc'd), for tests that damage it again and again. */
static char *slurp(const struct fx *f, uint32_t seq, size_t *n)
{
	char path[256];
	char *p;
	int fd;

	*n = seg_size(f, seq);
	p = malloc(*n ? *n : 1);
	assert_non_null(p);
	seg_path(f, seq, path, sizeof(path));
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, p, *n), (ssize_t)*n);
	close(fd);
	return p;
}

static void overwrite(const struct fx *f, uint32_t seq, const void *p, size_t n)
{
	char path[256];
	int fd;

	seg_path(f, seq, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void test_encode_layout(void **state)
{
	static const char line[] = "{\"event\":\"PageView\"}\n";
	size_t n = sizeof(line) - 1;
	unsigned char buf[64];
	unsigned char sealed[64];
	struct pxd_journal_rec rec;
	uint32_t v;
	int64_t ms;

	(void)state;
	assert_int_equal(pxd_journal_record_encode(buf, sizeof(buf), 1700000000123, line, n),
			 16 + n);
	memcpy(&v, buf + 4, 4);
	assert_int_equal(v, n);
	memcpy(&ms, buf + 8, 8);
	assert_int_equal(ms, 1700000000123);
	memcpy(&v, buf, 4);
	assert_int_equal(v, pxd_crc32c(0, buf + 4, 12 + n));
	assert_memory_equal(buf + 16, line, n);

	memcpy(sealed + 16, line, n);
	assert_int_equal(pxd_journal_record_seal(sealed, n, 1700000000123), 16 + n);
	assert_memory_equal(sealed, buf, 16 + n);

	assert_int_equal(pxd_journal_record_check(buf, 16 + n, &rec), PXD_JOURNAL_BAD_NONE);
	assert_int_equal(rec.len, n);
	assert_ptr_equal(rec.payload, (char *)buf + 16);
	assert_int_equal(rec.received_ms, 1700000000123);

	assert_int_equal(pxd_journal_record_encode(buf, 16 + n - 1, 0, line, n), -ENOSPC);
	assert_int_equal(pxd_journal_record_encode(buf, sizeof(buf), 0, line, 0), -EMSGSIZE);
	assert_int_equal(pxd_journal_record_seal(buf, PXD_JOURNAL_PAYLOAD_MAX + 1, 0), -EMSGSIZE);
}

/*
 * Each prefix of a record, and the record with each byte changed, placed at
 * the end of a page followed by a PROT_NONE page: the check never reads past
 * what it was given and never accepts a damaged record.
 */
static void test_check_prefixes_and_flips(void **state)
{
	static const char line[] = "{\"event\":\"Purchase\",\"value\":99.99}\n";
	size_t n = 16 + sizeof(line) - 1;
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char rec[128];
	struct pxd_journal_rec out;
	unsigned char *page;

	(void)state;
	assert_int_equal(pxd_journal_record_encode(rec, sizeof(rec), 42, line, sizeof(line) - 1),
			 (ssize_t)n);
	page =
	    mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(page != MAP_FAILED);
	assert_int_equal(mprotect(page + pg, (size_t)pg, PROT_NONE), 0);
	for (size_t k = 0; k < n; k++) {
		unsigned char *at = page + pg - k;

		memcpy(at, rec, k);
		assert_int_equal(pxd_journal_record_check(at, k, &out), PXD_JOURNAL_BAD_SHORT);
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char *at = page + pg - n;
		enum pxd_journal_bad b;

		memcpy(at, rec, n);
		at[i] ^= 0x01;
		b = pxd_journal_record_check(at, n, &out);
		assert_true(b == PXD_JOURNAL_BAD_CRC || b == PXD_JOURNAL_BAD_LEN ||
			    b == PXD_JOURNAL_BAD_SHORT);
	}
	memset(page + pg - n, 0, n);
	assert_int_equal(pxd_journal_record_check(page + pg - n, n, &out), PXD_JOURNAL_BAD_LEN);
	munmap(page, (size_t)pg * 2);
}

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
	struct fx *f = *state;
	struct pxd_journal_stream_id *ids;
	struct pxd_journal_seg *segs;
	char path[256];
	size_t n;

	put(f, 10, 1, 0);
	put(f, 2, 2, 0);
	put(f, 0x1a, 3, 5);
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
	assert_int_equal(segs[2].bytes, seg_size(f, 0x1a));
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
static void test_round_trip_across_segments(void **state)
{
	struct fx *f = *state;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	uint64_t pos[60];
	uint64_t mid_next = 0;
	int n = 0;

	for (uint32_t seq = 1; seq <= 3; seq++)
		for (int k = 0; k < 20; k++, n++)
			pos[n] = put(f, seq, n, (size_t)(n * 37 % 300) + (n == 33 ? 65000 : 0));
	assert_int_equal(pxd_journal_reader_open(f->stream, 64, &r), 0);
	for (int k = 0; k < n; k++) {
		assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
				 PXD_JOURNAL_READ_OK);
		assert_rec(&rec, k);
		assert_int_equal(rec.pos, pos[k]);
		if (k + 1 < n && pxd_journal_pos_seq(pos[k + 1]) == pxd_journal_pos_seq(pos[k]))
			assert_int_equal(rec.next, pos[k + 1]);
		if (k == 29)
			mid_next = rec.next;
	}
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_END);
	assert_int_equal(pxd_journal_reader_pos(r),
			 pxd_journal_pos_make(3, (uint32_t)seg_size(f, 3)));
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_END);

	pxd_journal_reader_seek(r, mid_next);
	for (int k = 30; k < n; k++) {
		assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
				 PXD_JOURNAL_READ_OK);
		assert_rec(&rec, k);
	}
	/* A watermark at the very end of a segment goes on with the next one. */
	pxd_journal_reader_seek(r, pxd_journal_pos_make(1, (uint32_t)seg_size(f, 1)));
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_OK);
	assert_rec(&rec, 20);
	assert_int_equal(rec.pos, pxd_journal_pos_make(2, 0));
	pxd_journal_reader_close(r);
}

static void test_limit_is_respected(void **state)
{
	struct fx *f = *state;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	uint64_t p[6];

	for (int k = 0; k < 3; k++)
		p[k] = put(f, 1, k, 10);
	for (int k = 3; k < 6; k++)
		p[k] = put(f, 2, k, 10);
	assert_int_equal(pxd_journal_reader_open(f->stream, 0, &r), 0);
	assert_int_equal(pxd_journal_reader_next(r, 0, &rec), PXD_JOURNAL_READ_END);
	assert_int_equal(pxd_journal_reader_next(r, p[2], &rec), PXD_JOURNAL_READ_OK);
	assert_rec(&rec, 0);
	assert_int_equal(pxd_journal_reader_next(r, p[2], &rec), PXD_JOURNAL_READ_OK);
	assert_rec(&rec, 1);
	assert_int_equal(pxd_journal_reader_next(r, p[2], &rec), PXD_JOURNAL_READ_END);
	assert_int_equal(pxd_journal_reader_pos(r), p[2]);
	/* A limit inside a record (not published whole yet) stops before it. */
	assert_int_equal(pxd_journal_reader_next(r, p[2] + 5, &rec), PXD_JOURNAL_READ_END);
	/* The writer rolled: (2, 0) publishes all of segment 1 and nothing of 2. */
	assert_int_equal(pxd_journal_reader_next(r, p[3], &rec), PXD_JOURNAL_READ_OK);
	assert_rec(&rec, 2);
	assert_int_equal(pxd_journal_reader_next(r, p[3], &rec), PXD_JOURNAL_READ_END);
	assert_int_equal(pxd_journal_reader_next(r, p[5], &rec), PXD_JOURNAL_READ_OK);
	assert_rec(&rec, 3);
	assert_int_equal(rec.pos, p[3]);
	assert_int_equal(pxd_journal_reader_next(r, p[5], &rec), PXD_JOURNAL_READ_OK);
	assert_rec(&rec, 4);
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
	struct fx *f = *state;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	char buf[256];
	uint64_t end;
	ssize_t n;

	put(f, 1, 0, 3);
	end = pxd_journal_pos_make(1, (uint32_t)seg_size(f, 1));
	n = pxd_journal_record_encode(buf, sizeof(buf), 1700000000001, "{\"n\":1,\"x\":1}\n", 14);
	assert_true(n > 0);
	put_raw(f, 1, buf, 10); /* the writer's next write is in flight */
	assert_int_equal(pxd_journal_reader_open(f->stream, 0, &r), 0);
	assert_int_equal(pxd_journal_reader_next(r, end, &rec), PXD_JOURNAL_READ_OK);
	assert_rec(&rec, 0);
	assert_int_equal(pxd_journal_reader_next(r, end, &rec), PXD_JOURNAL_READ_END);
	put_raw(f, 1, buf + 10, (size_t)n - 10);
	end += (uint64_t)n;
	assert_int_equal(pxd_journal_reader_next(r, end, &rec), PXD_JOURNAL_READ_OK);
	assert_rec(&rec, 1);
	/* A new segment appears after the reader reached the end of the old one. */
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_END);
	put(f, 2, 2, 0);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_OK);
	assert_rec(&rec, 2);
	pxd_journal_reader_close(r);
}

/* Reads all of the stream; returns the records read and the final outcome. */
static int read_all(const struct fx *f, int *nrec, uint64_t *bad_pos)
{
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	int rc;

	*nrec = 0;
	assert_int_equal(pxd_journal_reader_open(f->stream, 0, &r), 0);
	while ((rc = pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec)) == PXD_JOURNAL_READ_OK)
		assert_rec(&rec, (*nrec)++);
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
	struct fx *f = *state;
	struct pxd_journal_tail tail;
	uint64_t last;
	uint64_t bad_pos;
	size_t len;
	char *img;
	char *damaged;
	int nrec;

	for (int k = 0; k < 5; k++)
		put(f, 1, k, 20);
	for (int k = 5; k < 9; k++)
		put(f, 2, k, 30);
	last = put(f, 2, 9, 40);
	img = slurp(f, 2, &len);
	damaged = malloc(len);
	assert_non_null(damaged);
	for (int zeros = 0; zeros < 2; zeros++) {
		for (size_t cut = pxd_journal_pos_off(last) + 1; cut < len; cut++) {
			size_t keep = zeros ? len : cut;

			memcpy(damaged, img, len);
			if (zeros)
				memset(damaged + cut, 0, len - cut);
			overwrite(f, 2, damaged, keep);
			assert_int_equal(read_all(f, &nrec, &bad_pos), PXD_JOURNAL_READ_TORN);
			assert_int_equal(nrec, 9);
			assert_int_equal(bad_pos, last);
			assert_int_equal(pxd_journal_scan_end(f->stream, &tail), 0);
			assert_int_equal(tail.end, last);
			assert_int_equal(tail.torn_bytes, keep - pxd_journal_pos_off(last));
			assert_false(tail.corrupt);
			assert_int_equal(tail.last_seq, 2);
			assert_int_equal(pxd_journal_cut_torn(f->stream, &tail), 0);
			assert_int_equal(seg_size(f, 2), pxd_journal_pos_off(last));
			assert_int_equal(read_all(f, &nrec, &bad_pos), PXD_JOURNAL_READ_END);
			assert_int_equal(nrec, 9);
			assert_int_equal(pxd_journal_scan_end(f->stream, &tail), 0);
			assert_int_equal(tail.torn_bytes, 0);
			assert_int_equal(tail.end, last);
		}
	}
	/* A whole record cut off is no torn tail: the file ends on a boundary. */
	overwrite(f, 2, img, pxd_journal_pos_off(last));
	assert_int_equal(read_all(f, &nrec, &bad_pos), PXD_JOURNAL_READ_END);
	free(damaged);
	free(img);
}

static void test_zero_filled_tail_is_torn(void **state)
{
	struct fx *f = *state;
	struct pxd_journal_tail tail;
	char zeros[8192] = { 0 };
	uint64_t bad_pos;
	uint64_t size;
	int nrec;

	for (int k = 0; k < 4; k++)
		put(f, 1, k, 7);
	size = seg_size(f, 1);
	put_raw(f, 1, zeros, sizeof(zeros));
	assert_int_equal(read_all(f, &nrec, &bad_pos), PXD_JOURNAL_READ_TORN);
	assert_int_equal(nrec, 4);
	assert_int_equal(bad_pos, pxd_journal_pos_make(1, (uint32_t)size));
	assert_int_equal(pxd_journal_cut_torn(f->stream, &tail), 0);
	assert_int_equal(tail.torn_bytes, sizeof(zeros));
	assert_int_equal(tail.bad, PXD_JOURNAL_BAD_LEN);
	assert_int_equal(seg_size(f, 1), size);
}

/* Damage at the end of the segment being written: what the writer appends after it is read. */
static void test_skip_keeps_reading_a_live_segment(void **state)
{
	struct fx *f = *state;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	char junk[40];
	uint64_t skipped = 0;
	uint64_t bad;

	put(f, 1, 0, 5);
	bad = pxd_journal_pos_make(1, (uint32_t)seg_size(f, 1));
	memset(junk, 0x5a, sizeof(junk));
	put_raw(f, 1, junk, sizeof(junk));
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
	put(f, 1, 1, 5);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_OK);
	assert_rec(&rec, 1);
	assert_int_equal(rec.pos, bad + sizeof(junk));
	pxd_journal_reader_close(r);
}

/* A damaged record with valid data after it: in an older segment, or in the last one. */
static void test_corruption_in_the_middle(void **state)
{
	struct fx *f = *state;
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
		p[k] = put(f, 1, k, 11);
	for (; k < 8; k++)
		p[k] = put(f, 2, k, 11);
	for (; k < 12; k++)
		p[k] = put(f, 3, k, 11);
	img = slurp(f, 1, &len);
	img[pxd_journal_pos_off(p[2]) + 20] ^= 0x20; /* a payload byte of record 2 */
	overwrite(f, 1, img, len);
	free(img);

	assert_int_equal(pxd_journal_reader_open(f->stream, 0, &r), 0);
	for (k = 0; k < 2; k++) {
		assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
				 PXD_JOURNAL_READ_OK);
		assert_rec(&rec, k);
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
		assert_rec(&rec, k);
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
	img = slurp(f, 1, &len);
	overwrite(f, 1, img, len - 1);
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
	assert_rec(&rec, 4);

	/* In the last segment, with a valid record after it: corrupt, and never cut. */
	img = slurp(f, 3, &len);
	img[pxd_journal_pos_off(p[9]) + 5] ^= 0x01; /* its length */
	overwrite(f, 3, img, len);
	pxd_journal_reader_seek(r, p[9]);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_CORRUPT);
	assert_int_equal(pxd_journal_scan_end(f->stream, &tail), 0);
	assert_true(tail.corrupt);
	assert_int_equal(tail.torn_bytes, 0);
	assert_int_equal(pxd_journal_cut_torn(f->stream, &tail), -EBADMSG);
	assert_int_equal(seg_size(f, 3), len);
	free(img);
	pxd_journal_reader_close(r);
}

static void test_missing_segment_is_corrupt(void **state)
{
	struct fx *f = *state;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	uint64_t skipped = 0;
	char path[256];

	put(f, 1, 0, 0);
	put(f, 2, 1, 0);
	put(f, 3, 2, 0);
	seg_path(f, 2, path, sizeof(path));
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
	assert_rec(&rec, 2);
	/* Seeking into the hole is the same. */
	pxd_journal_reader_seek(r, pxd_journal_pos_make(2, 0));
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_CORRUPT);
	pxd_journal_reader_close(r);
}

static void test_delete_below(void **state)
{
	struct fx *f = *state;
	struct pxd_journal_seg *segs;
	struct pxd_journal_reader *r;
	struct pxd_journal_rec rec;
	uint64_t bytes = 0;
	uint64_t p3;
	unsigned nsegs = 0;
	size_t n;

	put(f, 1, 0, 0);
	put(f, 2, 1, 0);
	p3 = put(f, 3, 2, 0);
	put(f, 4, 3, 0);
	/* The end of segment 1 does not free it: the writer may still be finishing it. */
	assert_int_equal(pxd_journal_delete_below(f->stream,
						  pxd_journal_pos_make(1, (uint32_t)seg_size(f, 1)),
						  &nsegs, &bytes),
			 0);
	assert_int_equal(nsegs, 0);
	assert_int_equal(pxd_journal_delete_below(f->stream, p3 + 5, &nsegs, &bytes), 0);
	assert_int_equal(nsegs, 2);
	assert_int_equal(bytes, 2 * seg_size(f, 3));
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
	assert_rec(&rec, 3);
	assert_int_equal(rec.pos, pxd_journal_pos_make(4, 0));
	pxd_journal_reader_close(r);
}

static void test_empty_stream(void **state)
{
	struct fx *f = *state;
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
	put_raw(f, 1, "", 0);
	assert_int_equal(pxd_journal_scan_end(f->stream, &tail), 0);
	assert_int_equal(tail.end, pxd_journal_pos_make(1, 0));
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_END);
	put(f, 1, 0, 1);
	assert_int_equal(pxd_journal_reader_next(r, PXD_JOURNAL_POS_MAX, &rec),
			 PXD_JOURNAL_READ_OK);
	assert_rec(&rec, 0);
	pxd_journal_reader_close(r);
	assert_int_equal(pxd_journal_reader_open("/nonexistent/i0-s0", 0, &r), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_layout),
		cmocka_unit_test(test_check_prefixes_and_flips),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_lists_are_sorted_and_filtered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_across_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_is_respected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_stream_is_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail_at_every_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_filled_tail_is_torn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_keeps_reading_a_live_segment, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_corruption_in_the_middle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_segment_is_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_below, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_stream, setup, teardown),
	};

	return cmocka_run_group_tests_name("journal_format", tests, NULL, NULL);
}
