// SPDX-License-Identifier: MIT
/* The event_ids at the end of a JSONL sink's file, and a torn last line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/jsonl_tail.h"

static int file_with(const char *text)
{
	char path[] = "/tmp/pxd-tail-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

static bool has(const struct pxd_jsonl_tail *t, const char *line)
{
	return pxd_jsonl_tail_has(t, line, strlen(line));
}

static void test_ids_of_whole_lines_and_the_torn_end(void **state)
{
	static const char text[] = "{\"v\":1,\"event_id\":\"a-1\",\"event\":\"Lead\"}\n"
				   "{\"v\":1,\"event_id\":\"a-2\",\"event\":\"Lead\"}\n"
				   "{\"v\":1,\"event_id\":\"a-3\",\"ev";
	struct pxd_jsonl_tail t = { 0 };
	int fd = file_with(text);
	off_t whole;

	(void)state;
	assert_int_equal(pxd_jsonl_tail_load(&t, fd, &whole), 0);
	assert_int_equal(whole, strchr(strchr(text, '\n') + 1, '\n') + 1 - text);
	assert_true(has(&t, "{\"v\":1,\"event_id\":\"a-1\",\"event\":\"Purchase\"}"));
	assert_true(has(&t, "{\"v\":1,\"event_id\":\"a-2\"}"));
	/* The torn line's event was never delivered: it is written again. */
	assert_false(has(&t, "{\"v\":1,\"event_id\":\"a-3\"}"));
	assert_false(has(&t, "{\"v\":1,\"event_id\":\"a-11\"}"));
	assert_false(has(&t, "{\"v\":1}"));
	pxd_jsonl_tail_free(&t);
	close(fd);
}

static void test_empty_file_holds_nothing(void **state)
{
	struct pxd_jsonl_tail t = { 0 };
	int fd = file_with("");
	off_t whole = 7;

	(void)state;
	assert_int_equal(pxd_jsonl_tail_load(&t, fd, &whole), 0);
	assert_int_equal(whole, 0);
	assert_false(has(&t, "{\"v\":1,\"event_id\":\"a-1\"}"));
	pxd_jsonl_tail_free(&t);
	close(fd);
}

static void test_many_ids_all_found(void **state)
{
	struct pxd_jsonl_tail t = { 0 };
	char line[64];
	off_t whole;
	int fd = file_with("");

	(void)state;
	for (int k = 0; k < 5000; k++) {
		int n = snprintf(line, sizeof(line), "{\"event_id\":\"id-%d\"}\n", k);

		assert_int_equal(write(fd, line, (size_t)n), n);
	}
	assert_int_equal(pxd_jsonl_tail_load(&t, fd, &whole), 0);
	for (int k = 0; k < 5000; k++) {
		snprintf(line, sizeof(line), "{\"event_id\":\"id-%d\"}", k);
		assert_true(has(&t, line));
	}
	snprintf(line, sizeof(line), "{\"event_id\":\"id-5000\"}");
	assert_false(has(&t, line));
	pxd_jsonl_tail_free(&t);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_of_whole_lines_and_the_torn_end),
		cmocka_unit_test(test_empty_file_holds_nothing),
		cmocka_unit_test(test_many_ids_all_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
