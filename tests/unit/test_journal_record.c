// SPDX-License-Identifier: MIT
/* The journal record codec: the documented layout, every prefix and bit flip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/journal/crc32c.h"
#include "journal_format.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_layout),
		cmocka_unit_test(test_check_prefixes_and_flips),
	};

	return cmocka_run_group_tests_name("journal_record", tests, NULL, NULL);
}
