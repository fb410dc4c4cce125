// SPDX-License-Identifier: MIT
/*
 * The HTTP/1.1 request parser on requests it accepts: views into the input,
 * bodies in place or decoded, pipelining split at every byte, keep-alive.
 * Refusals and limits are in test_http_parse_refusals.c and _limits.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "http_parse_test.h"

static void test_get_with_query_parses_views(void **state)
{
	static const char in[] = "GET /p.gif?e=view&k=1 HTTP/1.1\r\nHost: t.example\r\n\r\n";
	struct http_fx *fx = *state;
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
	struct http_fx *fx = *state;

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
	struct http_fx *fx = *state;
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
	struct http_fx *fx = *state;
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
	struct http_fx *fx = *state;

	expect_complete(fx, LIT(in));
	assert_true(fx->req.chunked);
	assert_int_equal(fx->req.body.n, 0);
}

static void test_options_asterisk(void **state)
{
	static const char in[] = "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http_fx *fx = *state;

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
	struct http_fx *fx = *state;

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
	struct http_fx *fx = *state;
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
	struct http_fx *fx = *state;
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
	struct http_fx *fx = *state;
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
	struct http_fx *fx = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_complete(fx, cases[i].in, strlen(cases[i].in));
		if (fx->req.keep_alive != cases[i].keep_alive) {
			print_error("case %zu: keep_alive %d\n", i, fx->req.keep_alive);
			fail();
		}
	}
}

static void test_get_with_body_read(void **state)
{
	struct http_fx *fx = *state;

	expect_complete(fx, LIT("GET /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
	assert_int_equal(fx->req.method, PXD_HTTP_GET);
	assert_sv(fx->req.body, "abc");
}

static void test_small_scratch_einval(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http_fx *fx = *state;
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
		cmocka_unit_test(test_get_with_body_read),
		cmocka_unit_test(test_small_scratch_einval),
	};

	return cmocka_run_group_tests_name("http_parse", tests, http_group_setup,
					   http_group_teardown);
}
