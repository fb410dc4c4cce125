/* SPDX-License-Identifier: MIT */
/*
 * journal_test.h - the fixture the journal format tests share (header-only,
 * tests only): a journal directory with one empty stream, i0-s0, and helpers
 * that write, read back and damage its segments as the writer and a crash
 * would. Include after <cmocka.h>.
 */
#ifndef PXD_JOURNAL_TEST_H
#define PXD_JOURNAL_TEST_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_format.h"
#include "test_util.h"

/* A journal directory with one stream, i0-s0, written by the tests as the writer would. */
struct journal_fx {
	char journal[64];
	char stream[128];
};

static inline int journal_setup(void **state)
{
	struct journal_fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->journal, "/tmp/test_journal.XXXXXX");
	if (!mkdtemp(f->journal))
		return -1;
	pxd_journal_stream_path(f->stream, sizeof(f->stream), f->journal, 0, 0);
	if (mkdir(f->stream, 0700))
		return -1;
	*state = f;
	return 0;
}

static inline int journal_teardown(void **state)
{
	struct journal_fx *f = *state;

	pxd_test_rm_tree(f->journal);
	free(f);
	return 0;
}

static inline void journal_seg_path(const struct journal_fx *f, uint32_t seq, char *buf, size_t cap)
{
	assert_int_equal(pxd_journal_segment_path(buf, cap, f->stream, seq), 0);
}

static inline uint64_t journal_seg_size(const struct journal_fx *f, uint32_t seq)
{
	char path[256];
	struct stat st;

	journal_seg_path(f, seq, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* Appends raw bytes to segment <seq>, creating it. */
static inline void journal_put_raw(const struct journal_fx *f, uint32_t seq, const void *p,
				   size_t n)
{
	char path[256];

	journal_seg_path(f, seq, path, sizeof(path));
	assert_int_equal(pxd_test_write_file(path, p, n, O_APPEND), 0);
}

/* Appends record number <n> (a JSON line <pad> bytes longer than the bare one); returns its
 * position. */
static inline uint64_t journal_put(const struct journal_fx *f, uint32_t seq, int n, size_t pad)
{
	static char rec[PXD_JOURNAL_HDR_BYTES + 70000];
	char line[70000];
	uint64_t pos = pxd_journal_pos_make(seq, 0);
	char path[256];
	struct stat st;
	int len;

	journal_seg_path(f, seq, path, sizeof(path));
	if (stat(path, &st) == 0)
		pos = pxd_journal_pos_make(seq, (uint32_t)st.st_size);
	len = snprintf(line, sizeof(line), "{\"n\":%d,\"pad\":\"%*s\"}\n", n, (int)pad, "");
	assert_int_equal(
	    pxd_journal_record_encode(rec, sizeof(rec), 1700000000000 + n, line, (size_t)len),
	    PXD_JOURNAL_HDR_BYTES + (size_t)len);
	journal_put_raw(f, seq, rec, PXD_JOURNAL_HDR_BYTES + (size_t)len);
	return pos;
}

/* Checks that <rec> is record number <n> as journal_put() wrote it. */
static inline void journal_assert_rec(const struct pxd_journal_rec *rec, int n)
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
static inline char *journal_slurp(const struct journal_fx *f, uint32_t seq, size_t *n)
{
	char path[256];
	char *p;
	int fd;

	*n = journal_seg_size(f, seq);
	p = malloc(*n ? *n : 1);
	assert_non_null(p);
	journal_seg_path(f, seq, path, sizeof(path));
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, p, *n), (ssize_t)*n);
	close(fd);
	return p;
}

static inline void journal_overwrite(const struct journal_fx *f, uint32_t seq, const void *p,
				     size_t n)
{
	char path[256];

	journal_seg_path(f, seq, path, sizeof(path));
	assert_int_equal(pxd_test_write_file(path, p, n, O_TRUNC), 0);
}

#endif
