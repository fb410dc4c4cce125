/* SPDX-License-Identifier: MIT */
/*
 * http_parse_test.h - the hostile-input fixture of the HTTP parser tests
 * (header-only, tests only). Every input is placed so its last byte is the
 * last byte before a PROT_NONE page, and is also fed as every truncated
 * prefix: a prefix must answer -EAGAIN, or the refusal the whole input gets
 * once that refusal is decidable (and keep it from then on). The chunked
 * body scratch ends at a PROT_NONE page too. Include after <cmocka.h>.
 */
#ifndef PXD_HTTP_PARSE_TEST_H
#define PXD_HTTP_PARSE_TEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http_parse.h"

#define REGION_SIZE (160 * 1024) /* largest input: a 64 KiB body plus its head */
#define TEXT_CAP REGION_SIZE

struct http_fx {
	char *region; /* REGION_SIZE bytes, then the guard page */
	char *guard;
	char *scratch_map;
	char *scratch; /* PXD_HTTP_MAX_BODY bytes, then a guard page */
	char *text;    /* inputs are built here, then placed before <guard> */
	size_t text_len;
	size_t page;
	struct pxd_http_req req;
};

#define LIT(s) s, sizeof(s) - 1

#define assert_sv(sv, lit)                                        \
	do {                                                      \
		struct pxd_sv sv_ = (sv);                         \
		assert_non_null(sv_.p);                           \
		assert_int_equal(sv_.n, sizeof(lit) - 1);         \
		assert_memory_equal(sv_.p, lit, sizeof(lit) - 1); \
	} while (0)

static inline char *map_guarded(size_t size, size_t page)
{
	char *m =
	    mmap(NULL, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
	if (mprotect(m + size, page, PROT_NONE)) {
		munmap(m, size + page);
		return NULL;
	}
	return m;
}

static inline int http_group_setup(void **state)
{
	struct http_fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->page = (size_t)sysconf(_SC_PAGESIZE);
	fx->region = map_guarded(REGION_SIZE, fx->page);
	fx->scratch_map = map_guarded(PXD_HTTP_MAX_BODY, fx->page);
	fx->text = malloc(TEXT_CAP);
	if (!fx->region || !fx->scratch_map || !fx->text)
		return -1;
	fx->guard = fx->region + REGION_SIZE;
	fx->scratch = fx->scratch_map;
	*state = fx;
	return 0;
}

static inline int http_group_teardown(void **state)
{
	struct http_fx *fx = *state;

	munmap(fx->region, REGION_SIZE + fx->page);
	munmap(fx->scratch_map, PXD_HTTP_MAX_BODY + fx->page);
	free(fx->text);
	free(fx);
	return 0;
}

/* Input building, into fx->text. */
static inline void text_reset(struct http_fx *fx)
{
	fx->text_len = 0;
}

static inline void put(struct http_fx *fx, const char *s, size_t n)
{
	assert_true(fx->text_len + n <= TEXT_CAP);
	memcpy(fx->text + fx->text_len, s, n);
	fx->text_len += n;
}

static inline void put_str(struct http_fx *fx, const char *s)
{
	put(fx, s, strlen(s));
}

static inline void put_fill(struct http_fx *fx, char c, size_t n)
{
	assert_true(fx->text_len + n <= TEXT_CAP);
	memset(fx->text + fx->text_len, c, n);
	fx->text_len += n;
}

/* Places <in, n> so it ends at the guard page and parses it. */
static inline ssize_t parse_tail(struct http_fx *fx, const char *in, size_t n, enum pxd_refusal *r)
{
	char *at = fx->guard - n;

	assert_true(n <= REGION_SIZE);
	memmove(at, in, n);
	return pxd_http_parse_request(at, n, &fx->req, fx->scratch, PXD_HTTP_MAX_BODY, r);
}

/* Every strict prefix of <in> is incomplete; the whole of it is one request.
 * fx->req then holds the parse of the whole input. */
static inline void expect_complete(struct http_fx *fx, const char *in, size_t n)
{
	enum pxd_refusal r;
	ssize_t got;

	for (size_t k = 0; k < n; k++) {
		got = parse_tail(fx, in, k, &r);
		if (got != -EAGAIN) {
			print_error("prefix %zu of %zu: got %zd (refusal %d), want -EAGAIN\n", k, n,
				    got, (int)r);
			fail();
		}
		assert_int_equal(r, PXD_REFUSAL_NONE);
	}
	got = parse_tail(fx, in, n, &r);
	if (got != (ssize_t)n) {
		print_error("whole input of %zu: got %zd (refusal %d)\n", n, got, (int)r);
		fail();
	}
	assert_int_equal(r, PXD_REFUSAL_NONE);
}

/*
 * <in> is refused with <want> and status <status>; every prefix answers
 * -EAGAIN until one is refused, and from there every longer prefix gets the
 * same refusal. Returns the length of the shortest refused prefix.
 */
static inline size_t expect_refused(struct http_fx *fx, const char *in, size_t n,
				    enum pxd_refusal want, unsigned status)
{
	size_t first = n + 1;
	enum pxd_refusal r;
	ssize_t got;

	for (size_t k = 0; k <= n; k++) {
		got = parse_tail(fx, in, k, &r);
		if (got == -EPROTO && r == want) {
			if (first > n)
				first = k;
			continue;
		}
		if (got != -EAGAIN || first <= n) {
			print_error("prefix %zu of %zu: got %zd (refusal %s), want %s%s\n", k, n,
				    got, pxd_refusal_info(r)->code, first <= n ? "" : "-EAGAIN or ",
				    pxd_refusal_info(want)->code);
			fail();
		}
	}
	assert_true(first <= n);
	assert_int_equal(pxd_refusal_info(want)->status, status);
	return first;
}

static inline void expect_text_complete(struct http_fx *fx)
{
	expect_complete(fx, fx->text, fx->text_len);
}

static inline size_t expect_text_refused(struct http_fx *fx, enum pxd_refusal want, unsigned status)
{
	return expect_refused(fx, fx->text, fx->text_len, want, status);
}

#endif
