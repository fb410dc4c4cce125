// SPDX-License-Identifier: MIT
#include "daemon/delivery/delivery_log.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 1732300000123LL

struct fixture {
	char dir[64];
	char logdir[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/pxd_dlogXXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->logdir, sizeof(f->logdir), "%s/delivery", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Returns the lines of <logdir>/<name> parsed, as a JSON array (NULL: no file). */
static json_t *read_lines(struct fixture *f, const char *name)
{
	char path[160], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	json_t *arr;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->logdir, name);
	fp = fopen(path, "r");
	if (!fp)
		return NULL;
	arr = json_array();
	while ((n = getline(&line, &cap, fp)) > 0) {
		json_t *j;

		assert_int_equal(line[n - 1], '\n');
		j = json_loadb(line, (size_t)n - 1, 0, NULL);
		if (!j)
			fail_msg("%s: not JSON: %s", name, line);
		json_array_append_new(arr, j);
	}
	free(line);
	fclose(fp);
	return arr;
}

static struct pxd_delivery_log_rec rec(uint32_t events)
{
	return (struct pxd_delivery_log_rec){
		.time_ms = T0,
		.dest = "meta",
		.events = events,
		.status = 200,
		.latency_ms = 183,
		.trace_id = "AbC-123_xyz",
		.delivered = events,
	};
}

static void test_line_format(void **state)
{
	struct fixture *f = *state;
	struct pxd_delivery_log *l;
	struct pxd_delivery_log_rec r = rec(1000);
	char long_error[1000];
	json_t *lines, *j;

	assert_int_equal(pxd_delivery_log_open(&l, f->logdir, "shard-0.log", 1 << 20, 2), 0);
	assert_int_equal(pxd_delivery_log_write(l, &r), 0);
	r = (struct pxd_delivery_log_rec){ .time_ms = T0 + 1,
					   .dest = "tiktok",
					   .events = 3,
					   .retry = 3,
					   .error =
					       "Failed to connect: \"Timeout\"\n was reached" };
	assert_int_equal(pxd_delivery_log_write(l, &r), 0);
	memset(long_error, 'e', sizeof(long_error) - 1);
	long_error[sizeof(long_error) - 1] = '\0';
	r.error = long_error;
	assert_int_equal(pxd_delivery_log_write(l, &r), 0);
	pxd_delivery_log_close(l);

	lines = read_lines(f, "shard-0.log");
	assert_non_null(lines);
	assert_int_equal(json_array_size(lines), 3);
	j = json_array_get(lines, 0);
	assert_string_equal(json_string_value(json_object_get(j, "time")),
			    "2024-11-22T18:26:40.123Z");
	assert_string_equal(json_string_value(json_object_get(j, "dest")), "meta");
	assert_int_equal(json_integer_value(json_object_get(j, "events")), 1000);
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "latency_ms")), 183);
	assert_string_equal(json_string_value(json_object_get(j, "trace_id")), "AbC-123_xyz");
	assert_int_equal(json_integer_value(json_object_get(j, "delivered")), 1000);
	assert_int_equal(json_integer_value(json_object_get(j, "retry")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "permanent")), 0);
	assert_true(json_is_null(json_object_get(j, "error")));
	assert_int_equal(json_object_size(j), 10);
	j = json_array_get(lines, 1);
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 0);
	assert_true(json_is_null(json_object_get(j, "trace_id")));
	assert_string_equal(json_string_value(json_object_get(j, "error")),
			    "Failed to connect: \"Timeout\"\n was reached");
	j = json_array_get(lines, 2);
	assert_int_equal(strlen(json_string_value(json_object_get(j, "error"))),
			 PXD_DELIVERY_LOG_ERROR_MAX);
	json_decref(lines);
}

static void test_lines_wait_for_the_flush_tick(void **state)
{
	struct fixture *f = *state;
	struct pxd_delivery_log *l;
	struct pxd_delivery_log_rec r = rec(1);
	json_t *lines;

	assert_int_equal(pxd_delivery_log_open(&l, f->logdir, "d.log", 1 << 20, 1), 0);
	assert_int_equal(pxd_delivery_log_tick(l, 5000), 0); /* sets the tick's start */
	assert_int_equal(pxd_delivery_log_write(l, &r), 0);
	lines = read_lines(f, "d.log");
	assert_int_equal(json_array_size(lines), 0); /* buffered */
	json_decref(lines);
	assert_int_equal(pxd_delivery_log_tick(l, 5999), 0);
	lines = read_lines(f, "d.log");
	assert_int_equal(json_array_size(lines), 0);
	json_decref(lines);
	assert_int_equal(pxd_delivery_log_tick(l, 6000), 0);
	lines = read_lines(f, "d.log");
	assert_int_equal(json_array_size(lines), 1);
	json_decref(lines);
	/* A full buffer goes out without waiting for the tick. */
	for (int i = 0; i < 2000; i++)
		assert_int_equal(pxd_delivery_log_write(l, &r), 0);
	lines = read_lines(f, "d.log");
	assert_true(json_array_size(lines) > 1);
	assert_true(json_array_size(lines) < 2001);
	json_decref(lines);
	pxd_delivery_log_close(l);
	lines = read_lines(f, "d.log");
	assert_int_equal(json_array_size(lines), 2001);
	json_decref(lines);
}

/* Appends to what an earlier run left, and counts its size for rotation. */
static void test_rotation_keeps_n_files(void **state)
{
	struct fixture *f = *state;
	struct pxd_delivery_log *l;
	const uint64_t max = 2000;
	char name[32], path[160];
	uint32_t expect_next = 0;
	size_t total = 0;
	struct stat st;

	assert_int_equal(pxd_delivery_log_open(&l, f->logdir, "r.log", max, 2), 0);
	for (uint32_t i = 0; i < 60; i++) {
		struct pxd_delivery_log_rec r = rec(i);

		assert_int_equal(pxd_delivery_log_write(l, &r), 0);
		assert_int_equal(pxd_delivery_log_flush(l), 0);
		if (i == 29) { /* a restart half-way */
			pxd_delivery_log_close(l);
			assert_int_equal(pxd_delivery_log_open(&l, f->logdir, "r.log", max, 2), 0);
		}
	}
	pxd_delivery_log_close(l);
	snprintf(path, sizeof(path), "%s/r.log.3", f->logdir);
	assert_int_equal(access(path, F_OK), -1);
	/* Oldest to newest: r.log.2, r.log.1, r.log, each in order, each under the limit,
	 * consecutive across files, ending with the last line written. */
	for (int k = 2; k >= 0; k--) {
		json_t *lines, *j;
		size_t i;

		snprintf(name, sizeof(name), k ? "r.log.%d" : "r.log", k);
		snprintf(path, sizeof(path), "%s/%s", f->logdir, name);
		assert_int_equal(stat(path, &st), 0);
		assert_true((uint64_t)st.st_size <= max);
		assert_int_equal(st.st_mode & 0777, 0600);
		lines = read_lines(f, name);
		assert_true(json_array_size(lines) > 0);
		json_array_foreach(lines, i, j)
		{
			uint32_t n = (uint32_t)json_integer_value(json_object_get(j, "events"));

			if (k == 2 && i == 0)
				expect_next = n;
			assert_int_equal(n, expect_next);
			expect_next++;
		}
		total += json_array_size(lines);
		json_decref(lines);
	}
	assert_int_equal(expect_next, 60);
	assert_true(total < 60); /* the oldest lines went with the deleted file */
}

static void test_keep_zero_keeps_only_the_current_file(void **state)
{
	struct fixture *f = *state;
	struct pxd_delivery_log *l;
	char path[160];
	json_t *lines;

	assert_int_equal(pxd_delivery_log_open(&l, f->logdir, "z.log", 300, 0), 0);
	for (uint32_t i = 0; i < 10; i++) {
		struct pxd_delivery_log_rec r = rec(i);

		assert_int_equal(pxd_delivery_log_write(l, &r), 0);
		assert_int_equal(pxd_delivery_log_flush(l), 0);
	}
	pxd_delivery_log_close(l);
	snprintf(path, sizeof(path), "%s/z.log.1", f->logdir);
	assert_int_equal(access(path, F_OK), -1);
	lines = read_lines(f, "z.log");
	assert_true(json_array_size(lines) >= 1);
	assert_int_equal(json_integer_value(json_object_get(
			     json_array_get(lines, json_array_size(lines) - 1), "events")),
			 9);
	json_decref(lines);
}

static void test_open_refuses_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct pxd_delivery_log *l = (void *)1;

	assert_int_equal(pxd_delivery_log_open(&l, f->logdir, "a/b", 100, 1), -EINVAL);
	assert_null(l);
	assert_int_equal(pxd_delivery_log_open(&l, f->logdir, "", 100, 1), -EINVAL);
	assert_int_equal(pxd_delivery_log_open(&l, f->logdir, "x", 0, 1), -EINVAL);
	assert_int_equal(pxd_delivery_log_open(&l, f->logdir, "x", 100, 101), -EINVAL);
	assert_int_equal(pxd_delivery_log_open(&l, "/nonexistent/deeper/dir", "x", 100, 1),
			 -ENOENT);
	pxd_delivery_log_close(NULL);
}

static void test_tally_counts_outcomes(void **state)
{
	struct pxd_outcome out[4] = {
		{ .delivery = PXD_DELIVERY_OK },
		{ .delivery = PXD_DELIVERY_PERMANENT, .reason = "meta: (#100) bad em" },
		{ .delivery = PXD_DELIVERY_RETRY, .reason = "meta: code 2 transient" },
		{ .delivery = PXD_DELIVERY_OK },
	};
	struct pxd_delivery_log_rec r = { .delivered = 99 };

	(void)state;
	pxd_delivery_log_tally(&r, out, 4);
	assert_int_equal(r.delivered, 2);
	assert_int_equal(r.retry, 1);
	assert_int_equal(r.permanent, 1);
	assert_string_equal(r.error, "meta: (#100) bad em");
	/* A transport error set by the caller stays. */
	r.error = "Timeout was reached";
	pxd_delivery_log_tally(&r, out, 4);
	assert_string_equal(r.error, "Timeout was reached");
	r.error = NULL;
	pxd_delivery_log_tally(&r, out, 1);
	assert_null(r.error);
	assert_int_equal(r.delivered, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lines_wait_for_the_flush_tick, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rotation_keeps_n_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_zero_keeps_only_the_current_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_bad_arguments, setup, teardown),
		cmocka_unit_test(test_tally_counts_outcomes),
	};

	return cmocka_run_group_tests_name("delivery_log", tests, NULL, NULL);
}
