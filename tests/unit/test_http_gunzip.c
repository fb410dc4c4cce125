// SPDX-License-Identifier: MIT
/* Bounded gzip inflating: round trips, the limit (a bomb stops there), corrupt,
 * truncated and concatenated input, and the Content-Encoding reader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "http_gunzip.h"

/* gzip of <n> bytes of <in> into <out>; returns its length. */
static size_t gz(const void *in, size_t n, unsigned char *out, size_t cap)
{
	z_stream zs = { 0 };

	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	n = zs.total_out;
	deflateEnd(&zs);
	return n;
}

static int setup(void **state)
{
	struct pxd_gunzip *g = NULL;

	assert_int_equal(pxd_gunzip_new(&g), 0);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	pxd_gunzip_free(*state);
	return 0;
}

static void test_round_trip_and_reuse(void **state)
{
	static unsigned char z[4096];
	char out[256];
	size_t len = 0;
	const char *text = "{\"event\":\"Lead\"}";
	size_t zn = gz(text, strlen(text), z, sizeof(z));

	for (int i = 0; i < 3; i++) {
		assert_int_equal(pxd_gunzip_inflate(*state, (struct pxd_sv){ (char *)z, zn }, out,
						    sizeof(out), &len),
				 0);
		assert_int_equal(len, strlen(text));
		assert_memory_equal(out, text, len);
	}
}

static void test_bomb_stops_at_limit(void **state)
{
	size_t n = 64u << 20;
	unsigned char *zeros = calloc(1, n);
	unsigned char *z = malloc(1 << 20);
	char *out = malloc(4097);
	size_t len = 7;
	size_t zn;

	assert_non_null(zeros);
	assert_non_null(z);
	assert_non_null(out);
	zn = gz(zeros, n, z, 1 << 20);
	assert_true(zn < 100000);
	assert_int_equal(
	    pxd_gunzip_inflate(*state, (struct pxd_sv){ (char *)z, zn }, out, 4097, &len), -EFBIG);
	assert_int_equal(len, 0);
	/* Exactly at the limit fits when the caller passes one byte more. */
	zn = gz(zeros, 4096, z, 1 << 20);
	assert_int_equal(
	    pxd_gunzip_inflate(*state, (struct pxd_sv){ (char *)z, zn }, out, 4097, &len), 0);
	assert_int_equal(len, 4096);
	free(zeros);
	free(z);
	free(out);
}

static void test_corrupt_truncated_concatenated(void **state)
{
	static unsigned char z[8192];
	char out[256];
	size_t len;
	size_t a = gz("abc", 3, z, sizeof(z));
	size_t b = gz("def", 3, z + a, sizeof(z) - a);

	assert_int_equal(
	    pxd_gunzip_inflate(*state, (struct pxd_sv){ (char *)z, a + b }, out, sizeof(out), &len),
	    0);
	assert_int_equal(len, 6);
	assert_memory_equal(out, "abcdef", 6);
	for (size_t cut = 1; cut < a; cut++)
		assert_int_equal(pxd_gunzip_inflate(*state, (struct pxd_sv){ (char *)z, cut }, out,
						    sizeof(out), &len),
				 -EINVAL);
	z[a - 3] ^= 0x55; /* inside the CRC-32 / size trailer */
	assert_int_equal(
	    pxd_gunzip_inflate(*state, (struct pxd_sv){ (char *)z, a }, out, sizeof(out), &len),
	    -EINVAL);
	assert_int_equal(
	    pxd_gunzip_inflate(*state, (struct pxd_sv){ "{\"a\":1}", 7 }, out, sizeof(out), &len),
	    -EINVAL);
	assert_int_equal(
	    pxd_gunzip_inflate(*state, (struct pxd_sv){ "", 0 }, out, sizeof(out), &len), -EINVAL);
	/* Trailing garbage after a complete member. */
	memcpy(z + a + b, "xx", 2);
	a = gz("abc", 3, z, sizeof(z));
	memcpy(z + a, "xx", 2);
	assert_int_equal(
	    pxd_gunzip_inflate(*state, (struct pxd_sv){ (char *)z, a + 2 }, out, sizeof(out), &len),
	    -EINVAL);
}

static void test_encoding_names(void **state)
{
	bool gzip = true;

	(void)state;
	assert_true(pxd_gunzip_encoding(PXD_SV_NULL, &gzip));
	assert_false(gzip);
	assert_true(pxd_gunzip_encoding(PXD_SV("identity"), &gzip));
	assert_false(gzip);
	assert_true(pxd_gunzip_encoding(PXD_SV("GZIP"), &gzip));
	assert_true(gzip);
	assert_true(pxd_gunzip_encoding(PXD_SV("x-gzip"), &gzip));
	assert_false(pxd_gunzip_encoding(PXD_SV("br"), &gzip));
	assert_false(pxd_gunzip_encoding(PXD_SV("gzip, br"), &gzip));
	assert_false(pxd_gunzip_encoding(PXD_SV("deflate"), &gzip));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_and_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bomb_stops_at_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_truncated_concatenated, setup,
						teardown),
		cmocka_unit_test(test_encoding_names),
	};

	return cmocka_run_group_tests_name("http_gunzip", tests, NULL, NULL);
}
