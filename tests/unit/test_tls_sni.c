// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/tls/tls_sni.h"

/* server_name extension body: list length, then type 0 (host_name), length, name. */
static size_t sni_ext(uint8_t *out, const char *name)
{
	size_t n = strlen(name);

	out[0] = (uint8_t)((n + 3) >> 8);
	out[1] = (uint8_t)(n + 3);
	out[2] = 0;
	out[3] = (uint8_t)(n >> 8);
	out[4] = (uint8_t)n;
	memcpy(out + 5, name, n);
	return n + 5;
}

/* Copies <len> bytes to the end of a page followed by a PROT_NONE page, so a read past
 * the input faults. */
static const uint8_t *at_page_end(uint8_t *pages, long pg, const uint8_t *p, size_t len)
{
	uint8_t *dst = pages + pg - len;

	memcpy(dst, p, len);
	return dst;
}

static void test_parse_reads_the_host_name(void **state)
{
	uint8_t ext[300];
	char name[256];
	size_t n;

	(void)state;
	n = sni_ext(ext, "T.Shop.Example.");
	assert_int_equal(pxd_tls_sni_parse(ext, n, name, sizeof(name)), 14);
	assert_string_equal(name, "t.shop.example");
}

static void test_parse_refuses_every_truncation_and_bad_bytes(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *pages =
	    mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t ext[300];
	char name[256];
	size_t n;

	(void)state;
	assert_true(pages != MAP_FAILED);
	assert_int_equal(mprotect(pages + pg, (size_t)pg, PROT_NONE), 0);
	n = sni_ext(ext, "t.shop.example");
	for (size_t len = 0; len < n; len++)
		assert_int_equal(
		    pxd_tls_sni_parse(at_page_end(pages, pg, ext, len), len, name, sizeof(name)),
		    -EINVAL);
	n = sni_ext(ext, "t.shop\x01.example");
	assert_int_equal(pxd_tls_sni_parse(at_page_end(pages, pg, ext, n), n, name, sizeof(name)),
			 -EINVAL);
	n = sni_ext(ext, "t..shop.example");
	assert_int_equal(pxd_tls_sni_parse(at_page_end(pages, pg, ext, n), n, name, sizeof(name)),
			 -EINVAL);
	n = sni_ext(ext, ".shop.example");
	assert_int_equal(pxd_tls_sni_parse(at_page_end(pages, pg, ext, n), n, name, sizeof(name)),
			 -EINVAL);
	n = sni_ext(ext, "shop.example..");
	assert_int_equal(pxd_tls_sni_parse(at_page_end(pages, pg, ext, n), n, name, sizeof(name)),
			 -EINVAL);
	n = sni_ext(ext, ".");
	assert_int_equal(pxd_tls_sni_parse(at_page_end(pages, pg, ext, n), n, name, sizeof(name)),
			 -EINVAL);
	/* A name longer than the caller's buffer. */
	n = sni_ext(ext, "a-very-long-label.example");
	assert_int_equal(pxd_tls_sni_parse(ext, n, name, 8), -EINVAL);
	/* An entry of another type only: no host name. */
	n = sni_ext(ext, "x");
	ext[2] = 7;
	assert_int_equal(pxd_tls_sni_parse(ext, n, name, sizeof(name)), -ENOENT);
	munmap(pages, (size_t)pg * 2);
}

static void test_match_exact_and_one_label_wildcards(void **state)
{
	(void)state;
	assert_true(pxd_tls_sni_match("t.shop.example", "t.shop.example"));
	assert_false(pxd_tls_sni_match("t.shop.example", "u.shop.example"));
	assert_true(pxd_tls_sni_match("*.shop.example", "cdn.shop.example"));
	assert_false(pxd_tls_sni_match("*.shop.example", "shop.example"));
	assert_false(pxd_tls_sni_match("*.shop.example", "a.b.shop.example"));
	assert_false(pxd_tls_sni_match("*.shop.example", ".shop.example"));
	assert_false(pxd_tls_sni_match("*.shop.example", "cdnshop.example"));
}

static void test_pick_falls_back_to_the_default_or_refuses(void **state)
{
	struct pxd_tls_store *st = calloc(1, sizeof(*st));

	(void)state;
	assert_non_null(st);
	st->n = 2;
	strcpy(st->e[0].hosts[0], "t.shop.example");
	st->e[0].nhosts = 1;
	strcpy(st->e[1].hosts[0], "px.other.example");
	strcpy(st->e[1].hosts[1], "*.other.example");
	st->e[1].nhosts = 2;
	st->default_idx = 1;
	assert_int_equal(pxd_tls_sni_pick(st, "t.shop.example"), 0);
	assert_int_equal(pxd_tls_sni_pick(st, "cdn.other.example"), 1);
	assert_int_equal(pxd_tls_sni_pick(st, "nobody.example"), 1);
	assert_int_equal(pxd_tls_sni_pick(st, NULL), 1);
	st->default_idx = -1;
	assert_int_equal(pxd_tls_sni_pick(st, "nobody.example"), -1);
	assert_int_equal(pxd_tls_sni_pick(st, NULL), -1);
	assert_int_equal(pxd_tls_sni_pick(st, "t.shop.example"), 0);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_reads_the_host_name),
		cmocka_unit_test(test_parse_refuses_every_truncation_and_bad_bytes),
		cmocka_unit_test(test_match_exact_and_one_label_wildcards),
		cmocka_unit_test(test_pick_falls_back_to_the_default_or_refuses),
	};

	return cmocka_run_group_tests_name("tls_sni", tests, NULL, NULL);
}
