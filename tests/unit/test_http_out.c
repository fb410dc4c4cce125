// SPDX-License-Identifier: MIT
/*
 * The outbound HTTP client against a local stub server (http_stub.h): its
 * per-destination settings and Retry-After parsing, connection reuse, the
 * in-flight cap, timeouts, rate limits and waking up. One module, one binary:
 * about 600 lines because the stub-driven cases each need their exchange.
 */
#include "http_out.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter_test.h"
#include "http_stub.h"
#include "payload.h"

#define MAX_DONE 32

/* One completion as the callback saw it, copied out of libcurl's buffers. */
struct done {
	uint64_t tag;
	long status;
	char body[512];
	uint32_t retry_after_ms;
	char error[CURL_ERROR_SIZE];
	struct pxd_http_out_meta meta;
};

struct fixture {
	struct stub *stub;
	struct pxd_http_out *h;
	struct pxd_request req;
	struct done done[MAX_DONE];
	size_t ndone;
};

static void on_done(void *ctx, uint64_t tag, const struct pxd_response *resp,
		    const struct pxd_http_out_meta *meta)
{
	struct fixture *f = ctx;
	struct done *d;

	assert_true(f->ndone < MAX_DONE);
	d = &f->done[f->ndone++];
	d->tag = tag;
	d->status = resp->status;
	snprintf(d->body, sizeof(d->body), "%.*s", (int)resp->len, resp->body ? resp->body : "");
	d->retry_after_ms = resp->retry_after_ms;
	snprintf(d->error, sizeof(d->error), "%s",
		 resp->transport_error ? resp->transport_error : "");
	d->meta = *meta;
}

/* Answers by path, so every test knows what each request gets. */
static void handler(void *ctx, const struct stub_req *req, struct stub_reply *rep)
{
	(void)ctx;
	if (strcmp(req->path, "/meta") == 0) {
		strcpy(rep->body,
		       "{\"events_received\":1,\"messages\":[],\"fbtrace_id\":\"AbC-123_xyz\"}");
	} else if (strcmp(req->path, "/meta-error") == 0) {
		rep->status = 400;
		strcpy(rep->body, "{\"error\":{\"message\":\"Invalid parameter\",\"code\":100,"
				  "\"fbtrace_id\" : \"Err9Trace\"}}");
	} else if (strcmp(req->path, "/tiktok") == 0) {
		strcpy(rep->body,
		       "{\"code\":0,\"message\":\"OK\",\"request_id\":\"20241122182640\"}");
	} else if (strcmp(req->path, "/google") == 0) {
		strcpy(rep->headers, "Request-Id: gAdS-req-42\r\n");
		strcpy(rep->body, "{\"results\":[{}]}");
	} else if (strcmp(req->path, "/hostile") == 0) {
		strcpy(rep->headers, "x-request-id: has spaces in it\r\n");
		strcpy(rep->body, "{\"fbtrace_id\":\"<script>alert(1)</script>\"}");
	} else if (strcmp(req->path, "/throttle") == 0) {
		rep->status = 429;
		strcpy(rep->headers, "Retry-After: 7\r\n");
	} else if (strcmp(req->path, "/throttle-date") == 0) {
		time_t at = time(NULL) + 30;
		struct tm tm;

		gmtime_r(&at, &tm);
		rep->status = 503;
		strftime(rep->headers, sizeof(rep->headers),
			 "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
	} else if (strncmp(req->path, "/slow/", 6) == 0) {
		rep->delay_ms = atoi(req->path + 6);
		strcpy(rep->body, "{\"late\":true}");
	} else if (strcmp(req->path, "/echo") == 0) {
		snprintf(rep->body, sizeof(rep->body), "%.*s", (int)req->body_len, req->body);
	} else {
		strcpy(rep->body, "{\"ok\":true}");
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->stub = calloc(1, sizeof(*f->stub));
	assert_non_null(f->stub);
	stub_start(f->stub, handler, NULL);
	assert_int_equal(pxd_http_out_new(&f->h, 3, on_done, f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pxd_http_out_free(f->h);
	stub_stop(f->stub);
	pxd_buf_free(&f->req.body);
	free(f->stub);
	free(f);
	return 0;
}

static int64_t mono_ms(void)
{
	return stub_now_ms();
}

/* Builds a JSON POST to <path> on the stub. */
static void request(struct fixture *f, const char *path, const char *body)
{
	f->req.nheaders = 0;
	f->req.body.len = 0;
	assert_int_equal(pxd_payload_url(&f->req, "http://127.0.0.1:%u%s", f->stub->port, path), 0);
	assert_int_equal(pxd_payload_header(&f->req, "Content-Type: application/json"), 0);
	assert_int_equal(pxd_buf_puts(&f->req.body, body), 0);
}

static int submit(struct fixture *f, unsigned dest, const char *path, uint64_t tag, int64_t now)
{
	request(f, path, "{\"data\":[1]}");
	return pxd_http_out_submit(f->h, dest, &f->req, tag, now);
}

/* Drives until <n> completions in all, failing after <limit_ms>. */
static void drive_until(struct fixture *f, size_t n, int64_t limit_ms)
{
	int64_t end = mono_ms() + limit_ms;

	while (f->ndone < n) {
		assert_true(mono_ms() < end);
		assert_true(pxd_http_out_drive(f->h, 50) >= 0);
	}
}

static struct pxd_http_out_conf conf_with(uint32_t connect_ms, uint32_t timeout_ms,
					  uint32_t in_flight)
{
	struct pxd_http_out_conf c;

	pxd_http_out_conf_default(&c);
	c.connect_timeout_ms = connect_ms;
	c.timeout_ms = timeout_ms;
	c.max_in_flight = in_flight;
	return c;
}

static void test_conf_defaults_and_values(void **state)
{
	struct pxd_conf_dest d = { .name = "meta", .type = "meta", .line = 20 };
	struct pxd_http_out_conf c;
	char err[256] = "";

	(void)state;
	assert_int_equal(pxd_http_out_conf_parse(&d, "/etc/pixeld.ini", &c, err, sizeof(err)), 0);
	assert_int_equal(c.connect_timeout_ms, 5000);
	assert_int_equal(c.timeout_ms, 30000);
	assert_int_equal(c.max_in_flight, 4);
	assert_int_equal(c.rate_count, 0);
	assert_int_equal(c.rate_burst, 0);

	pxd_test_dest_set(&d, "connect_timeout", "500ms");
	pxd_test_dest_set(&d, "timeout", "2m");
	pxd_test_dest_set(&d, "max_in_flight", "16");
	pxd_test_dest_set(&d, "rate_limit", "600/min");
	assert_int_equal(pxd_http_out_conf_parse(&d, "/etc/pixeld.ini", &c, err, sizeof(err)), 0);
	assert_int_equal(c.connect_timeout_ms, 500);
	assert_int_equal(c.timeout_ms, 120000);
	assert_int_equal(c.max_in_flight, 16);
	assert_int_equal(c.rate_count, 600);
	assert_int_equal(c.rate_period_ms, 60000);
	assert_int_equal(c.rate_burst, 1); /* the default once a rate is set */

	pxd_test_dest_set(&d, "rate_burst", "25");
	assert_int_equal(pxd_http_out_conf_parse(&d, "/etc/pixeld.ini", &c, err, sizeof(err)), 0);
	assert_int_equal(c.rate_burst, 25);
	assert_string_equal(pxd_http_out_conf_keys[0], "connect_timeout");
}

/* Each bad value fails with file:line, the key and the value quoted. */
static void test_conf_refuses_bad_values(void **state)
{
	static const struct {
		const char *key, *value, *want;
	} bad[] = {
		{ "timeout", "soon", "/etc/pixeld.ini:21: timeout: \"soon\" is not a duration" },
		{ "timeout", "0ms", ":21: timeout: \"0ms\" is not a duration from 1ms to 3600s" },
		{ "connect_timeout", "301s", ":21: connect_timeout: \"301s\"" },
		{ "max_in_flight", "0", ":21: max_in_flight: \"0\" is not a number from 1 to 256" },
		{ "max_in_flight", "4x", ":21: max_in_flight: \"4x\"" },
		{ "rate_limit", "50/w", ":21: rate_limit: \"50/w\" is not a rate" },
		{ "rate_limit", "50", ":21: rate_limit: \"50\" is not a rate" },
		/* The one rule (conf_value.h): a bare number is not a duration. */
		{ "timeout", "5", ":21: timeout: \"5\" is not a duration" },
		{ "rate_limit", "/s", ":21: rate_limit: \"/s\"" },
		{ "rate_limit", "0/s", ":21: rate_limit: \"0/s\"" },
		{ "rate_burst", "5", ":21: rate_burst: set without rate_limit" },
		{ "connect_timeout", "40s", ":21: connect_timeout: longer than timeout (30000ms)" },
	};
	struct pxd_http_out_conf c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct pxd_conf_dest d = { .name = "x", .type = "meta", .line = 20 };

		pxd_test_dest_set(&d, bad[i].key, bad[i].value);
		err[0] = '\0';
		assert_int_equal(
		    pxd_http_out_conf_parse(&d, "/etc/pixeld.ini", &c, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].want))
			fail_msg("%s = %s: got \"%s\", want \"%s\"", bad[i].key, bad[i].value, err,
				 bad[i].want);
	}
}

static int fake_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	(void)dest;
	(void)b;
	(void)req;
	return 0;
}

/* Every HTTP adapter validates its keys with pxd_payload_check_keys(), which
 * must let the transport keys through, and name them when refusing one. */
static void test_http_adapters_accept_the_transport_keys(void **state)
{
	static const char *const known[] = { "api_base", NULL };
	const struct pxd_adapter http = { .type = "x", .build = fake_build };
	const struct pxd_adapter local = { .type = "y", .flags = PXD_ADAPTER_LOCAL };
	struct pxd_conf_dest d = { .name = "x", .type = "x", .line = 20 };
	struct pxd_dest dest = { .conf = &d, .adapter = &http };
	char err[512];

	(void)state;
	for (size_t i = 0; pxd_http_out_conf_keys[i]; i++)
		pxd_test_dest_set(&d, pxd_http_out_conf_keys[i], "1");
	assert_int_equal(
	    pxd_payload_check_keys(&dest, "/etc/pixeld.ini", known, true, err, sizeof(err)), 0);
	dest.adapter = &local;
	assert_int_equal(
	    pxd_payload_check_keys(&dest, "/etc/pixeld.ini", known, true, err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "/etc/pixeld.ini:21: connect_timeout: unknown key for type x; "
				 "it takes api_base, map.<Event>");
	dest.adapter = &http;
	pxd_test_dest_set(&d, "time_out", "5s");
	assert_int_equal(
	    pxd_payload_check_keys(&dest, "/etc/pixeld.ini", known, false, err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "/etc/pixeld.ini:27: time_out: unknown key for type x; it takes "
				 "api_base, connect_timeout, timeout, max_in_flight, rate_limit, "
				 "rate_burst, throttle_backoff");
}

static void test_retry_after_parses_seconds_and_dates(void **state)
{
	/* 1994-11-06T08:49:37Z, the RFC's example date. */
	const int64_t at = 784111777000LL;
	uint32_t ms = 1;

	(void)state;
	assert_int_equal(pxd_http_out_retry_after_parse("7", 1, at, &ms), 0);
	assert_int_equal(ms, 7000);
	assert_int_equal(pxd_http_out_retry_after_parse(" 120\t", 5, at, &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(pxd_http_out_retry_after_parse("0", 1, at, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(pxd_http_out_retry_after_parse("99999999999999999999", 20, at, &ms), 0);
	assert_int_equal(ms, UINT32_MAX);

	const char *fixdate = "Sun, 06 Nov 1994 08:50:07 GMT";
	const char *rfc850 = "Sunday, 06-Nov-94 08:50:07 GMT";
	const char *asctime_form = "Sun Nov  6 08:50:07 1994";

	assert_int_equal(pxd_http_out_retry_after_parse(fixdate, strlen(fixdate), at, &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(pxd_http_out_retry_after_parse(rfc850, strlen(rfc850), at, &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(
	    pxd_http_out_retry_after_parse(asctime_form, strlen(asctime_form), at, &ms), 0);
	assert_int_equal(ms, 30000);
	/* A date already past: no delay of its own. */
	assert_int_equal(pxd_http_out_retry_after_parse(fixdate, strlen(fixdate), at + 60000, &ms),
			 0);
	assert_int_equal(ms, 0);

	static const char *const bad[] = { "99999999999999999999x",
					   "",
					   "  ",
					   "-5",
					   "5s",
					   "1.5",
					   "Sun, 06 Nov 1994",
					   "Sun, 06 Nov 1994 08:50:07 GMT trailing" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(pxd_http_out_retry_after_parse(bad[i], strlen(bad[i]), at, &ms),
				 -EINVAL);
}

static void test_requests_reuse_one_connection(void **state)
{
	struct fixture *f = *state;
	struct stub_req got;

	for (uint64_t i = 0; i < 5; i++) {
		assert_int_equal(submit(f, 0, "/ok", 100 + i, mono_ms()), 0);
		/* The body moved into the transfer; the caller keeps a spare buffer. */
		assert_int_equal(f->req.body.len, 0);
		drive_until(f, i + 1, 5000);
		assert_int_equal(f->done[i].tag, 100 + i);
		assert_int_equal(f->done[i].status, 200);
		assert_string_equal(f->done[i].body, "{\"ok\":true}");
		assert_int_equal(f->done[i].meta.new_connection, i == 0);
	}
	assert_int_equal(stub_get(&f->stub->accepted), 1);
	assert_int_equal(stub_get(&f->stub->requests), 5);

	/* What arrived: method, body, the adapter's headers, no Expect. */
	request(f, "/echo", "{\"event\":\"Purchase\",\"value\":9.99}");
	assert_int_equal(pxd_payload_header(&f->req, "X-Extra: one"), 0);
	assert_int_equal(pxd_http_out_submit(f->h, 0, &f->req, 7, mono_ms()), 0);
	drive_until(f, 6, 5000);
	assert_string_equal(f->done[5].body, "{\"event\":\"Purchase\",\"value\":9.99}");
	stub_last(f->stub, &got);
	assert_string_equal(got.method, "POST");
	assert_string_equal(got.path, "/echo");
	assert_non_null(strstr(got.headers, "Content-Type: application/json"));
	assert_non_null(strstr(got.headers, "X-Extra: one"));
	assert_non_null(strstr(got.headers, "User-Agent: pixeld/"));
	assert_null(strcasestr(got.headers, "Expect"));
	assert_int_equal(stub_get(&f->stub->accepted), 1);
}

static void test_in_flight_is_capped_per_destination(void **state)
{
	struct fixture *f = *state;
	struct pxd_http_out_conf c = conf_with(1000, 5000, 2);
	int64_t now = mono_ms();

	assert_int_equal(pxd_http_out_dest_set(f->h, 0, &c), 0);
	assert_int_equal(submit(f, 0, "/slow/300", 1, now), 0);
	assert_int_equal(submit(f, 0, "/slow/300", 2, now), 0);
	assert_int_equal(pxd_http_out_in_flight(f->h, 0), 2);
	assert_false(pxd_http_out_ready(f->h, 0, now));
	request(f, "/ok", "{}");
	assert_int_equal(pxd_http_out_submit(f->h, 0, &f->req, 3, now), -EBUSY);
	/* Refused: the request is still the caller's, body and all. */
	assert_int_equal(f->req.body.len, 2);
	/* Another destination has its own cap. */
	assert_true(pxd_http_out_ready(f->h, 1, now));
	drive_until(f, 1, 5000);
	assert_true(pxd_http_out_in_flight(f->h, 0) < 2);
	assert_true(pxd_http_out_ready(f->h, 0, mono_ms()));
	assert_int_equal(pxd_http_out_submit(f->h, 0, &f->req, 3, mono_ms()), 0);
	drive_until(f, 3, 5000);
	assert_int_equal(pxd_http_out_in_flight(f->h, 0), 0);
	/* Both ran at once, on two connections, and never a third. */
	assert_int_equal(stub_get(&f->stub->max_open), 2);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(f->done[i].status, 200);
}

static void test_request_timeout_is_a_transport_error(void **state)
{
	struct fixture *f = *state;
	struct pxd_http_out_conf c = conf_with(1000, 200, 4);
	int64_t start = mono_ms();

	assert_int_equal(pxd_http_out_dest_set(f->h, 0, &c), 0);
	assert_int_equal(submit(f, 0, "/slow/3000", 9, start), 0);
	drive_until(f, 1, 2500);
	assert_true(mono_ms() - start < 1500);
	assert_int_equal(f->done[0].tag, 9);
	assert_int_equal(f->done[0].status, 0);
	assert_string_equal(f->done[0].body, "");
	assert_non_null(strstr(f->done[0].error, "timed out"));
	assert_null(strstr(f->done[0].error, "/slow")); /* no URL in messages */
	assert_int_equal(pxd_http_out_in_flight(f->h, 0), 0);
}

/*
 * A listener with a full accept queue drops new SYNs (Linux queues backlog+1
 * connections and then ignores the rest), so a connect to it hangs until the
 * connect timeout: the one local way to make a connect time out.
 */
static void test_connect_timeout_is_a_transport_error(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct pxd_http_out_conf c = conf_with(200, 5000, 4);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int fill[2];
	int64_t start;

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 0), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	for (int i = 0; i < 2; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&a, sizeof(a));
	}
	usleep(50 * 1000);
	assert_int_equal(pxd_http_out_dest_set(f->h, 2, &c), 0);
	assert_int_equal(pxd_payload_url(&f->req, "http://127.0.0.1:%u/x", ntohs(a.sin_port)), 0);
	f->req.nheaders = 0;
	start = mono_ms();
	assert_int_equal(pxd_http_out_submit(f->h, 2, &f->req, 5, start), 0);
	drive_until(f, 1, 3000);
	assert_in_range(mono_ms() - start, 150, 1500);
	assert_int_equal(f->done[0].status, 0);
	assert_int_equal(f->done[0].meta.dest, 2);
	/* curl words it by where the clock ran out: "Failed to connect to 127.0.0.1
	 * port N after 200 ms: Timeout was reached" from the connect filter, or
	 * "Connection timed out after 201 milliseconds" or "Connection timeout
	 * after 200 ms" from the multi loop on a busy machine. All are the
	 * connect timeout. */
	if (!strstr(f->done[0].error, "Timeout was reached") &&
	    !strstr(f->done[0].error, "Connection timed out") &&
	    !strstr(f->done[0].error, "Connection timeout after"))
		fail_msg("not a connect timeout: %s", f->done[0].error);
	close(fill[0]);
	close(fill[1]);
	close(lfd);
}

/* The rate limiter runs on the caller's clock, so its timing is exact here. */
static void test_rate_limit_follows_the_callers_clock(void **state)
{
	struct fixture *f = *state;
	struct pxd_http_out_conf c = conf_with(1000, 5000, 8);
	const int64_t t0 = 1000000;

	c.rate_count = 10; /* 10/s: one token per 100 ms */
	c.rate_period_ms = 1000;
	c.rate_burst = 2;
	assert_int_equal(pxd_http_out_dest_set(f->h, 0, &c), 0);
	assert_true(pxd_http_out_ready(f->h, 0, t0));
	assert_int_equal(submit(f, 0, "/ok", 1, t0), 0);
	assert_int_equal(submit(f, 0, "/ok", 2, t0), 0);
	assert_false(pxd_http_out_ready(f->h, 0, t0));
	assert_int_equal(submit(f, 0, "/ok", 3, t0), -EAGAIN);
	assert_int_equal(pxd_http_out_rate_wait_ms(f->h, 0, t0), 100);
	assert_int_equal(pxd_http_out_rate_wait_ms(f->h, 0, t0 + 60), 40);
	assert_int_equal(submit(f, 0, "/ok", 3, t0 + 99), -EAGAIN);
	assert_int_equal(submit(f, 0, "/ok", 3, t0 + 100), 0);
	assert_int_equal(pxd_http_out_rate_wait_ms(f->h, 0, t0 + 100), 100);
	/* A long pause fills the bucket to the burst, no further. */
	assert_int_equal(submit(f, 0, "/ok", 4, t0 + 60000), 0);
	assert_int_equal(submit(f, 0, "/ok", 5, t0 + 60000), 0);
	assert_int_equal(submit(f, 0, "/ok", 6, t0 + 60000), -EAGAIN);
	/* The other destinations have no limit. */
	assert_int_equal(pxd_http_out_rate_wait_ms(f->h, 1, t0), 0);
	drive_until(f, 5, 5000);

	/* 600/min is one request per 100 ms too, in integer units. */
	c.rate_count = 600;
	c.rate_period_ms = 60000;
	c.rate_burst = 1;
	assert_int_equal(pxd_http_out_dest_set(f->h, 1, &c), 0);
	assert_int_equal(submit(f, 1, "/ok", 7, t0), 0);
	assert_int_equal(pxd_http_out_rate_wait_ms(f->h, 1, t0), 100);
	assert_int_equal(pxd_http_out_rate_wait_ms(f->h, 1, t0 + 99), 1);
	assert_true(pxd_http_out_ready(f->h, 1, t0 + 100));
	drive_until(f, 6, 5000);
}

static void test_retry_after_and_trace_ids_from_responses(void **state)
{
	static const struct {
		const char *path;
		long status;
		const char *trace;
	} cases[] = {
		{ "/meta", 200, "AbC-123_xyz" },
		{ "/meta-error", 400, "Err9Trace" },
		{ "/tiktok", 200, "20241122182640" },
		{ "/google", 200, "gAdS-req-42" },
		{ "/hostile", 200, "" },
		{ "/ok", 200, "" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(submit(f, 0, cases[i].path, i, mono_ms()), 0);
		drive_until(f, i + 1, 5000);
		assert_int_equal(f->done[i].status, cases[i].status);
		assert_string_equal(f->done[i].meta.trace_id, cases[i].trace);
		assert_int_equal(f->done[i].retry_after_ms, 0);
	}
	assert_int_equal(submit(f, 0, "/throttle", 50, mono_ms()), 0);
	assert_int_equal(submit(f, 0, "/throttle-date", 51, mono_ms()), 0);
	drive_until(f, ARRAY_SIZE(cases) + 2, 5000);
	for (size_t i = ARRAY_SIZE(cases); i < f->ndone; i++) {
		if (f->done[i].tag == 50) {
			assert_int_equal(f->done[i].status, 429);
			assert_int_equal(f->done[i].retry_after_ms, 7000);
		} else {
			/* Whole seconds on the wire: 29-30 s left, whatever the ms. */
			assert_int_equal(f->done[i].status, 503);
			assert_in_range(f->done[i].retry_after_ms, 28000, 30000);
		}
	}
}

static void test_refuses_unknown_destination_and_empty_url(void **state)
{
	struct fixture *f = *state;
	struct pxd_http_out_conf c = conf_with(1000, 1000, 0);

	request(f, "/ok", "{}");
	assert_int_equal(pxd_http_out_submit(f->h, 3, &f->req, 1, mono_ms()), -EINVAL);
	assert_false(pxd_http_out_ready(f->h, 3, mono_ms()));
	assert_int_equal(pxd_http_out_in_flight(f->h, 3), 0);
	assert_int_equal(pxd_http_out_dest_set(f->h, 3, &c), -EINVAL);
	assert_int_equal(pxd_http_out_dest_set(f->h, 0, &c), -EINVAL); /* zero cap */
	f->req.url[0] = '\0';
	assert_int_equal(pxd_http_out_submit(f->h, 0, &f->req, 1, mono_ms()), -EINVAL);
	assert_int_equal(f->req.body.len, 2);
}

static void *wake_later(void *arg)
{
	usleep(100 * 1000);
	pxd_http_out_wakeup(arg);
	return NULL;
}

/* Idle, drive() sleeps up to its limit, and a wakeup from another thread ends it. */
static void test_idle_drive_waits_and_wakes_up(void **state)
{
	struct fixture *f = *state;
	pthread_t t;
	int64_t start = mono_ms();

	assert_int_equal(pxd_http_out_drive(f->h, 150), 0);
	assert_in_range(mono_ms() - start, 100, 1000);
	start = mono_ms();
	assert_int_equal(pthread_create(&t, NULL, wake_later, f->h), 0);
	assert_int_equal(pxd_http_out_drive(f->h, 10000), 0);
	assert_true(mono_ms() - start < 5000);
	pthread_join(t, NULL);
}

/* Freeing with requests in flight neither calls back nor leaks (ASan run). */
static void test_free_with_requests_in_flight(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(submit(f, 0, "/slow/2000", 1, mono_ms()), 0);
	assert_int_equal(submit(f, 1, "/slow/2000", 2, mono_ms()), 0);
	assert_int_equal(pxd_http_out_drive(f->h, 50), 0);
	pxd_http_out_free(f->h);
	f->h = NULL;
	assert_int_equal(f->ndone, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_defaults_and_values),
		cmocka_unit_test(test_conf_refuses_bad_values),
		cmocka_unit_test(test_http_adapters_accept_the_transport_keys),
		cmocka_unit_test(test_retry_after_parses_seconds_and_dates),
		cmocka_unit_test_setup_teardown(test_requests_reuse_one_connection, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_in_flight_is_capped_per_destination, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_timeout_is_a_transport_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_connect_timeout_is_a_transport_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_follows_the_callers_clock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_retry_after_and_trace_ids_from_responses,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_unknown_destination_and_empty_url,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_drive_waits_and_wakes_up, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_free_with_requests_in_flight, setup, teardown),
	};

	return cmocka_run_group_tests_name("http_out", tests, NULL, NULL);
}
