// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

/* Writes <n> bytes of <s> as a lone string value and returns the output. */
static const char *str_out(char *buf, size_t cap, const char *s, size_t n)
{
	struct pxd_jsonw w;

	pxd_jsonw_init(&w, buf, cap);
	pxd_jsonw_string(&w, s, n);
	assert_true(pxd_jsonw_finish(&w) >= 0);
	return buf;
}

#define STR_OUT(buf, lit) str_out(buf, sizeof(buf), lit, sizeof(lit) - 1)

static void test_nested_structure_has_commas_in_place(void **state)
{
	char buf[256];
	struct pxd_jsonw w;
	ssize_t n;

	(void)state;
	pxd_jsonw_init(&w, buf, sizeof(buf));
	pxd_jsonw_object_begin(&w);
	pxd_jsonw_key(&w, "a", 1);
	pxd_jsonw_int(&w, 1);
	pxd_jsonw_key(&w, "b", 1);
	pxd_jsonw_array_begin(&w);
	pxd_jsonw_bool(&w, true);
	pxd_jsonw_bool(&w, false);
	pxd_jsonw_null(&w);
	pxd_jsonw_object_begin(&w);
	pxd_jsonw_object_end(&w);
	pxd_jsonw_array_begin(&w);
	pxd_jsonw_array_end(&w);
	pxd_jsonw_array_end(&w);
	pxd_jsonw_key(&w, "c", 1);
	pxd_jsonw_object_begin(&w);
	pxd_jsonw_key(&w, "d", 1);
	pxd_jsonw_string(&w, "x", 1);
	pxd_jsonw_object_end(&w);
	pxd_jsonw_key(&w, "e", 1);
	pxd_jsonw_raw(&w, "{\"r\":[1,2]}", 11);
	pxd_jsonw_object_end(&w);
	n = pxd_jsonw_finish(&w);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(
	    buf, "{\"a\":1,\"b\":[true,false,null,{},[]],\"c\":{\"d\":\"x\"},\"e\":{\"r\":[1,2]}}");
}

static void test_string_escapes_quote_backslash_and_controls(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(STR_OUT(buf, "a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
	assert_string_equal(STR_OUT(buf, "\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
	assert_string_equal(STR_OUT(buf, "\x01\x1f\x7f"), "\"\\u0001\\u001f\x7f\"");
	assert_string_equal(STR_OUT(buf, "a\0b"), "\"a\\u0000b\"");
	assert_string_equal(STR_OUT(buf, ""), "\"\"");
}

static void test_string_keeps_valid_utf8(void **state)
{
	char buf[128];

	(void)state;
	/* 2-, 3- and 4-byte sequences at the edges of their ranges */
	assert_string_equal(STR_OUT(buf, "\xc2\x80\xdf\xbf"), "\"\xc2\x80\xdf\xbf\"");
	assert_string_equal(STR_OUT(buf, "J\xc3\xbcrgen \xe2\x82\xac"),
			    "\"J\xc3\xbcrgen \xe2\x82\xac\"");
	assert_string_equal(STR_OUT(buf, "\xe0\xa0\x80\xed\x9f\xbf\xef\xbf\xbf"),
			    "\"\xe0\xa0\x80\xed\x9f\xbf\xef\xbf\xbf\"");
	assert_string_equal(STR_OUT(buf, "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"),
			    "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"");
}

static void test_string_replaces_invalid_utf8_with_fffd(void **state)
{
	char buf[128];

	(void)state;
	/* Latin-1 'é' (0xe9 then ASCII): one replacement, the ASCII kept */
	assert_string_equal(STR_OUT(buf, "caf\xe9!"), "\"caf\xef\xbf\xbd!\"");
	/* lone continuation byte, overlong '/', surrogate, above U+10FFFF */
	assert_string_equal(STR_OUT(buf, "\x80"), "\"\xef\xbf\xbd\"");
	assert_string_equal(STR_OUT(buf, "\xc0\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_string_equal(STR_OUT(buf, "\xed\xa0\x80"),
			    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_string_equal(STR_OUT(buf, "\xf4\x90\x80\x80"),
			    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	/* truncated sequence at the end */
	assert_string_equal(STR_OUT(buf, "a\xe2\x82"), "\"a\xef\xbf\xbd\xef\xbf\xbd\"");
}

static void test_key_is_escaped(void **state)
{
	char buf[64];
	struct pxd_jsonw w;

	(void)state;
	pxd_jsonw_init(&w, buf, sizeof(buf));
	pxd_jsonw_object_begin(&w);
	pxd_jsonw_key(&w, "k\"\n", 3);
	pxd_jsonw_int(&w, 0);
	pxd_jsonw_object_end(&w);
	assert_true(pxd_jsonw_finish(&w) > 0);
	assert_string_equal(buf, "{\"k\\\"\\n\":0}");
}

static void test_int64_extremes(void **state)
{
	char buf[128];
	struct pxd_jsonw w;

	(void)state;
	pxd_jsonw_init(&w, buf, sizeof(buf));
	pxd_jsonw_array_begin(&w);
	pxd_jsonw_int(&w, 0);
	pxd_jsonw_int(&w, -1);
	pxd_jsonw_int(&w, 1732300000123);
	pxd_jsonw_int(&w, INT64_MAX);
	pxd_jsonw_int(&w, INT64_MIN);
	pxd_jsonw_array_end(&w);
	assert_true(pxd_jsonw_finish(&w) > 0);
	assert_string_equal(buf, "[0,-1,1732300000123,9223372036854775807,-9223372036854775808]");
}

static void test_double_shortest_round_trip(void **state)
{
	static const double vals[] = { 99.99,
				       0.1,
				       1.0 / 3.0,
				       5e-324,
				       1.7976931348623157e308,
				       123456789.125,
				       0.30000000000000004 };
	char buf[64];
	struct pxd_jsonw w;

	(void)state;
	pxd_jsonw_init(&w, buf, sizeof(buf));
	pxd_jsonw_double(&w, 99.99);
	assert_true(pxd_jsonw_finish(&w) > 0);
	assert_string_equal(buf, "99.99");

	pxd_jsonw_init(&w, buf, sizeof(buf));
	pxd_jsonw_double(&w, 0);
	assert_true(pxd_jsonw_finish(&w) > 0);
	assert_string_equal(buf, "0");

	pxd_jsonw_init(&w, buf, sizeof(buf));
	pxd_jsonw_double(&w, 1e21);
	assert_true(pxd_jsonw_finish(&w) > 0);
	assert_string_equal(buf, "1e+21");

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		pxd_jsonw_init(&w, buf, sizeof(buf));
		pxd_jsonw_double(&w, vals[i]);
		assert_true(pxd_jsonw_finish(&w) > 0);
		assert_true(strtod(buf, NULL) == vals[i]);
	}
}

/* The general path: the fewest of 15..17 digits that read back. */
static void printf_shortest(double v, char *out, size_t cap)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

static void expect_as_printf(double v)
{
	char buf[64];
	char want[64];
	struct pxd_jsonw w;

	printf_shortest(v, want, sizeof(want));
	pxd_jsonw_init(&w, buf, sizeof(buf));
	pxd_jsonw_double(&w, v);
	assert_true(pxd_jsonw_finish(&w) > 0);
	if (strcmp(buf, want))
		fail_msg("%.17g: wrote %s, printf's shortest is %s", v, buf, want);
}

/* Short decimals are written without printf (short_decimal() in jsonw.c) and must write the
 * very bytes it would: prices, their edges and neighbours, and a spread of
 * values that are no short decimal. */
static void test_double_short_decimals_as_printf(void **state)
{
	static const double edges[] = { 0.0001,
					0.00015,
					0.00009999,
					1e-5,
					0.05,
					0.5,
					1,
					10,
					99.99,
					100,
					1234.5678,
					999999999999999.0,
					1e15,
					1e15 - 0.5,
					123456789012.345,
					0.1 + 0.2,
					2.675,
					1.005,
					9007199254740993.0,
					-2.5,
					-0.0,
					0,
					5e-324,
					1e300 };
	uint64_t x = 0x9e3779b97f4a7c15u;

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		expect_as_printf(edges[i]);
	for (int i = 0; i < 200000; i++) {
		double m;
		int k;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		m = (double)(x % 2000000000000ull);
		k = (int)(x >> 58) % 9; /* up to 8 decimals: past the fast path's 6 */
		expect_as_printf(m / pow(10, k));
		expect_as_printf(nextafter(m / pow(10, k), INFINITY));
		expect_as_printf((double)(x >> 11) / 9007199254740992.0 *
				 pow(10, (int)(x % 30) - 10));
	}
}

static void test_double_refuses_nan_and_inf(void **state)
{
	char buf[64];
	struct pxd_jsonw w;

	(void)state;
	pxd_jsonw_init(&w, buf, sizeof(buf));
	pxd_jsonw_double(&w, NAN);
	assert_int_equal(pxd_jsonw_finish(&w), -EINVAL);

	pxd_jsonw_init(&w, buf, sizeof(buf));
	pxd_jsonw_array_begin(&w);
	pxd_jsonw_double(&w, INFINITY);
	pxd_jsonw_double(&w, 1.0);
	pxd_jsonw_array_end(&w);
	assert_int_equal(pxd_jsonw_finish(&w), -EINVAL);
}

/* Every capacity below the exact size fails with -ENOSPC and never writes
 * past the buffer (the sanitizer build checks the heap copy). */
static void test_overflow_at_every_capacity(void **state)
{
	static const char want[] = "{\"key\":\"caf\xc3\xa9\\n\",\"n\":[12345,true]}";
	size_t need = sizeof(want); /* with the NUL */

	(void)state;
	for (size_t cap = 0; cap <= need; cap++) {
		char *buf = malloc(cap ? cap : 1);
		struct pxd_jsonw w;
		ssize_t r;

		assert_non_null(buf);
		pxd_jsonw_init(&w, buf, cap);
		pxd_jsonw_object_begin(&w);
		pxd_jsonw_key(&w, "key", 3);
		pxd_jsonw_string(&w, "caf\xc3\xa9\n", 6);
		pxd_jsonw_key(&w, "n", 1);
		pxd_jsonw_array_begin(&w);
		pxd_jsonw_int(&w, 12345);
		pxd_jsonw_bool(&w, true);
		pxd_jsonw_array_end(&w);
		pxd_jsonw_object_end(&w);
		r = pxd_jsonw_finish(&w);
		if (cap < need) {
			assert_int_equal(r, -ENOSPC);
		} else {
			assert_int_equal(r, need - 1);
			assert_string_equal(buf, want);
		}
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_structure_has_commas_in_place),
		cmocka_unit_test(test_string_escapes_quote_backslash_and_controls),
		cmocka_unit_test(test_string_keeps_valid_utf8),
		cmocka_unit_test(test_string_replaces_invalid_utf8_with_fffd),
		cmocka_unit_test(test_key_is_escaped),
		cmocka_unit_test(test_int64_extremes),
		cmocka_unit_test(test_double_shortest_round_trip),
		cmocka_unit_test(test_double_short_decimals_as_printf),
		cmocka_unit_test(test_double_refuses_nan_and_inf),
		cmocka_unit_test(test_overflow_at_every_capacity),
	};

	return cmocka_run_group_tests_name("jsonw", tests, NULL, NULL);
}
