// SPDX-License-Identifier: MIT
/* The HTTP/1.1 request parser's limits, each at its edge: URI, head,
 * header count, bodies and chunked framing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "http_parse_test.h"

static void put_get_head(struct http_fx *fx, size_t target_len)
{
	text_reset(fx);
	put_str(fx, "GET /");
	put_fill(fx, 'a', target_len - 1);
}

static void test_uri_limit(void **state)
{
	struct http_fx *fx = *state;

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
static void put_head_of(struct http_fx *fx, size_t head_len)
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
	struct http_fx *fx = *state;

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
	struct http_fx *fx = *state;
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
	struct http_fx *fx = *state;

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
	struct http_fx *fx = *state;
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
static void put_chunked_framing(struct http_fx *fx, size_t framing)
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
	struct http_fx *fx = *state;

	put_chunked_framing(fx, PXD_HTTP_MAX_HEAD);
	expect_text_complete(fx);
	assert_sv(fx->req.body, "A");

	put_chunked_framing(fx, PXD_HTTP_MAX_HEAD + 1);
	assert_int_equal(expect_text_refused(fx, PXD_REFUSAL_BODY_TOO_LARGE, 413),
			 fx->text_len - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_limit),
		cmocka_unit_test(test_head_limit),
		cmocka_unit_test(test_header_count_limit),
		cmocka_unit_test(test_content_length_body_limit),
		cmocka_unit_test(test_chunked_body_limit),
		cmocka_unit_test(test_chunked_framing_limit),
	};

	return cmocka_run_group_tests_name("http_parse_limits", tests, http_group_setup,
					   http_group_teardown);
}
