// SPDX-License-Identifier: MIT
/*
 * Hostile tests for pixelload's response framing (bench/pixelload/response.c).
 * Every read is placed so its last byte is the last byte before a PROT_NONE
 * page. Each input is fed whole, then byte by byte, in reads of 2, 3, 7 and
 * 64 bytes, and cut in two at every offset: every way must find the same
 * answers ending at the same offsets, the same final state, and the same
 * error. Every strict prefix must find a leading part of those answers and
 * no error unless the whole input has one.
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

#include "bench/pixelload/response.h"

#define REGION_SIZE (64 * 1024) /* the longest read */
#define MAX_ANSWERS 16

#define LIT(s) s, sizeof(s) - 1

struct fx {
	char *region; /* REGION_SIZE bytes, then the guard page */
	char *guard;
	size_t page;
};

/* What feeding one input found. */
struct run {
	size_t n; /* answers */
	uint16_t status[MAX_ANSWERS];
	bool close[MAX_ANSWERS];
	size_t end[MAX_ANSWERS]; /* input offset right after each answer */
	size_t pos;		 /* bytes consumed */
	int err;		 /* 0 or what pl_resp_feed() returned */
	uint8_t state;		 /* the parser's state after the last read */
};

static int group_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char *m;

	if (!fx)
		return -1;
	fx->page = (size_t)sysconf(_SC_PAGESIZE);
	m = mmap(NULL, REGION_SIZE + fx->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (m == MAP_FAILED || mprotect(m + REGION_SIZE, fx->page, PROT_NONE))
		return -1;
	fx->region = m;
	fx->guard = m + REGION_SIZE;
	*state = fx;
	return 0;
}

static int group_teardown(void **state)
{
	struct fx *fx = *state;

	munmap(fx->region, REGION_SIZE + fx->page);
	free(fx);
	return 0;
}

/* One read of <in, n>, placed against the guard page, fed until it is used up. */
static void feed_read(struct fx *fx, struct pl_resp *p, const char *in, size_t n, struct run *r)
{
	char *at = fx->guard - n;
	size_t off = 0;

	assert_true(n <= REGION_SIZE);
	memcpy(at, in, n);
	while (off < n && !r->err) {
		bool done = true;
		ssize_t got = pl_resp_feed(p, at + off, n - off, &done);

		if (got < 0) {
			assert_false(done);
			r->err = (int)got;
			break;
		}
		assert_true(got > 0 && (size_t)got <= n - off);
		off += (size_t)got;
		r->pos += (size_t)got;
		if (done) {
			assert_true(r->n < MAX_ANSWERS);
			r->status[r->n] = p->status;
			r->close[r->n] = p->close;
			r->end[r->n] = r->pos;
			r->n++;
		} else {
			assert_int_equal(off, n); /* a read stops early only at an answer's end */
		}
	}
	r->state = p->state;
}

/* Feeds the first <n> bytes of <in> to a fresh parser in reads cut at <cuts> (ascending). */
static void run_cuts(struct fx *fx, const char *in, size_t n, const size_t *cuts, size_t ncuts,
		     struct run *r)
{
	struct pl_resp p = { 0 };
	size_t from = 0;

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i <= ncuts && !r->err; i++) {
		size_t to = i < ncuts ? cuts[i] : n;

		feed_read(fx, &p, in + from, to - from, r);
		from = to;
	}
}

static void run_steps(struct fx *fx, const char *in, size_t n, size_t step, struct run *r)
{
	struct pl_resp p = { 0 };

	memset(r, 0, sizeof(*r));
	for (size_t from = 0; from < n && !r->err; from += step)
		feed_read(fx, &p, in + from, n - from < step ? n - from : step, r);
}

static void assert_same_run(const struct run *got, const struct run *want, const char *how,
			    size_t arg)
{
	bool same = got->n == want->n && got->err == want->err && got->state == want->state &&
		    (got->err || got->pos == want->pos);

	for (size_t i = 0; same && i < want->n; i++)
		same = got->status[i] == want->status[i] && got->close[i] == want->close[i] &&
		       got->end[i] == want->end[i];
	if (!same) {
		print_error("%s %zu: %zu answers, err %d, state %u; whole input: %zu answers, err "
			    "%d, state %u\n",
			    how, arg, got->n, got->err, got->state, want->n, want->err,
			    want->state);
		fail();
	}
}

/* Feeds <in> every way (see the top); returns what the whole input found. */
static struct run feed_every_way(struct fx *fx, const char *in, size_t n)
{
	static const size_t steps[] = { 1, 2, 3, 7, 64 };
	struct run whole, r;

	run_cuts(fx, in, n, NULL, 0, &whole);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		run_steps(fx, in, n, steps[i], &r);
		assert_same_run(&r, &whole, "reads of", steps[i]);
	}
	for (size_t k = 1; k < n; k++) {
		run_cuts(fx, in, n, &k, 1, &r);
		assert_same_run(&r, &whole, "cut at", k);
		run_cuts(fx, in, k, NULL, 0, &r);
		if (r.n > whole.n || (r.err && !whole.err)) {
			print_error("prefix %zu: %zu answers, err %d; whole: %zu answers\n", k, r.n,
				    r.err, whole.n);
			fail();
		}
		for (size_t i = 0; i < r.n; i++) {
			assert_int_equal(r.status[i], whole.status[i]);
			assert_int_equal(r.end[i], whole.end[i]);
		}
	}
	return whole;
}

/* <in> holds exactly one answer with <status> and <close>, ending at its last byte. */
static void expect_one(struct fx *fx, const char *in, size_t n, unsigned status, bool close)
{
	struct run r = feed_every_way(fx, in, n);

	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.status[0], status);
	assert_int_equal(r.close[0], close);
	assert_int_equal(r.end[0], n);
	assert_int_equal(r.state, PL_RESP_STATUS);
}

/* <in> is refused (-EPROTO) after <answers> good answers. */
static void expect_refused(struct fx *fx, const char *in, size_t n, size_t answers)
{
	struct run r = feed_every_way(fx, in, n);

	if (r.err != -EPROTO || r.n != answers) {
		print_error("\"%.*s\": err %d after %zu answers, want -EPROTO after %zu\n", (int)n,
			    in, r.err, r.n, answers);
		fail();
	}
}

/* Each of the <n> strings <bad> is refused before any answer. */
static void expect_each_refused(struct fx *fx, const char *const *bad, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_refused(fx, bad[i], strlen(bad[i]), 0);
}

static void test_status_line_and_content_length(void **state)
{
	static const char gif[] = "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n"
				  "Content-Length: 43\r\nCache-Control: no-store\r\n\r\n"
				  "GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
				  "!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01"
				  "\x00\x00\x02\x02\x44\x01\x00;";

	expect_one(*state, LIT(gif), 200, false);
	expect_one(*state, LIT("HTTP/1.1 204 No Content\r\n\r\n"), 204, false);
	expect_one(*state, LIT("HTTP/1.0 200\r\nContent-Length: 0\r\n\r\n"), 200, false);
	expect_one(*state, LIT("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"), 304,
		   false);
	expect_one(*state,
		   LIT("HTTP/1.1 429 Too Many Requests\r\ncontent-length:  5 \r\n\r\nslow!"), 429,
		   false);
	expect_one(*state,
		   LIT("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi"), 200,
		   false);
}

static void test_bare_lf_and_long_headers(void **state)
{
	char in[2048];
	int n;

	expect_one(*state, LIT("HTTP/1.1 200 OK\nContent-Length: 2\n\nhi"), 200, false);
	/* Headers longer than the 96-byte line are skipped, not stored. */
	n = snprintf(in, sizeof(in),
		     "HTTP/1.1 200 OK\r\nSet-Cookie: %01000d\r\nContent-Length: 3\r\n"
		     "X-Long: %0500d\r\n\r\nabc",
		     7, 9);
	expect_one(*state, in, (size_t)n, 200, false);
}

static void test_chunked_with_extensions_and_trailers(void **state)
{
	expect_one(*state,
		   LIT("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "5\r\nhello\r\n1A;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n"
		       "0\r\nX-Trailer: yes\r\n\r\n"),
		   200, false);
	expect_one(*state,
		   LIT("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"), 200,
		   false);
}

static void test_keep_alive_and_close(void **state)
{
	expect_one(*state, LIT("HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n"), 204,
		   false);
	expect_one(*state, LIT("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"), 204, true);
	expect_one(*state, LIT("HTTP/1.1 204 No Content\r\nconnection: Upgrade, CLOSE\r\n\r\n"),
		   204, true);
	expect_one(*state, LIT("HTTP/1.1 204 No Content\r\nConnection: closed\r\n\r\n"), 204,
		   false);
	expect_one(*state, LIT("HTTP/1.1 204 No Content\r\nConnection: close, Upgrade\r\n\r\n"),
		   204, true);
}

static void test_body_to_eof(void **state)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it";
	struct run r = feed_every_way(*state, LIT(in));

	/* No length, not chunked: the bytes are all consumed and EOF ends the answer. */
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.pos, sizeof(in) - 1);
	assert_int_equal(r.state, PL_RESP_BODY_EOF);
}

static void test_interim_answers_are_not_answers(void **state)
{
	expect_one(*state,
		   LIT("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
		       "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx"),
		   201, false);
}

static void test_pipelined_answers_back_to_back(void **state)
{
	static const char in[] =
	    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
	    "HTTP/1.1 204 No Content\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n0\r\n\r\n"
	    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
	    "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\nConnection: close\r\n\r\n"
	    "busy";
	static const uint16_t status[] = { 200, 204, 200, 404, 503 };
	const char *ends[] = { "first", "No Content\r\n\r\n", "0\r\n\r\n",
			       "Not Found\r\nContent-Length: 0\r\n\r\n", "busy" };
	struct run r = feed_every_way(*state, LIT(in));
	const char *from = in;

	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 5);
	for (size_t i = 0; i < 5; i++) {
		const char *at = strstr(from, ends[i]) + strlen(ends[i]);

		assert_int_equal(r.status[i], status[i]);
		assert_int_equal(r.close[i], i == 4);
		assert_int_equal(r.end[i], (size_t)(at - in));
		from = at;
	}
	assert_int_equal(r.state, PL_RESP_STATUS);
}

static void test_done_is_reset_by_the_next_call(void **state)
{
	static const char in[] = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 2";
	struct pl_resp p = { 0 };
	bool done = false;
	ssize_t n;

	(void)state;
	n = pl_resp_feed(&p, in, sizeof(in) - 1, &done);
	assert_int_equal(n, strlen("HTTP/1.1 204 No Content\r\n\r\n"));
	assert_true(done);
	assert_int_equal(p.status, 204);
	n = pl_resp_feed(&p, in + n, sizeof(in) - 1 - (size_t)n, &done);
	assert_int_equal(n, strlen("HTTP/1.1 2"));
	assert_false(done);
	assert_int_equal(p.state, PL_RESP_STATUS);
}

static void test_bad_status_lines_are_refused(void **state)
{
	static const char *const bad[] = {
		"HTTP/2 200 OK\r\n\r\n",     "HTTP/1.x 200 OK\r\n\r\n",
		"http/1.1 200 OK\r\n\r\n",   "ICY 200 OK\r\n\r\n",
		"HTTP/1.1 20x OK\r\n\r\n",   "HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",  "HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1 600 High\r\n\r\n", "HTTP/1.1 101 Switching Protocols\r\n\r\n",
		"HTTP/1.1 20\r\n\r\n",	     "\r\n",
	};

	expect_each_refused(*state, bad, sizeof(bad) / sizeof(bad[0]));
}

static void test_bad_framing_headers_are_refused(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
	};

	expect_each_refused(*state, bad, sizeof(bad) / sizeof(bad[0]));
}

static void test_bad_chunks_are_refused(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;ext\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n",
	};

	expect_each_refused(*state, bad, sizeof(bad) / sizeof(bad[0]));
}

static void test_good_answers_before_garbage_still_count(void **state)
{
	expect_refused(*state,
		       LIT("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
			   "\r\nxgarbage after the answers\r\n"),
		       2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_line_and_content_length),
		cmocka_unit_test(test_bare_lf_and_long_headers),
		cmocka_unit_test(test_chunked_with_extensions_and_trailers),
		cmocka_unit_test(test_keep_alive_and_close),
		cmocka_unit_test(test_body_to_eof),
		cmocka_unit_test(test_interim_answers_are_not_answers),
		cmocka_unit_test(test_pipelined_answers_back_to_back),
		cmocka_unit_test(test_done_is_reset_by_the_next_call),
		cmocka_unit_test(test_bad_status_lines_are_refused),
		cmocka_unit_test(test_bad_framing_headers_are_refused),
		cmocka_unit_test(test_bad_chunks_are_refused),
		cmocka_unit_test(test_good_answers_before_garbage_still_count),
	};

	return cmocka_run_group_tests_name("pixelload_response", tests, group_setup,
					   group_teardown);
}
