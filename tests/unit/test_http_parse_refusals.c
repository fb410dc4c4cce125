// SPDX-License-Identifier: MIT
/* The HTTP/1.1 request parser's refusals: each bad request line, method,
 * version, target, header, framing and chunk, with its reason and status. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "http_parse_test.h"

struct refusal_case {
	const char *in;
	enum pxd_refusal want;
};

static void expect_cases(struct http_fx *fx, const struct refusal_case *cases, size_t n,
			 unsigned status)
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
	struct http_fx *fx = *state;

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
	struct http_fx *fx = *state;

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
	struct http_fx *fx = *state;

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
	struct http_fx *fx = *state;

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
	struct http_fx *fx = *state;
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
	struct http_fx *fx = *state;
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
	struct http_fx *fx = *state;
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
	struct http_fx *fx = *state;
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
	struct http_fx *fx = *state;

	expect_cases(fx, cases, sizeof(cases) / sizeof(cases[0]), 411);
	for (size_t i = 0; i < sizeof(empty_body) / sizeof(empty_body[0]); i++) {
		expect_complete(fx, empty_body[i], strlen(empty_body[i]));
		assert_int_equal(fx->req.body.n, 0);
		assert_false(fx->req.has_content_length);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
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
		cmocka_unit_test(test_length_required),
	};

	return cmocka_run_group_tests_name("http_parse_refusals", tests, http_group_setup,
					   http_group_teardown);
}
