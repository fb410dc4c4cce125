// SPDX-License-Identifier: MIT
/*
 * Hostile tests for the HTTP/1.1 request parser. Every input is placed so its
 * last byte is the last byte before a PROT_NONE page, and is also fed as
 * every truncated prefix: a prefix must answer -EAGAIN, or the refusal the
 * whole input gets once that refusal is decidable (and keep it from then on).
 * The chunked body scratch ends at a PROT_NONE page too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http_parse.h"

#define REGION_SIZE (160 * 1024) /* largest input: a 64 KiB body plus its head */
#define TEXT_CAP REGION_SIZE

struct fx {
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

static char *map_guarded(size_t size, size_t page)
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

static int group_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

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

static int group_teardown(void **state)
{
	struct fx *fx = *state;

	munmap(fx->region, REGION_SIZE + fx->page);
	munmap(fx->scratch_map, PXD_HTTP_MAX_BODY + fx->page);
	free(fx->text);
	free(fx);
	return 0;
}

/* Input building, into fx->text. */
static void text_reset(struct fx *fx)
{
	fx->text_len = 0;
}

static void put(struct fx *fx, const char *s, size_t n)
{
	assert_true(fx->text_len + n <= TEXT_CAP);
	memcpy(fx->text + fx->text_len, s, n);
	fx->text_len += n;
}

static void put_str(struct fx *fx, const char *s)
{
	put(fx, s, strlen(s));
}

static void put_fill(struct fx *fx, char c, size_t n)
{
	assert_true(fx->text_len + n <= TEXT_CAP);
	memset(fx->text + fx->text_len, c, n);
	fx->text_len += n;
}

/* Places <in, n> so it ends at the guard page and parses it. */
static ssize_t parse_tail(struct fx *fx, const char *in, size_t n, enum pxd_refusal *r)
{
	char *at = fx->guard - n;

	assert_true(n <= REGION_SIZE);
	memmove(at, in, n);
	return pxd_http_parse_request(at, n, &fx->req, fx->scratch, PXD_HTTP_MAX_BODY, r);
}

/* Every strict prefix of <in> is incomplete; the whole of it is one request.
 * fx->req then holds the parse of the whole input. */
static void expect_complete(struct fx *fx, const char *in, size_t n)
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
static size_t expect_refused(struct fx *fx, const char *in, size_t n, enum pxd_refusal want,
			     unsigned status)
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

static void expect_text_complete(struct fx *fx)
{
	expect_complete(fx, fx->text, fx->text_len);
}

static size_t expect_text_refused(struct fx *fx, enum pxd_refusal want, unsigned status)
{
	return expect_refused(fx, fx->text, fx->text_len, want, status);
}

static void test_get_with_query_parses_views(void **state)
{
	static const char in[] = "GET /p.gif?e=view&k=1 HTTP/1.1\r\nHost: t.example\r\n\r\n";
	struct fx *fx = *state;
	struct pxd_http_req *req = &fx->req;

	expect_complete(fx, LIT(in));
	assert_int_equal(req->method, PXD_HTTP_GET);
	assert_sv(req->method_name, "GET");
	assert_sv(req->target, "/p.gif?e=view&k=1");
	assert_sv(req->path, "/p.gif");
	assert_sv(req->query, "e=view&k=1");
	assert_int_equal(req->minor_version, 1);
	assert_int_equal(req->nheaders, 1);
	assert_sv(req->headers[0].name, "Host");
	assert_sv(req->host, "t.example");
	assert_true(req->keep_alive);
	assert_false(req->chunked);
	assert_false(req->has_content_length);
	assert_int_equal(req->head_len, sizeof(in) - 1);
	assert_int_equal(req->body.n, 0);
	assert_null(req->origin.p);
	assert_null(req->cookie.p);
}

static void test_method_names_map(void **state)
{
	static const struct {
		const char *in;
		enum pxd_http_method method;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_HTTP_GET },
		{ "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_HTTP_HEAD },
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", PXD_HTTP_POST },
		{ "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_HTTP_OPTIONS },
		{ "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", PXD_HTTP_PUT },
		{ "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_HTTP_DELETE },
		{ "PATCH / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_HTTP_OTHER },
		{ "get / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_HTTP_OTHER },
		{ "GETS / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_HTTP_OTHER },
		{ "M-SEARCH! / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_HTTP_OTHER },
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_complete(fx, cases[i].in, strlen(cases[i].in));
		assert_int_equal(fx->req.method, cases[i].method);
		assert_int_equal(fx->req.method_name.n, strcspn(cases[i].in, " "));
	}
}

static void test_post_content_length_body_in_place(void **state)
{
	static const char in[] = "POST /e HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
				 "Content-Length: 11\r\n\r\n{\"e\":\"buy\"}";
	struct fx *fx = *state;
	struct pxd_http_req *req = &fx->req;

	expect_complete(fx, LIT(in));
	assert_int_equal(req->method, PXD_HTTP_POST);
	assert_true(req->has_content_length);
	assert_int_equal(req->content_length, 11);
	assert_sv(req->body, "{\"e\":\"buy\"}");
	assert_ptr_equal(req->body.p, fx->guard - 11);
	assert_sv(req->content_type, "text/plain");
	assert_int_equal(req->head_len, sizeof(in) - 1 - 11);
}

static void test_post_chunked_extensions_trailers_decoded(void **state)
{
	static const char in[] = "POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "5;a=b;flag\r\nhello\r\n"
				 "1 ; q = \"x\\\"y;z\" \t;r\r\n \r\n"
				 "0006\r\nworld!\r\n"
				 "A\r\n0123456789\r\n"
				 "0;last=1\r\nX-Trailer: t\r\nContent-Length: 99\r\n\r\n";
	struct fx *fx = *state;
	struct pxd_http_req *req = &fx->req;

	expect_complete(fx, LIT(in));
	assert_true(req->chunked);
	assert_false(req->has_content_length);
	assert_sv(req->body, "hello world!0123456789");
	assert_ptr_equal(req->body.p, fx->scratch);
	/* the trailer section neither adds headers nor changes framing */
	assert_int_equal(req->nheaders, 2);
	assert_null(pxd_http_find_header(req, "x-trailer"));
}

static void test_chunked_empty_body(void **state)
{
	static const char in[] = "POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "0\r\n\r\n";
	struct fx *fx = *state;

	expect_complete(fx, LIT(in));
	assert_true(fx->req.chunked);
	assert_int_equal(fx->req.body.n, 0);
}

static void test_options_asterisk(void **state)
{
	static const char in[] = "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n";
	struct fx *fx = *state;

	expect_complete(fx, LIT(in));
	assert_int_equal(fx->req.method, PXD_HTTP_OPTIONS);
	assert_sv(fx->req.target, "*");
	assert_sv(fx->req.path, "*");
	assert_int_equal(fx->req.query.n, 0);
}

static void test_leading_empty_lines_skipped(void **state)
{
	static const char in[] = "\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char five[] = "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct fx *fx = *state;

	expect_complete(fx, LIT(in));
	assert_int_equal(fx->req.head_len, sizeof(in) - 1 - 8);
	assert_sv(fx->req.method_name, "GET");
	assert_int_equal(expect_refused(fx, LIT(five), PXD_REFUSAL_BAD_REQUEST_LINE, 400), 9);
	expect_refused(fx, LIT("\r\n\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		       PXD_REFUSAL_BAD_REQUEST_LINE, 400);
}

static void test_header_views_found(void **state)
{
	static const char in[] = "POST /s2s HTTP/1.1\r\n"
				 "host:  h.example:8080 \r\n"
				 "CONTENT-TYPE: application/json\r\n"
				 "Origin: https://shop.example\r\n"
				 "User-Agent: Mozilla/5.0 (X11; caf\xc3\xa9)\t \r\n"
				 "Referer: https://shop.example/p?x=1\r\n"
				 "Cookie: _pxd=abc\r\n"
				 "Cookie: second=1\r\n"
				 "Authorization: Bearer k\r\n"
				 "X-Forwarded-For: 192.0.2.1, 198.51.100.2\r\n"
				 "Access-Control-Request-Method: POST\r\n"
				 "Access-Control-Request-Headers: content-type\r\n"
				 "X-Empty:\r\n"
				 "X-Tab:\ta\tb\t\r\n"
				 "Content-Length: 2\r\n"
				 "\r\n{}";
	struct fx *fx = *state;
	struct pxd_http_req *req = &fx->req;
	const struct pxd_http_header *h;

	expect_complete(fx, LIT(in));
	assert_int_equal(req->nheaders, 14);
	assert_sv(req->host, "h.example:8080");
	assert_sv(req->content_type, "application/json");
	assert_sv(req->origin, "https://shop.example");
	assert_sv(req->user_agent, "Mozilla/5.0 (X11; caf\xc3\xa9)");
	assert_sv(req->referer, "https://shop.example/p?x=1");
	assert_sv(req->cookie, "_pxd=abc");
	assert_sv(req->authorization, "Bearer k");
	assert_sv(req->x_forwarded_for, "192.0.2.1, 198.51.100.2");
	assert_sv(req->access_control_request_method, "POST");
	assert_sv(req->access_control_request_headers, "content-type");
	h = pxd_http_find_header(req, "x-empty");
	assert_non_null(h);
	assert_non_null(h->value.p);
	assert_int_equal(h->value.n, 0);
	h = pxd_http_find_header(req, "X-TAB");
	assert_non_null(h);
	assert_sv(h->value, "a\tb");
	h = pxd_http_find_header(req, "cookie");
	assert_ptr_equal(h, &req->headers[5]);
	assert_sv(req->headers[6].value, "second=1");
	assert_null(pxd_http_find_header(req, "x-missing"));
	assert_null(pxd_http_find_header(req, "x-empt"));
	assert_sv(req->body, "{}");
}

/* Three requests back to back, each with what the parse must find. */
static const char pipeline[] = "GET /p.gif?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"
			       "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
			       "\r\n" /* the CRLF some clients add after a body */
			       "POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
			       "Connection: close\r\n\r\n"
			       "3;x=y\r\nsec\r\n3\r\nond\r\n0\r\n\r\n";
static const struct {
	size_t len;
	const char *target;
	const char *body;
	bool keep_alive;
} pipeline_want[] = {
	{ 36, "/p.gif?a=1", "", true },
	{ 53, "/e", "first", true },
	{ 103, "/e", "second", false },
};

static void check_pipelined(const struct pxd_http_req *req, size_t i, ssize_t got)
{
	assert_true(i < 3);
	assert_int_equal(got, pipeline_want[i].len);
	assert_int_equal(req->target.n, strlen(pipeline_want[i].target));
	assert_memory_equal(req->target.p, pipeline_want[i].target, req->target.n);
	assert_int_equal(req->body.n, strlen(pipeline_want[i].body));
	assert_memory_equal(req->body.p, pipeline_want[i].body, req->body.n);
	assert_int_equal(req->keep_alive, pipeline_want[i].keep_alive);
}

static void test_pipelined_three_back_to_back(void **state)
{
	struct fx *fx = *state;
	size_t off = 0, n = sizeof(pipeline) - 1;
	enum pxd_refusal r;

	assert_int_equal(n, 36 + 53 + 103);
	for (size_t i = 0; i < 3; i++) {
		ssize_t got = parse_tail(fx, pipeline + off, n - off, &r);

		check_pipelined(&fx->req, i, got);
		off += (size_t)got;
	}
	assert_int_equal(off, n);
}

/* As a connection sees it: the first <split> bytes, then all the rest. */
static void test_pipelined_split_at_every_byte(void **state)
{
	struct fx *fx = *state;
	size_t n = sizeof(pipeline) - 1;

	for (size_t split = 0; split <= n; split++) {
		size_t off = 0, avail = split, done = 0;
		enum pxd_refusal r;

		while (off < n) {
			ssize_t got = parse_tail(fx, pipeline + off, avail - off, &r);

			if (got == -EAGAIN) {
				assert_true(avail < n);
				avail = n;
				continue;
			}
			check_pipelined(&fx->req, done++, got);
			off += (size_t)got;
		}
		assert_int_equal(done, 3);
	}
}

static void test_keep_alive_rules(void **state)
{
	static const struct {
		const char *in;
		bool keep_alive;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", true },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, CLOSE\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade ,close \r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: te\r\nConnection: close\r\n\r\n",
		  false },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n", true },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\t, te\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: ,, close,\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\n\r\n", false },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: x, keep-alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive-ish\r\n\r\n", false },
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_complete(fx, cases[i].in, strlen(cases[i].in));
		if (fx->req.keep_alive != cases[i].keep_alive) {
			print_error("case %zu: keep_alive %d\n", i, fx->req.keep_alive);
			fail();
		}
	}
}

struct refusal_case {
	const char *in;
	enum pxd_refusal want;
};

static void expect_cases(struct fx *fx, const struct refusal_case *cases, size_t n, unsigned status)
{
	for (size_t i = 0; i < n; i++)
		expect_refused(fx, cases[i].in, strlen(cases[i].in), cases[i].want, status);
}

static void test_bad_request_line_refused(void **state)
{
	static const struct refusal_case cases[] = {
		{ "GET / HTTP/1.1\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_REQUEST_LINE },
		{ "GET / HTTP/1.1\rHost: x\r\n\r\n", PXD_REFUSAL_BAD_REQUEST_LINE },
		{ "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_REQUEST_LINE },
		{ "GET /\r\n\r\n", PXD_REFUSAL_BAD_REQUEST_LINE },
		{ "GET /\n\n", PXD_REFUSAL_BAD_REQUEST_LINE },
		{ "GET\r\n\r\n", PXD_REFUSAL_BAD_REQUEST_LINE },
		{ "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_REQUEST_LINE },
		{ "GET / HTTP/1.10\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_REQUEST_LINE },
		{ "GET / HTTP/1.1\x0b\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_REQUEST_LINE },
		{ "\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_REQUEST_LINE },
		{ "\r\rGET / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_REQUEST_LINE },
	};

	expect_cases(*state, cases, sizeof(cases) / sizeof(cases[0]), 400);
}

static void test_bad_method_refused(void **state)
{
	static const struct refusal_case cases[] = {
		{ " GET / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_METHOD },
		{ "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_METHOD },
		{ "GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_METHOD },
		{ "G\xc3\x89T / HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_METHOD },
		{ "GET/ HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_METHOD },
	};
	struct fx *fx = *state;

	expect_cases(fx, cases, sizeof(cases) / sizeof(cases[0]), 400);
	/* strlen would stop at a NUL: fed with its length */
	expect_refused(fx, LIT("GE\x00T / HTTP/1.1\r\nHost: x\r\n\r\n"), PXD_REFUSAL_BAD_METHOD,
		       400);
}

static void test_bad_version_refused(void **state)
{
	static const struct refusal_case cases[] = {
		{ "GET / HTTP/2.0\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_VERSION },
		{ "GET / HTTP/1.2\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_VERSION },
		{ "GET / HTTP/0.9\r\n\r\n", PXD_REFUSAL_BAD_VERSION },
		{ "GET / http/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_VERSION },
		{ "GET / HTTPS/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_VERSION },
		{ "GET / HTTP/1.x\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_VERSION },
		{ "GET / \r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_VERSION },
	};

	expect_cases(*state, cases, sizeof(cases) / sizeof(cases[0]), 400);
}

static void test_bad_target_refused(void **state)
{
	static const struct refusal_case cases[] = {
		{ "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_TARGET },
		{ "CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_TARGET },
		{ "GET * HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_TARGET },
		{ "OPTIONS *x HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_TARGET },
		{ "OPTIONS */ HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_TARGET },
		{ "OPTIONS h HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_TARGET },
		{ "GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_TARGET },
		{ "GET /a\x7f HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_TARGET },
		{ "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_TARGET },
		{ "GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_TARGET },
		{ "GET /aaaaaaaaaaaaaaaaaaa\x1b HTTP/1.1\r\nHost: x\r\n\r\n",
		  PXD_REFUSAL_BAD_TARGET },
		{ "GET /aaaaaaaaaaaaaaa\xff HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_BAD_TARGET },
	};
	struct fx *fx = *state;

	expect_cases(fx, cases, sizeof(cases) / sizeof(cases[0]), 400);
	expect_refused(fx, LIT("GET /a\x00 HTTP/1.1\r\nHost: x\r\n\r\n"), PXD_REFUSAL_BAD_TARGET,
		       400);
}

static void test_bad_header_refused(void **state)
{
	static const struct refusal_case cases[] = {
		{ "GET / HTTP/1.1\r\nHost : x\r\n\r\n", PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n", PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\r\nX(A: b\r\n\r\n", PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nX-B: b\r\n\r\n", PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\n\r\n", PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\r\n\n", PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\r\n\rX", PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01\n\r\n", PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7f\r\n\r\n", PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\r\nX-A: 0123456789\x7f"
		  "abcdefghijklmnop\r\n\r\n",
		  PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\r\nX-A: 0123456789abcdef\x01\r\n\r\n",
		  PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\r\nX-A: 0123456789abcdef0123\x1f\r\n\r\n",
		  PXD_REFUSAL_BAD_HEADER },
		{ "GET / HTTP/1.1\r\nHost: x\r\nX\xc3\xa9: a\r\n\r\n", PXD_REFUSAL_BAD_HEADER },
	};
	struct fx *fx = *state;

	expect_cases(fx, cases, sizeof(cases) / sizeof(cases[0]), 400);
	expect_refused(fx,
		       LIT("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00"
			   "b\r\n\r\n"),
		       PXD_REFUSAL_BAD_HEADER, 400);
}

static void test_obs_fold_refused(void **state)
{
	static const struct refusal_case cases[] = {
		{ "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n", PXD_REFUSAL_OBS_FOLD },
		{ "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tfolded\r\n\r\n", PXD_REFUSAL_OBS_FOLD },
		{ "GET / HTTP/1.1\r\n Host: x\r\n\r\n", PXD_REFUSAL_OBS_FOLD },
		{ "GET / HTTP/1.1\r\nHost: x\r\n\t\n", PXD_REFUSAL_OBS_FOLD },
	};

	expect_cases(*state, cases, sizeof(cases) / sizeof(cases[0]), 400);
}

static void test_host_rules(void **state)
{
	static const struct refusal_case cases[] = {
		{ "GET / HTTP/1.1\r\n\r\n", PXD_REFUSAL_MISSING_HOST },
		{ "GET / HTTP/1.1\r\nX-Host: x\r\n\r\n", PXD_REFUSAL_MISSING_HOST },
		{ "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", PXD_REFUSAL_MISSING_HOST },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", PXD_REFUSAL_MISSING_HOST },
		{ "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", PXD_REFUSAL_MISSING_HOST },
	};
	struct fx *fx = *state;

	expect_cases(fx, cases, sizeof(cases) / sizeof(cases[0]), 400);
	expect_complete(fx, LIT("GET / HTTP/1.0\r\n\r\n"));
	assert_null(fx->req.host.p);
	assert_int_equal(fx->req.minor_version, 0);
	expect_complete(fx, LIT("GET / HTTP/1.0\r\nHost: a\r\n\r\n"));
	assert_sv(fx->req.host, "a");
	expect_complete(fx, LIT("GET / HTTP/1.1\r\nHOST:\r\n\r\n"));
	assert_non_null(fx->req.host.p);
	assert_int_equal(fx->req.host.n, 0);
}

static void test_cl_and_te_refused(void **state)
{
	static const struct refusal_case cases[] = {
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n",
		  PXD_REFUSAL_CL_AND_TE },
		{ "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
		  "Content-Length: 3\r\n\r\n",
		  PXD_REFUSAL_CL_AND_TE },
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
		  "Transfer-Encoding: gzip\r\n\r\n",
		  PXD_REFUSAL_CL_AND_TE },
	};

	expect_cases(*state, cases, sizeof(cases) / sizeof(cases[0]), 400);
}

static void test_content_length_rules(void **state)
{
	static const char *const bad[] = {
		"-1",
		"+1",
		"1 2",
		"",
		"0x10",
		"1.0",
		"5, 6",
		"5,",
		",5",
		"5,,5",
		"5;5",
		"99999999999999999999999",
		"18446744073709551616",
	};
	static const char *const same[] = { "5, 5", "5 ,5,5", "05" };
	struct fx *fx = *state;
	char in[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(in, sizeof(in),
			 "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\n\r\nhello", bad[i]);
		expect_refused(fx, in, strlen(in), PXD_REFUSAL_BAD_CONTENT_LENGTH, 400);
	}
	expect_refused(fx,
		       LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
			   "Content-Length: 6\r\n\r\nhello"),
		       PXD_REFUSAL_BAD_CONTENT_LENGTH, 400);
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		snprintf(in, sizeof(in),
			 "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\n"
			 "Content-Length: 5\r\n\r\nhello",
			 same[i]);
		expect_complete(fx, in, strlen(in));
		assert_int_equal(fx->req.content_length, 5);
		assert_sv(fx->req.body, "hello");
	}
	expect_complete(fx, LIT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
	assert_true(fx->req.has_content_length);
	assert_int_equal(fx->req.body.n, 0);
	/* the largest value that does not overflow is a size, then too large */
	expect_refused(fx,
		       LIT("POST / HTTP/1.1\r\nHost: x\r\n"
			   "Content-Length: 18446744073709551615\r\n\r\n"),
		       PXD_REFUSAL_BODY_TOO_LARGE, 413);
}

static void test_transfer_encoding_rules(void **state)
{
	static const char *const bad[] = {
		"gzip", "chunked, chunked", "identity", "gzip, chunked", "chunked;q=1",
		"",	"chunkedx",
	};
	struct fx *fx = *state;
	char in[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(in, sizeof(in),
			 "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: %s\r\n\r\n0\r\n\r\n",
			 bad[i]);
		expect_refused(fx, in, strlen(in), PXD_REFUSAL_UNSUPPORTED_TE, 501);
	}
	expect_refused(fx,
		       LIT("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
		       PXD_REFUSAL_UNSUPPORTED_TE, 501);
	expect_refused(fx, LIT("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
		       PXD_REFUSAL_UNSUPPORTED_TE, 501);
	expect_refused(fx,
		       LIT("POST / HTTP/1.0\r\nContent-Length: 1\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
		       PXD_REFUSAL_UNSUPPORTED_TE, 501);
	expect_complete(fx, LIT("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  CHUNKED \r\n"
				"\r\n1\r\na\r\n0\r\n\r\n"));
	assert_true(fx->req.chunked);
	assert_sv(fx->req.body, "a");
}

static void test_bad_chunk_refused(void **state)
{
	static const char *const bad[] = {
		"\r\n",
		" 1\r\na\r\n0\r\n\r\n",
		"1\na\r\n0\r\n\r\n",
		"1\r\nab\r\n0\r\n\r\n",
		"1\r\na\n0\r\n\r\n",
		"00000000000000001\r\na\r\n0\r\n\r\n",
		"1 \r\na\r\n0\r\n\r\n",
		"1;\r\na\r\n0\r\n\r\n",
		"1;a=\r\na\r\n0\r\n\r\n",
		"1;a b\r\na\r\n0\r\n\r\n",
		"1;a \r\na\r\n0\r\n\r\n",
		"1\x01\na\r\n0\r\n\r\n",
		"1;a=b \r\na\r\n0\r\n\r\n",
		"1;a=\"x\x01\"\r\na\r\n0\r\n\r\n",
		"1;a=\"x\r\na\r\n0\r\n\r\n",
		"1;a=b c\r\na\r\n0\r\n\r\n",
		"1;a\n\r\na\r\n0\r\n\r\n",
		"g\r\na\r\n0\r\n\r\n",
		"-1\r\na\r\n0\r\n\r\n",
		"0x1\r\na\r\n0\r\n\r\n",
		"1\r\na\r\n0\r\n\rX",
	};
	static const char head[] =
	    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct fx *fx = *state;
	char in[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(in, sizeof(in), "%s%s", head, bad[i]);
		expect_refused(fx, in, strlen(in),
			       i + 1 == sizeof(bad) / sizeof(bad[0]) ? PXD_REFUSAL_BAD_HEADER
								     : PXD_REFUSAL_BAD_CHUNK,
			       400);
	}
	/* sixteen digits with zero padding are still a size */
	snprintf(in, sizeof(in), "%s0000000000000001\r\na\r\n0\r\n\r\n", head);
	expect_complete(fx, in, strlen(in));
	assert_sv(fx->req.body, "a");
}

static void test_trailer_rules(void **state)
{
	static const char head[] =
	    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "1\r\na\r\n0\r\n";
	struct fx *fx = *state;
	size_t line65;

	text_reset(fx);
	put_str(fx, head);
	for (int i = 0; i < PXD_HTTP_MAX_HEADERS; i++)
		put_str(fx, "T: v\r\n");
	line65 = fx->text_len;
	put_str(fx, "\r\n");
	expect_text_complete(fx);
	assert_sv(fx->req.body, "a");

	fx->text_len = line65;
	put_str(fx, "T: v\r\n\r\n");
	assert_int_equal(expect_text_refused(fx, PXD_REFUSAL_TOO_MANY_HEADERS, 431), line65 + 1);

	expect_refused(fx,
		       LIT("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "0\r\nT: v\r\n folded\r\n\r\n"),
		       PXD_REFUSAL_OBS_FOLD, 400);
	expect_refused(fx,
		       LIT("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "0\r\nT : v\r\n\r\n"),
		       PXD_REFUSAL_BAD_HEADER, 400);
}

static void put_get_head(struct fx *fx, size_t target_len)
{
	text_reset(fx);
	put_str(fx, "GET /");
	put_fill(fx, 'a', target_len - 1);
}

static void test_uri_limit(void **state)
{
	struct fx *fx = *state;

	put_get_head(fx, PXD_HTTP_MAX_URI);
	put_str(fx, "?q HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(expect_text_refused(fx, PXD_REFUSAL_URI_TOO_LONG, 414),
			 4 + PXD_HTTP_MAX_URI + 1);

	put_get_head(fx, PXD_HTTP_MAX_URI);
	put_str(fx, " HTTP/1.1\r\nHost: x\r\n\r\n");
	expect_text_complete(fx);
	assert_int_equal(fx->req.target.n, PXD_HTTP_MAX_URI);
	assert_int_equal(fx->req.query.n, 0);

	/* refused while the target is still arriving, not when it ends */
	put_get_head(fx, PXD_HTTP_MAX_URI + 1);
	assert_int_equal(expect_text_refused(fx, PXD_REFUSAL_URI_TOO_LONG, 414), fx->text_len);
}

/* A head of <head_len> bytes: request line, Host, one padding field. */
static void put_head_of(struct fx *fx, size_t head_len)
{
	static const char start[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ";

	text_reset(fx);
	put_str(fx, start);
	put_fill(fx, 'p', head_len - (sizeof(start) - 1) - 4);
	put_str(fx, "\r\n\r\n");
	assert_int_equal(fx->text_len, head_len);
}

static void test_head_limit(void **state)
{
	struct fx *fx = *state;

	put_head_of(fx, PXD_HTTP_MAX_HEAD);
	expect_text_complete(fx);
	assert_int_equal(fx->req.head_len, PXD_HTTP_MAX_HEAD);

	put_head_of(fx, PXD_HTTP_MAX_HEAD + 1);
	assert_int_equal(expect_text_refused(fx, PXD_REFUSAL_HEADERS_TOO_LARGE, 431),
			 PXD_HTTP_MAX_HEAD);

	/* leading empty lines are not part of the head */
	put_head_of(fx, PXD_HTTP_MAX_HEAD);
	memmove(fx->text + 2, fx->text, fx->text_len);
	memcpy(fx->text, "\r\n", 2);
	fx->text_len += 2;
	expect_text_complete(fx);
	assert_int_equal(fx->req.head_len, PXD_HTTP_MAX_HEAD);
}

static void test_header_count_limit(void **state)
{
	struct fx *fx = *state;
	size_t line65;

	text_reset(fx);
	put_str(fx, "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int i = 1; i < PXD_HTTP_MAX_HEADERS; i++)
		put_str(fx, "X-N: v\r\n");
	line65 = fx->text_len;
	put_str(fx, "\r\n");
	expect_text_complete(fx);
	assert_int_equal(fx->req.nheaders, PXD_HTTP_MAX_HEADERS);

	fx->text_len = line65;
	put_str(fx, "X-N: v\r\n\r\n");
	assert_int_equal(expect_text_refused(fx, PXD_REFUSAL_TOO_MANY_HEADERS, 431), line65 + 1);
}

static void test_content_length_body_limit(void **state)
{
	static const char head[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n";
	static const char over[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n";
	struct fx *fx = *state;

	text_reset(fx);
	put_str(fx, head);
	put_fill(fx, 'b', PXD_HTTP_MAX_BODY);
	expect_text_complete(fx);
	assert_int_equal(fx->req.body.n, PXD_HTTP_MAX_BODY);

	text_reset(fx);
	put_str(fx, over);
	put_fill(fx, 'b', PXD_HTTP_MAX_BODY + 1);
	/* refused as soon as the head is there, before any of the body */
	assert_int_equal(expect_text_refused(fx, PXD_REFUSAL_BODY_TOO_LARGE, 413),
			 sizeof(over) - 1);
}

static const char chunked_head[] =
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

static void test_chunked_body_limit(void **state)
{
	struct fx *fx = *state;
	size_t at;

	text_reset(fx);
	put_str(fx, chunked_head);
	put_str(fx, "8000\r\n");
	put_fill(fx, 'c', 0x8000);
	put_str(fx, "\r\n8000\r\n");
	put_fill(fx, 'd', 0x8000);
	put_str(fx, "\r\n0\r\n\r\n");
	expect_text_complete(fx);
	assert_int_equal(fx->req.body.n, PXD_HTTP_MAX_BODY);
	assert_int_equal(fx->req.body.p[0x7fff], 'c');
	assert_int_equal(fx->req.body.p[0x8000], 'd');

	text_reset(fx);
	put_str(fx, chunked_head);
	put_str(fx, "8000\r\n");
	put_fill(fx, 'c', 0x8000);
	put_str(fx, "\r\n8001");
	at = fx->text_len;
	put_str(fx, "\r\n");
	put_fill(fx, 'd', 0x8001);
	put_str(fx, "\r\n0\r\n\r\n");
	/* decidable at the size digit that passes the limit */
	assert_int_equal(expect_text_refused(fx, PXD_REFUSAL_BODY_TOO_LARGE, 413), at);

	text_reset(fx);
	put_str(fx, chunked_head);
	put_str(fx, "FFFFFFFFFFFFFFFF\r\n");
	expect_text_refused(fx, PXD_REFUSAL_BODY_TOO_LARGE, 413);
}

/* One chunk whose extension brings the framing to <framing> bytes. */
static void put_chunked_framing(struct fx *fx, size_t framing)
{
	/* "1;x=" + ext + "\r\n" + data + "\r\n" + "0\r\n\r\n": 13 bytes + ext */
	text_reset(fx);
	put_str(fx, chunked_head);
	put_str(fx, "1;x=");
	put_fill(fx, 'e', framing - 13);
	put_str(fx, "\r\nA\r\n0\r\n\r\n");
}

static void test_chunked_framing_limit(void **state)
{
	struct fx *fx = *state;

	put_chunked_framing(fx, PXD_HTTP_MAX_HEAD);
	expect_text_complete(fx);
	assert_sv(fx->req.body, "A");

	put_chunked_framing(fx, PXD_HTTP_MAX_HEAD + 1);
	assert_int_equal(expect_text_refused(fx, PXD_REFUSAL_BODY_TOO_LARGE, 413),
			 fx->text_len - 1);
}

static void test_length_required(void **state)
{
	static const struct refusal_case cases[] = {
		{ "POST /e HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_LENGTH_REQUIRED },
		{ "PUT /e HTTP/1.1\r\nHost: x\r\n\r\n", PXD_REFUSAL_LENGTH_REQUIRED },
		{ "POST /e HTTP/1.0\r\n\r\n", PXD_REFUSAL_LENGTH_REQUIRED },
	};
	static const char *const empty_body[] = {
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",	  "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
		"OPTIONS /e HTTP/1.1\r\nHost: x\r\n\r\n", "DELETE /e HTTP/1.1\r\nHost: x\r\n\r\n",
		"PATCH /e HTTP/1.1\r\nHost: x\r\n\r\n",
	};
	struct fx *fx = *state;

	expect_cases(fx, cases, sizeof(cases) / sizeof(cases[0]), 411);
	for (size_t i = 0; i < sizeof(empty_body) / sizeof(empty_body[0]); i++) {
		expect_complete(fx, empty_body[i], strlen(empty_body[i]));
		assert_int_equal(fx->req.body.n, 0);
		assert_false(fx->req.has_content_length);
	}
}

static void test_get_with_body_read(void **state)
{
	struct fx *fx = *state;

	expect_complete(fx, LIT("GET /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
	assert_int_equal(fx->req.method, PXD_HTTP_GET);
	assert_sv(fx->req.body, "abc");
}

static void test_small_scratch_einval(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct fx *fx = *state;
	enum pxd_refusal r = PXD_REFUSAL_INTERNAL;

	assert_int_equal(pxd_http_parse_request(in, sizeof(in) - 1, &fx->req, fx->scratch, 0, &r),
			 -EINVAL);
	assert_int_equal(pxd_http_parse_request(in, sizeof(in) - 1, &fx->req, fx->scratch,
						PXD_HTTP_MAX_BODY_LIMIT + 1, &r),
			 -EINVAL);
	assert_int_equal(r, PXD_REFUSAL_NONE);
	assert_int_equal(
	    pxd_http_parse_request(in, sizeof(in) - 1, &fx->req, NULL, PXD_HTTP_MAX_BODY, &r),
	    -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_with_query_parses_views),
		cmocka_unit_test(test_method_names_map),
		cmocka_unit_test(test_post_content_length_body_in_place),
		cmocka_unit_test(test_post_chunked_extensions_trailers_decoded),
		cmocka_unit_test(test_chunked_empty_body),
		cmocka_unit_test(test_options_asterisk),
		cmocka_unit_test(test_leading_empty_lines_skipped),
		cmocka_unit_test(test_header_views_found),
		cmocka_unit_test(test_pipelined_three_back_to_back),
		cmocka_unit_test(test_pipelined_split_at_every_byte),
		cmocka_unit_test(test_keep_alive_rules),
		cmocka_unit_test(test_bad_request_line_refused),
		cmocka_unit_test(test_bad_method_refused),
		cmocka_unit_test(test_bad_version_refused),
		cmocka_unit_test(test_bad_target_refused),
		cmocka_unit_test(test_bad_header_refused),
		cmocka_unit_test(test_obs_fold_refused),
		cmocka_unit_test(test_host_rules),
		cmocka_unit_test(test_cl_and_te_refused),
		cmocka_unit_test(test_content_length_rules),
		cmocka_unit_test(test_transfer_encoding_rules),
		cmocka_unit_test(test_bad_chunk_refused),
		cmocka_unit_test(test_trailer_rules),
		cmocka_unit_test(test_uri_limit),
		cmocka_unit_test(test_head_limit),
		cmocka_unit_test(test_header_count_limit),
		cmocka_unit_test(test_content_length_body_limit),
		cmocka_unit_test(test_chunked_body_limit),
		cmocka_unit_test(test_chunked_framing_limit),
		cmocka_unit_test(test_length_required),
		cmocka_unit_test(test_get_with_body_read),
		cmocka_unit_test(test_small_scratch_einval),
	};

	return cmocka_run_group_tests_name("http_parse", tests, group_setup, group_teardown);
}
