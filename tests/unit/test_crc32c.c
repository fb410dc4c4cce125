// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "daemon/journal/crc32c.h"

/* RFC 3720 B.4 and the "check" value of the CRC catalogue. */
static void test_known_vectors(void **state)
{
	unsigned char buf[32];
	unsigned char inc[32];
	unsigned char dec[32];

	(void)state;
	for (int i = 0; i < 32; i++) {
		inc[i] = (unsigned char)i;
		dec[i] = (unsigned char)(31 - i);
	}
	memset(buf, 0, sizeof(buf));
	assert_int_equal(pxd_crc32c(0, buf, sizeof(buf)), 0x8a9136aa);
	assert_int_equal(pxd_crc32c_portable(0, buf, sizeof(buf)), 0x8a9136aa);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(pxd_crc32c(0, buf, sizeof(buf)), 0x62a8ab43);
	assert_int_equal(pxd_crc32c_portable(0, buf, sizeof(buf)), 0x62a8ab43);
	assert_int_equal(pxd_crc32c(0, inc, sizeof(inc)), 0x46dd794e);
	assert_int_equal(pxd_crc32c_portable(0, inc, sizeof(inc)), 0x46dd794e);
	assert_int_equal(pxd_crc32c(0, dec, sizeof(dec)), 0x113fdb5c);
	assert_int_equal(pxd_crc32c_portable(0, dec, sizeof(dec)), 0x113fdb5c);
	assert_int_equal(pxd_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(pxd_crc32c_portable(0, "123456789", 9), 0xe3069283);
}

static void test_empty_input_keeps_crc(void **state)
{
	(void)state;
	assert_int_equal(pxd_crc32c(0, NULL, 0), 0);
	assert_int_equal(pxd_crc32c(0xe3069283, NULL, 0), 0xe3069283);
	assert_int_equal(pxd_crc32c_portable(0xe3069283, "", 0), 0xe3069283);
}

/* Every length and start alignment from 0 to 7, so the head, body and tail loops all run. */
static void test_hw_and_portable_agree(void **state)
{
	unsigned char *buf = malloc(1100);

	(void)state;
	assert_non_null(buf);
	srand(3720);
	for (int i = 0; i < 1100; i++)
		buf[i] = (unsigned char)rand();
	for (size_t start = 0; start < 8; start++)
		for (size_t len = 0; len <= 1090; len++)
			assert_int_equal(pxd_crc32c(0, buf + start, len),
					 pxd_crc32c_portable(0, buf + start, len));
	free(buf);
}

static void test_chained_equals_whole(void **state)
{
	const char *s = "{\"event\":\"Purchase\",\"value\":99.99}\n";
	size_t n = strlen(s);
	uint32_t whole = pxd_crc32c(0, s, n);

	(void)state;
	for (size_t cut = 0; cut <= n; cut++) {
		assert_int_equal(pxd_crc32c(pxd_crc32c(0, s, cut), s + cut, n - cut), whole);
		assert_int_equal(
		    pxd_crc32c_portable(pxd_crc32c_portable(0, s, cut), s + cut, n - cut), whole);
	}
}

/* The build machines are x86-64 with SSE4.2; a CPU without it would silently test the tables twice.
 */
static void test_hw_path_is_used_here(void **state)
{
	(void)state;
	assert_true(pxd_crc32c_hw_available());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_empty_input_keeps_crc),
		cmocka_unit_test(test_hw_and_portable_agree),
		cmocka_unit_test(test_chained_equals_whole),
		cmocka_unit_test(test_hw_path_is_used_here),
	};

	return cmocka_run_group_tests_name("crc32c", tests, NULL, NULL);
}
