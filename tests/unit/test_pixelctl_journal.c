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
#include <time.h>
#include <unistd.h>

#include "daemon/ctl/pixelctl_journal.h"
#include "journal_format.h"
#include "watermark.h"

/*
 * A journal with two streams: i0-s0 holds records 0-2 in segment 1 and 3-4 in
 * segment 2; i1-s0 holds records 5-7 in segment 1. Record n was received
 * (8 - n) minutes ago, and p[n] is where it starts.
 */
struct fx {
	char dir[64];
	char s00[96];
	char s10[96];
	uint64_t p[8];
	uint64_t end00;
	uint64_t end10;
	int64_t ms[8];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t put(const char *stream, uint32_t seq, int n, int64_t ms)
{
	char path[160];
	char line[64];
	char rec[128];
	struct stat st;
	uint64_t pos;
	ssize_t len;

	pxd_journal_segment_path(path, sizeof(path), stream, seq);
	pos = pxd_journal_pos_make(seq, stat(path, &st) == 0 ? (uint32_t)st.st_size : 0);
	len = snprintf(line, sizeof(line), "{\"n\":%d}\n", n);
	len = pxd_journal_record_encode(rec, sizeof(rec), ms, line, (size_t)len);
	assert_true(len > 0);
	assert_int_equal(pxd_test_write_file(path, rec, (size_t)len, O_APPEND), 0);
	return pos;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int64_t now = now_ms();

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/test_journal_ctl.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	pxd_journal_stream_path(f->s00, sizeof(f->s00), f->dir, 0, 0);
	pxd_journal_stream_path(f->s10, sizeof(f->s10), f->dir, 1, 0);
	if (mkdir(f->s00, 0700) || mkdir(f->s10, 0700))
		return -1;
	for (int n = 0; n < 8; n++) {
		f->ms[n] = now - (8 - n) * 60000;
		f->p[n] = put(n < 5 ? f->s00 : f->s10, n < 3 ? 1 : n < 5 ? 2 : 1, n, f->ms[n]);
	}
	f->end00 = f->p[4] + (f->p[4] - f->p[3]);
	f->end10 = f->p[7] + (f->p[7] - f->p[6]);
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

static json_t *status(const struct fx *f, const char *const *dests, size_t n)
{
	struct pxd_buf b = { 0 };
	json_error_t jerr;
	json_t *doc;

	assert_int_equal(pxd_pixelctl_journal_status_json(f->dir, dests, n, &b), 0);
	doc = json_loadb(b.p, b.len, 0, &jerr);
	assert_non_null(doc);
	pxd_buf_free(&b);
	return doc;
}

static json_int_t iget(const json_t *o, const char *key)
{
	assert_true(json_is_integer(json_object_get(o, key)));
	return json_integer_value(json_object_get(o, key));
}

static uint64_t pget(const json_t *o, const char *key)
{
	const json_t *p = json_object_get(o, key);

	return pxd_journal_pos_make((uint32_t)iget(p, "seq"), (uint32_t)iget(p, "offset"));
}

/* Runs pxd_pixelctl_journal_main() with stdout and stderr to /dev/null; returns its exit status. */
static int run_main(const struct fx *f, const char *a1, const char *a2)
{
	static struct pxd_conf conf;
	char *argv[6] = { "journal" };
	int out = dup(STDOUT_FILENO);
	int err = dup(STDERR_FILENO);
	int null = open("/dev/null", O_WRONLY);
	int argc = 1;
	int rc;

	strcpy(conf.journal_dir, "/nonexistent");
	strcpy(conf.dests[0].name, "jsonl");
	conf.ndests = 1;
	if (a1)
		argv[argc++] = (char *)a1;
	if (a2)
		argv[argc++] = (char *)a2;
	argv[argc++] = "--dir";
	argv[argc++] = (char *)f->dir;
	argv[argc] = NULL;
	fflush(stdout);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	rc = pxd_pixelctl_journal_main(argc, argv, &conf);
	fflush(stdout);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	close(out);
	close(err);
	close(null);
	return rc;
}

/*
 * jsonl has delivered records 0-1 of i0-s0 and nothing of i1-s0; meta is in
 * the file without a mark for i1-s0 (a stream newer than the save); ga4 is not
 * in the file (a destination newer than the save).
 */
static void test_status_counts_backlog(void **state)
{
	struct fx *f = *state;
	const char *const dests[] = { "jsonl", "meta", "ga4" };
	struct pxd_watermarks *w = pxd_watermarks_new();
	const json_t *s;
	const json_t *d;
	json_t *doc;
	uint64_t rec = f->p[1] - f->p[0]; /* every record has the same size */

	assert_int_equal(pxd_watermarks_set(w, "jsonl", 0, 0, f->p[2]), 0);
	assert_int_equal(pxd_watermarks_set(w, "jsonl", 1, 0, 0), 0);
	assert_int_equal(pxd_watermarks_set(w, "meta", 0, 0, f->end00), 0);
	assert_int_equal(pxd_watermarks_set(w, "gone", 0, 0, 0), 0);
	assert_int_equal(pxd_watermarks_save(w, f->dir), 0);
	pxd_watermarks_free(w);

	doc = status(f, dests, 3);
	assert_true(json_is_true(json_object_get(doc, "exists")));
	assert_true(json_is_true(json_object_get(doc, "watermarks_file")));
	assert_int_equal(json_array_size(json_object_get(doc, "streams")), 2);
	s = json_array_get(json_object_get(doc, "streams"), 0);
	assert_string_equal(json_string_value(json_object_get(s, "stream")), "i0-s0");
	assert_int_equal(iget(s, "segments"), 2);
	assert_int_equal(iget(s, "first_seq"), 1);
	assert_int_equal(iget(s, "last_seq"), 2);
	assert_int_equal(iget(s, "bytes"), 5 * rec);
	assert_int_equal(pget(s, "first"), pxd_journal_pos_make(1, 0));
	assert_int_equal(pget(s, "end"), f->end00);
	assert_int_equal(iget(s, "torn_bytes"), 0);

	d = json_array_get(json_object_get(s, "destinations"), 0); /* jsonl in i0-s0 */
	assert_string_equal(json_string_value(json_object_get(d, "origin")), "saved");
	assert_int_equal(pget(d, "watermark"), f->p[2]);
	assert_int_equal(iget(d, "backlog_records"), 3);
	assert_int_equal(iget(d, "backlog_bytes"), 3 * rec);
	assert_int_equal(iget(d, "oldest_ms"), f->ms[2]);
	d = json_array_get(json_object_get(s, "destinations"), 1); /* meta in i0-s0 */
	assert_int_equal(iget(d, "backlog_records"), 0);
	assert_true(json_is_null(json_object_get(d, "oldest_ms")));
	d = json_array_get(json_object_get(s, "destinations"), 2); /* ga4 in i0-s0 */
	assert_string_equal(json_string_value(json_object_get(d, "origin")), "new_destination");
	assert_int_equal(pget(d, "watermark"), f->end00);
	assert_int_equal(iget(d, "backlog_records"), 0);

	s = json_array_get(json_object_get(doc, "streams"), 1);
	d = json_array_get(json_object_get(s, "destinations"), 1); /* meta in i1-s0 */
	assert_string_equal(json_string_value(json_object_get(d, "origin")), "new_stream");
	assert_int_equal(iget(d, "backlog_records"), 3);
	assert_int_equal(iget(d, "oldest_ms"), f->ms[5]);

	d = json_array_get(json_object_get(doc, "destinations"), 0); /* jsonl, all streams */
	assert_string_equal(json_string_value(json_object_get(d, "name")), "jsonl");
	assert_int_equal(iget(d, "backlog_records"), 6);
	assert_int_equal(iget(d, "backlog_bytes"), 6 * rec);
	assert_int_equal(iget(d, "oldest_ms"), f->ms[2]);
	assert_true(iget(d, "oldest_age_ms") >= 6 * 60000);
	assert_true(iget(d, "oldest_age_ms") < 6 * 60000 + 60000);
	assert_int_equal(json_array_size(json_object_get(doc, "destinations")), 3);
	json_decref(doc);
}

static void test_status_without_watermarks_or_journal(void **state)
{
	struct fx *f = *state;
	const char *const dests[] = { "jsonl" };
	struct pxd_buf b = { 0 };
	json_t *doc = status(f, dests, 1);
	const json_t *d = json_array_get(json_object_get(doc, "destinations"), 0);

	assert_false(json_is_true(json_object_get(doc, "watermarks_file")));
	assert_int_equal(iget(d, "backlog_records"), 8);
	assert_int_equal(iget(d, "oldest_ms"), f->ms[0]);
	json_decref(doc);

	assert_int_equal(pxd_pixelctl_journal_status_json("/nonexistent/journal", dests, 1, &b), 0);
	doc = json_loadb(b.p, b.len, 0, NULL);
	assert_non_null(doc);
	assert_false(json_is_true(json_object_get(doc, "exists")));
	assert_int_equal(json_array_size(json_object_get(doc, "streams")), 0);
	json_decref(doc);
	pxd_buf_free(&b);
}

static void test_status_text(void **state)
{
	struct fx *f = *state;
	const char *const dests[] = { "jsonl" };
	json_t *doc = status(f, dests, 1);
	char *text = NULL;
	size_t n = 0;
	FILE *mem = open_memstream(&text, &n);

	assert_non_null(mem);
	assert_int_equal(pxd_pixelctl_journal_status_print(doc, mem), 0);
	fclose(mem);
	assert_non_null(strstr(text, "2 streams, 3 segments"));
	assert_non_null(strstr(text, "no watermarks saved yet"));
	assert_non_null(strstr(text, "i1-s0"));
	assert_non_null(strstr(text, "(all)"));
	assert_non_null(strstr(text, "0:0*"));
	assert_non_null(strstr(text, "8m00s") ? strstr(text, "8m00s") : strstr(text, "8m01s"));
	free(text);
	assert_int_equal(pxd_pixelctl_journal_status_print(json_object_get(doc, "streams"), stdout),
			 -EINVAL);
	json_decref(doc);
}

static json_t *verify(const struct fx *f, enum pxd_journal_verdict expect)
{
	enum pxd_journal_verdict v;
	struct pxd_buf b = { 0 };
	json_t *doc;

	assert_int_equal(pxd_pixelctl_journal_verify_json(f->dir, &b, &v), 0);
	assert_int_equal(v, expect);
	doc = json_loadb(b.p, b.len, 0, NULL);
	assert_non_null(doc);
	pxd_buf_free(&b);
	return doc;
}

static void flip(const char *stream, uint32_t seq, uint64_t off)
{
	char path[160];
	unsigned char c;
	int fd;

	pxd_journal_segment_path(path, sizeof(path), stream, seq);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
	close(fd);
}

static void test_verify_verdicts(void **state)
{
	struct fx *f = *state;
	struct pxd_watermarks *w = pxd_watermarks_new();
	const json_t *p;
	char path[160];
	json_t *doc;

	assert_int_equal(pxd_watermarks_set(w, "jsonl", 0, 0, 0), 0);
	assert_int_equal(pxd_watermarks_save(w, f->dir), 0);
	pxd_watermarks_free(w);
	doc = verify(f, PXD_JOURNAL_VERDICT_CLEAN);
	assert_int_equal(iget(doc, "records"), 8);
	assert_int_equal(iget(doc, "segments"), 3);
	assert_int_equal(iget(doc, "streams"), 2);
	assert_string_equal(json_string_value(json_object_get(doc, "watermarks")), "ok");
	assert_int_equal(json_array_size(json_object_get(doc, "problems")), 0);
	json_decref(doc);
	assert_int_equal(run_main(f, "verify", NULL), 0);

	/* Half a record at the end of i1-s0: a torn tail, a warning, exit 0. */
	pxd_journal_segment_path(path, sizeof(path), f->s10, 1);
	assert_int_equal(truncate(path, (off_t)pxd_journal_pos_off(f->end10) - 3), 0);
	doc = verify(f, PXD_JOURNAL_VERDICT_TORN);
	p = json_array_get(json_object_get(doc, "problems"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "kind")), "torn");
	assert_string_equal(json_string_value(json_object_get(p, "stream")), "i1-s0");
	assert_string_equal(json_string_value(json_object_get(p, "segment")),
			    "0000000000000001.seg");
	assert_int_equal(iget(p, "offset"), pxd_journal_pos_off(f->p[7]));
	assert_string_equal(json_string_value(json_object_get(p, "reason")), "short");
	assert_int_equal(iget(doc, "records"), 7);
	json_decref(doc);
	assert_int_equal(run_main(f, "verify", "--json"), 0);

	/* A damaged record in i0-s0's first segment: corrupt, exit 1; the rest is still checked. */
	flip(f->s00, 1, pxd_journal_pos_off(f->p[1]) + 18);
	doc = verify(f, PXD_JOURNAL_VERDICT_CORRUPT);
	assert_int_equal(iget(doc, "corrupt"), 1);
	assert_int_equal(iget(doc, "torn"), 1);
	assert_int_equal(iget(doc, "records"), 6);
	p = json_array_get(json_object_get(doc, "problems"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "kind")), "corrupt");
	assert_int_equal(iget(p, "offset"), pxd_journal_pos_off(f->p[1]));
	assert_int_equal(iget(p, "bytes"), f->p[2] - f->p[1]);
	assert_string_equal(json_string_value(json_object_get(p, "reason")), "bad_crc");
	json_decref(doc);
	assert_int_equal(run_main(f, "verify", NULL), 1);
	flip(f->s00, 1, pxd_journal_pos_off(f->p[1]) + 18);

	/* A damaged watermarks file. */
	snprintf(path, sizeof(path), "%s/watermarks", f->dir);
	assert_int_equal(truncate(path, 10), 0);
	doc = verify(f, PXD_JOURNAL_VERDICT_CORRUPT);
	assert_string_equal(json_string_value(json_object_get(doc, "watermarks")), "damaged");
	json_decref(doc);
	assert_int_equal(run_main(f, "status", NULL), 1);
	assert_int_equal(unlink(path), 0);

	/* A segment missing in the middle of a stream. */
	put(f->s00, 3, 8, f->ms[4]);
	pxd_journal_segment_path(path, sizeof(path), f->s00, 2);
	assert_int_equal(unlink(path), 0);
	doc = verify(f, PXD_JOURNAL_VERDICT_CORRUPT);
	p = json_array_get(json_object_get(doc, "problems"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "reason")), "missing_segment");
	assert_string_equal(json_string_value(json_object_get(p, "segment")),
			    "0000000000000002.seg");
	assert_int_equal(iget(p, "missing"), 1);
	assert_string_equal(json_string_value(json_object_get(doc, "watermarks")), "missing");
	json_decref(doc);
}

static void test_main_usage(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run_main(f, NULL, NULL), 2);
	assert_int_equal(run_main(f, "bogus", NULL), 2);
	assert_int_equal(run_main(f, "status", "--bogus"), 2);
	assert_int_equal(run_main(f, "status", NULL), 0);
	assert_int_equal(run_main(f, "status", "--json"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_counts_backlog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_without_watermarks_or_journal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_status_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_verdicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_main_usage, setup, teardown),
	};

	return cmocka_run_group_tests_name("journal_ctl", tests, NULL, NULL);
}
