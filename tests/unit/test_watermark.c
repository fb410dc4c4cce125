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
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/journal/crc32c.h"
#include "journal_format.h"
#include "watermark.h"

struct fx {
	char dir[64];
	char file[96];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/test_watermark.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->file, sizeof(f->file), "%s/watermarks", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pxd_test_rm_tree(f->dir);
	free(f);
	return 0;
}

static void write_file(const char *path, const void *p, size_t n)
{
	assert_int_equal(pxd_test_write_file(path, p, n, O_TRUNC), 0);
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, cap - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return (size_t)n;
}

/* Writes <body> after the header with a correct checksum line. */
static void write_signed(const char *path, const char *body)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "pixeld-watermarks 1\n%s", body);

	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "crc32c %08x\n",
		      pxd_crc32c(0, buf, (size_t)n));
	write_file(path, buf, (size_t)n);
}

/* Runs load with stderr silenced (the refusals are logged, and these tests make hundreds). */
static int load_quiet(const char *dir, struct pxd_watermarks **w)
{
	int saved = dup(STDERR_FILENO);
	int null = open("/dev/null", O_WRONLY);
	int rc;

	dup2(null, STDERR_FILENO);
	rc = pxd_watermarks_load(dir, w);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
	return rc;
}

static void test_missing_file_starts_everyone_at_zero(void **state)
{
	struct fx *f = *state;
	struct pxd_watermarks *w;
	enum pxd_watermark_origin o;
	uint64_t pos = 1;

	assert_int_equal(pxd_watermarks_load(f->dir, &w), 0);
	assert_false(pxd_watermarks_get(w, "jsonl", 0, 0, &pos));
	assert_false(pxd_watermarks_has_dest(w, "jsonl"));
	assert_int_equal(
	    pxd_watermarks_resolve(w, "jsonl", 0, 0, pxd_journal_pos_make(7, 99), &pos, &o), 0);
	assert_int_equal(pos, 0);
	assert_int_equal(o, PXD_WATERMARK_NO_FILE);
	assert_true(pxd_watermarks_get(w, "jsonl", 0, 0, &pos));
	assert_int_equal(pos, 0);
	pxd_watermarks_free(w);
}

static void test_save_load_round_trip(void **state)
{
	struct fx *f = *state;
	struct pxd_watermarks *w = pxd_watermarks_new();
	enum pxd_watermark_origin o;
	char text[1024];
	uint64_t pos;
	static const char expect[] = "pixeld-watermarks 1\n"
				     "dest jsonl\n"
				     "dest meta\n"
				     "mark jsonl i0-s0 3:1234\n"
				     "mark jsonl i0-s1 0:0\n"
				     "mark jsonl i1-s0 4294967295:4294967295\n"
				     "mark meta i0-s0 1:16\n";

	assert_non_null(w);
	assert_int_equal(pxd_watermarks_set(w, "meta", 0, 0, pxd_journal_pos_make(1, 16)), 0);
	assert_int_equal(pxd_watermarks_set(w, "jsonl", 1, 0, UINT64_MAX), 0);
	assert_int_equal(pxd_watermarks_set(w, "jsonl", 0, 1, 0), 0);
	assert_int_equal(pxd_watermarks_set(w, "jsonl", 0, 0, pxd_journal_pos_make(2, 5)), 0);
	assert_int_equal(pxd_watermarks_set(w, "jsonl", 0, 0, pxd_journal_pos_make(3, 1234)), 0);
	assert_int_equal(pxd_watermarks_save(w, f->dir), 0);
	pxd_watermarks_free(w);

	read_file(f->file, text, sizeof(text));
	assert_memory_equal(text, expect, sizeof(expect) - 1);
	assert_int_equal(strlen(text), sizeof(expect) - 1 + strlen("crc32c 01234567\n"));

	assert_int_equal(pxd_watermarks_load(f->dir, &w), 0);
	assert_true(pxd_watermarks_get(w, "jsonl", 0, 0, &pos));
	assert_int_equal(pos, pxd_journal_pos_make(3, 1234));
	assert_true(pxd_watermarks_get(w, "jsonl", 1, 0, &pos));
	assert_int_equal(pos, UINT64_MAX);
	assert_true(pxd_watermarks_get(w, "meta", 0, 0, &pos));
	assert_int_equal(pos, pxd_journal_pos_make(1, 16));
	assert_false(pxd_watermarks_get(w, "meta", 0, 1, &pos));

	/* With a file: saved, a stream newer than the save, a destination newer than the save. */
	assert_int_equal(pxd_watermarks_resolve(w, "jsonl", 0, 0, 77, &pos, &o), 0);
	assert_int_equal(o, PXD_WATERMARK_SAVED);
	assert_int_equal(pos, pxd_journal_pos_make(3, 1234));
	assert_int_equal(pxd_watermarks_resolve(w, "meta", 0, 1, 77, &pos, &o), 0);
	assert_int_equal(o, PXD_WATERMARK_NEW_STREAM);
	assert_int_equal(pos, 0);
	assert_int_equal(pxd_watermarks_resolve(w, "ga4", 0, 0, 77, &pos, &o), 0);
	assert_int_equal(o, PXD_WATERMARK_NEW_DEST);
	assert_int_equal(pos, 77);
	assert_int_equal(pxd_watermarks_resolve(w, "ga4", 0, 0, 99, &pos, NULL), 0);
	assert_int_equal(pos, 77);
	/* Still new in the next stream, although the first resolve added it to the set. */
	assert_int_equal(pxd_watermarks_resolve(w, "ga4", 1, 0, 55, &pos, &o), 0);
	assert_int_equal(o, PXD_WATERMARK_NEW_DEST);
	assert_int_equal(pos, 55);
	pxd_watermarks_free(w);
}

/* A destination with no stream yet is kept, so it is not "new" at the next start. */
static void test_destination_without_streams_is_kept(void **state)
{
	struct fx *f = *state;
	struct pxd_watermarks *w;
	enum pxd_watermark_origin o;
	uint64_t pos;

	write_signed(f->file, "dest jsonl\ndest meta\n");
	assert_int_equal(pxd_watermarks_load(f->dir, &w), 0);
	assert_true(pxd_watermarks_has_dest(w, "meta"));
	assert_int_equal(pxd_watermarks_resolve(w, "meta", 2, 0, 1000, &pos, &o), 0);
	assert_int_equal(o, PXD_WATERMARK_NEW_STREAM);
	assert_int_equal(pos, 0);
	pxd_watermarks_free(w);
}

/*
 * The file is replaced by rename: a leftover temporary file from a crash
 * changes nothing, and a save that cannot write leaves the old file whole.
 */
static void test_atomic_replace(void **state)
{
	struct fx *f = *state;
	struct pxd_watermarks *w = pxd_watermarks_new();
	char tmp[128];
	char before[1024];
	char after[1024];
	struct stat st1;
	struct stat st2;
	uint64_t pos;

	snprintf(tmp, sizeof(tmp), "%s/watermarks.tmp", f->dir);
	assert_int_equal(pxd_watermarks_set(w, "jsonl", 0, 0, 10), 0);
	assert_int_equal(pxd_watermarks_save(w, f->dir), 0);
	assert_int_equal(stat(f->file, &st1), 0);
	assert_int_equal(access(tmp, F_OK), -1);

	write_file(tmp, "pixeld-watermarks 1\ndest jsonl\nmark js", 38); /* a crash mid-write */
	assert_int_equal(pxd_watermarks_set(w, "jsonl", 0, 0, 20), 0);
	assert_int_equal(pxd_watermarks_save(w, f->dir), 0);
	assert_int_equal(stat(f->file, &st2), 0);
	assert_true(st1.st_ino != st2.st_ino); /* a new file renamed over, not rewritten */
	assert_int_equal(access(tmp, F_OK), -1);
	pxd_watermarks_free(w);
	assert_int_equal(pxd_watermarks_load(f->dir, &w), 0);
	assert_true(pxd_watermarks_get(w, "jsonl", 0, 0, &pos));
	assert_int_equal(pos, 20);

	/* The temporary name taken by a directory: the save fails, the file stays. */
	read_file(f->file, before, sizeof(before));
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(pxd_watermarks_set(w, "jsonl", 0, 0, 30), 0);
	assert_int_equal(pxd_watermarks_save(w, f->dir), -EISDIR);
	read_file(f->file, after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(pxd_watermarks_save(w, "/nonexistent/journal"), -ENOENT);
	pxd_watermarks_free(w);
}

static void test_damaged_file_is_refused(void **state)
{
	struct fx *f = *state;
	struct pxd_watermarks *w = pxd_watermarks_new();
	char good[1024];
	char bad[1024];
	size_t n;

	assert_int_equal(pxd_watermarks_set(w, "jsonl", 0, 0, pxd_journal_pos_make(3, 1234)), 0);
	assert_int_equal(pxd_watermarks_set(w, "meta", 1, 2, pxd_journal_pos_make(1, 0)), 0);
	assert_int_equal(pxd_watermarks_save(w, f->dir), 0);
	pxd_watermarks_free(w);
	n = read_file(f->file, good, sizeof(good));

	/* Every prefix: what a crash of a non-atomic writer, or a full disk, could leave. */
	for (size_t k = 0; k < n; k++) {
		write_file(f->file, good, k);
		w = (void *)1;
		assert_int_equal(load_quiet(f->dir, &w), -EBADMSG);
		assert_ptr_equal(w, (void *)1);
	}
	/* Every byte changed. */
	for (size_t k = 0; k < n; k++) {
		memcpy(bad, good, n);
		bad[k] ^= 0x04;
		write_file(f->file, bad, n);
		assert_int_equal(load_quiet(f->dir, &w), -EBADMSG);
	}
	/* A future version, and lines that pass the checksum but make no sense. */
	write_file(f->file, "pixeld-watermarks 2\ncrc32c 00000000\n", 36);
	assert_int_equal(load_quiet(f->dir, &w), -EBADMSG);
	static const char *const nonsense[] = {
		"mark jsonl i0-s0 1:0\n",   /* no dest line */
		"dest jsonl\ndest jsonl\n", /* twice */
		"dest jsonl\nmark jsonl i0-s0 1:0\nmark jsonl i0-s0 2:0\n",
		"dest jsonl\nmark jsonl i0-x0 1:0\n", /* stream name */
		"dest jsonl\nmark jsonl i0-s0 1\n",   /* position */
		"dest jsonl\nmark jsonl i0-s0 4294967296:0\n",
		"dest jsonl\nmark jsonl i0-s0 1:-1\n",
		"dest jsonl\nmark jsonl i0-s0 1:0 extra\n",
		"dest jsonl\nwatermark jsonl i0-s0 1:0\n",
		"dest\n",
		"\n",
	};
	for (size_t k = 0; k < sizeof(nonsense) / sizeof(nonsense[0]); k++) {
		write_signed(f->file, nonsense[k]);
		assert_int_equal(load_quiet(f->dir, &w), -EBADMSG);
	}
	write_signed(f->file, "dest jsonl\nmark jsonl i0-s0 1:0\n");
	assert_int_equal(pxd_watermarks_load(f->dir, &w), 0);
	pxd_watermarks_free(w);
}

static void test_bad_names_are_refused(void **state)
{
	struct pxd_watermarks *w = pxd_watermarks_new();
	char longname[80];
	uint64_t pos;

	(void)state;
	memset(longname, 'a', sizeof(longname));
	longname[PXD_WATERMARK_NAME_MAX - 1] = '\0';
	assert_int_equal(pxd_watermarks_set(w, longname, 0, 0, 1), 0);
	longname[PXD_WATERMARK_NAME_MAX - 1] = 'a';
	longname[PXD_WATERMARK_NAME_MAX] = '\0';
	assert_int_equal(pxd_watermarks_set(w, longname, 0, 0, 1), -EINVAL);
	assert_int_equal(pxd_watermarks_set(w, "", 0, 0, 1), -EINVAL);
	assert_int_equal(pxd_watermarks_set(w, "a b", 0, 0, 1), -EINVAL);
	assert_int_equal(pxd_watermarks_set(w, "a\nmark", 0, 0, 1), -EINVAL);
	assert_int_equal(pxd_watermarks_resolve(w, "a\tb", 0, 0, 1, &pos, NULL), -EINVAL);
	pxd_watermarks_free(w);
}

static void test_min_and_prune(void **state)
{
	struct pxd_watermarks *w = pxd_watermarks_new();
	const char *const all[] = { "a", "b", "c" };
	const char *const ab[] = { "a", "b" };
	uint64_t pos;

	(void)state;
	assert_int_equal(pxd_watermarks_set(w, "a", 0, 0, 500), 0);
	assert_int_equal(pxd_watermarks_set(w, "b", 0, 0, 300), 0);
	assert_int_equal(pxd_watermarks_set(w, "c", 0, 0, 100), 0);
	assert_int_equal(pxd_watermarks_set(w, "a", 0, 1, 900), 0);
	assert_int_equal(pxd_watermarks_min(w, all, 3, 0, 0), 100);
	assert_int_equal(pxd_watermarks_min(w, ab, 2, 0, 0), 300);
	assert_int_equal(pxd_watermarks_min(w, ab, 2, 0, 1), 0); /* b has none for i0-s1 */
	assert_int_equal(pxd_watermarks_min(w, ab, 0, 0, 0), 0);
	pxd_watermarks_prune(w, ab, 2);
	assert_false(pxd_watermarks_has_dest(w, "c"));
	assert_false(pxd_watermarks_get(w, "c", 0, 0, &pos));
	assert_true(pxd_watermarks_get(w, "b", 0, 0, &pos));
	assert_int_equal(pos, 300);
	assert_true(pxd_watermarks_get(w, "a", 0, 1, &pos));
	assert_int_equal(pos, 900);
	pxd_watermarks_free(w);
	pxd_watermarks_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_file_starts_everyone_at_zero, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_save_load_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destination_without_streams_is_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_atomic_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_file_is_refused, setup, teardown),
		cmocka_unit_test(test_bad_names_are_refused),
		cmocka_unit_test(test_min_and_prune),
	};

	return cmocka_run_group_tests_name("watermark", tests, NULL, NULL);
}
