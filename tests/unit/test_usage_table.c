// SPDX-License-Identifier: MIT
/* The per-day usage table: UTC days, rows kept in order and summed, the file round trip and its
 * damage. */
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

#include "daemon/tenant/usage.h"

static void test_days_are_utc_dates(void **state)
{
	int32_t day = 0;
	char text[11];

	(void)state;
	assert_int_equal(pxd_usage_day_parse("1970-01-02", &day), 0);
	assert_int_equal(day, 1);
	assert_int_equal(pxd_usage_day_parse("2026-12-04", &day), 0);
	assert_int_equal(day, 20791);
	pxd_usage_day_text(day, text);
	assert_string_equal(text, "2026-12-04");
	assert_int_equal(pxd_usage_day_parse("2026-02-30", &day), -EINVAL);
	assert_int_equal(pxd_usage_day_parse("2026-12-4", &day), -EINVAL);
	assert_int_equal(pxd_usage_day_parse("2026-12-04x", &day), -EINVAL);
}

static void test_rows_are_ordered_and_summed(void **state)
{
	struct pxd_usage_table t = { 0 };
	const uint64_t one[PXD_USAGE_COUNT] = { 1, 2, 3, 4, 5, 6 };

	(void)state;
	assert_int_equal(pxd_usage_table_add(&t, 10, "shop", one), 0);
	assert_int_equal(pxd_usage_table_add(&t, 9, "shop", one), 0);
	assert_int_equal(pxd_usage_table_add(&t, 10, "blog", one), 0);
	assert_int_equal(pxd_usage_table_add(&t, 10, "shop", one), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.rows[0].day, 9);
	assert_string_equal(t.rows[1].tenant, "blog");
	assert_string_equal(t.rows[2].tenant, "shop");
	assert_int_equal(t.rows[2].n[PXD_USAGE_COOKIES_RESTORED], 12);
	pxd_usage_table_free(&t);
}

static void test_file_round_trip_and_damage(void **state)
{
	char path[] = "/tmp/pxd-usage-XXXXXX";
	struct pxd_usage_table t = { 0 }, back = { 0 };
	const uint64_t n[PXD_USAGE_COUNT] = { 120, 3, 48211, 40, 12, UINT64_MAX };
	struct pxd_buf text = { 0 };
	char err[256];
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(pxd_usage_table_add(&t, 20791, "shop", n), 0);
	assert_int_equal(pxd_usage_table_text(&t, &text), 0);
	assert_int_equal(write(fd, text.p, text.len), (ssize_t)text.len);
	close(fd);
	assert_int_equal(pxd_usage_table_load(&back, path, err, sizeof(err)), 0);
	assert_int_equal(back.n, 1);
	assert_memory_equal(back.rows[0].n, n, sizeof(n));
	pxd_buf_free(&text);
	assert_int_equal(pxd_usage_table_json(&back, &text), 0);
	assert_non_null(
	    strstr(text.p, "{\"day\":\"2026-12-04\",\"tenant\":\"shop\",\"accepted\":120,"));
	/* A line cut short by a crash is refused, with its line number. */
	f = fopen(path, "a");
	fputs("2026-12-05\tshop\t1\t2", f);
	fclose(f);
	pxd_usage_table_free(&back);
	assert_int_equal(pxd_usage_table_load(&back, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3: not a pixeld usage line"));
	unlink(path);
	assert_int_equal(pxd_usage_table_load(&back, path, err, sizeof(err)), -ENOENT);
	pxd_buf_free(&text);
	pxd_usage_table_free(&back);
	pxd_usage_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_days_are_utc_dates),
		cmocka_unit_test(test_rows_are_ordered_and_summed),
		cmocka_unit_test(test_file_round_trip_and_damage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
