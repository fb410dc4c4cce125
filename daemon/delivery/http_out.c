// SPDX-License-Identifier: MIT
/*
 * The outbound HTTP client of one shard over a libcurl multi handle
 * (http_out.h). Over 600 lines because the destination transport keys, the
 * rate limiter, the response capture and the completion loop share the
 * per-destination and per-request state of one curl multi handle.
 */
#include "http_out.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "compiler.h"
#include "conf_value.h"
#include "daemon.h"
#include "platform_quota.h"
#include "strview.h"
#include "version.h"

#define CONNECT_TIMEOUT_MAX_MS (300u * 1000)
#define TIMEOUT_MAX_MS (3600u * 1000)
#define IN_FLIGHT_MAX 256u
#define RATE_MAX 1000000u
#define THROTTLE_MAX_MS (3600u * 1000)
#define RETRY_AFTER_TEXT_MAX 64

const char *const pxd_http_out_conf_keys[] = {
	"connect_timeout",  "timeout", "max_in_flight", "rate_limit", "rate_burst",
	"throttle_backoff", NULL,
};

/*
 * One pooled transfer: an easy handle and the buffers it reuses from one
 * request to the next. The body buffer is swapped with the caller's on
 * submit, so after warm-up neither side allocates.
 */
struct slot {
	struct slot *next_free;
	struct slot *next_all;
	struct pxd_http_out *h;
	CURL *easy;
	bool busy; /* added to the multi handle */
	uint64_t tag;
	unsigned dest;
	struct pxd_buf body;
	struct pxd_buf resp;
	bool truncated;
	char retry_after[RETRY_AFTER_TEXT_MAX];
	char hdr_trace[PXD_HTTP_OUT_TRACE_MAX + 1];
	char headers[PXD_REQ_MAX_HEADERS][512];
	/* libcurl only reads a CURLOPT_HTTPHEADER list, during the transfer:
	 * nodes of our own over <headers> save a malloc per header per request
	 * that curl_slist_append() would cost. The extra node is "Expect:". */
	struct curl_slist hdr_list[PXD_REQ_MAX_HEADERS + 1];
	char errbuf[CURL_ERROR_SIZE];
};

/*
 * A destination's flow control. The token bucket counts in units where one
 * request costs rate_period_ms and each elapsed ms adds rate_count, so a
 * rate like 600/min (0.01 per ms) refills exactly in integers.
 */
struct dest {
	struct pxd_http_out_conf conf;
	unsigned in_flight;
	uint64_t level;
	int64_t refilled_ms;
};

struct pxd_http_out {
	CURLM *multi;
	CURLSH *share;
	struct slot *free_slots;
	struct slot *all_slots;
	struct dest *dests;
	unsigned ndests;
	pxd_http_out_done_fn *done;
	void *ctx;
};

/* Sent with every request: without it curl asks a large POST for "100
 * Continue" first and waits a second for servers that never answer it. */
static char no_expect[] = "Expect:";

void pxd_http_out_conf_default(struct pxd_http_out_conf *c)
{
	*c = (struct pxd_http_out_conf){
		.connect_timeout_ms = PXD_HTTP_OUT_CONNECT_TIMEOUT_MS,
		.timeout_ms = PXD_HTTP_OUT_TIMEOUT_MS,
		.max_in_flight = PXD_HTTP_OUT_MAX_IN_FLIGHT,
		.throttle_ms = pxd_platform_quota_of("")->throttle_ms,
	};
}

/*
 * Parses <n> decimal digits at <s> (nothing else) into <v>. Returns 0,
 * -EINVAL when they are not all digits, or -ERANGE with <v> = <max> when the
 * value is over <max> (which must stay below UINT64_MAX / 10).
 */
static int digits(const char *s, size_t n, uint64_t max, uint64_t *v)
{
	*v = 0;
	if (!n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		*v = *v * 10 + (uint64_t)(s[i] - '0');
		if (*v > max) {
			*v = max;
			return -ERANGE;
		}
	}
	return 0;
}

static int conf_duration(const struct pxd_conf_dest *d, const char *conf_path, const char *key,
			 uint32_t max_ms, uint32_t *out, char *err, size_t errlen)
{
	int line = d->line;
	const char *v = pxd_conf_dest_get(d, key, &line);
	uint64_t ms;

	if (!v)
		return 0;
	if (pxd_conf_value_duration_ms(v, &ms) || ms < 1 || ms > max_ms) {
		snprintf(err, errlen,
			 "%s:%d: %s: \"%s\" is not a duration from 1ms to %us; write %s", conf_path,
			 line, key, v, max_ms / 1000, PXD_CONF_DURATION_HINT);
		return -EINVAL;
	}
	*out = (uint32_t)ms;
	return 0;
}

static int conf_count(const struct pxd_conf_dest *d, const char *conf_path, const char *key,
		      uint32_t max, uint32_t *out, char *err, size_t errlen)
{
	int line = d->line;
	const char *v = pxd_conf_dest_get(d, key, &line);
	uint64_t n;

	if (!v)
		return 0;
	if (digits(v, strlen(v), max, &n) || n < 1) {
		snprintf(err, errlen, "%s:%d: %s: \"%s\" is not a number from 1 to %u", conf_path,
			 line, key, v, max);
		return -EINVAL;
	}
	*out = (uint32_t)n;
	return 0;
}

/* A rate as conf_value.h reads it, 1 to RATE_MAX per unit, or "none"; the
 * platform's documented quota when absent. */
static int conf_rate(const struct pxd_conf_dest *d, const char *conf_path,
		     struct pxd_http_out_conf *c, char *err, size_t errlen)
{
	const struct pxd_platform_quota *q = pxd_platform_quota_of(d->type);
	int line = d->line;
	const char *v = pxd_conf_dest_get(d, "rate_limit", &line);
	uint64_t n;
	uint64_t period_ms;

	if (!v || strcmp(v, "none") == 0) {
		c->rate_count = v ? 0 : q->rate_count;
		c->rate_period_ms = v ? 0 : q->rate_period_ms;
		return 0;
	}
	if (!pxd_conf_value_rate(v, &n, &period_ms) && n >= 1 && n <= RATE_MAX &&
	    period_ms <= UINT32_MAX) {
		c->rate_count = (uint32_t)n;
		c->rate_period_ms = (uint32_t)period_ms;
		return 0;
	}
	snprintf(err, errlen,
		 "%s:%d: rate_limit: \"%s\" is not a rate; write requests per unit, %s (1 to %u), "
		 "or none",
		 conf_path, line, v, PXD_CONF_RATE_HINT, RATE_MAX);
	return -EINVAL;
}

int pxd_http_out_conf_parse(const struct pxd_conf_dest *d, const char *conf_path,
			    struct pxd_http_out_conf *c, char *err, size_t errlen)
{
	int line = d->line;
	int rc;

	pxd_http_out_conf_default(c);
	c->throttle_ms = pxd_platform_quota_of(d->type)->throttle_ms;
	rc = conf_duration(d, conf_path, "connect_timeout", CONNECT_TIMEOUT_MAX_MS,
			   &c->connect_timeout_ms, err, errlen);
	if (!rc)
		rc = conf_duration(d, conf_path, "timeout", TIMEOUT_MAX_MS, &c->timeout_ms, err,
				   errlen);
	if (!rc)
		rc = conf_count(d, conf_path, "max_in_flight", IN_FLIGHT_MAX, &c->max_in_flight,
				err, errlen);
	if (!rc)
		rc = conf_rate(d, conf_path, c, err, errlen);
	if (!rc)
		rc = conf_count(d, conf_path, "rate_burst", RATE_MAX, &c->rate_burst, err, errlen);
	if (!rc)
		rc = conf_duration(d, conf_path, "throttle_backoff", THROTTLE_MAX_MS,
				   &c->throttle_ms, err, errlen);
	if (rc)
		return rc;
	if (c->connect_timeout_ms > c->timeout_ms) {
		pxd_conf_dest_get(d, "connect_timeout", &line);
		snprintf(err, errlen,
			 "%s:%d: connect_timeout: longer than timeout (%ums); the request would "
			 "time out first, so make it shorter",
			 conf_path, line, c->timeout_ms);
		return -EINVAL;
	}
	if (c->rate_burst && !c->rate_count) {
		pxd_conf_dest_get(d, "rate_burst", &line);
		snprintf(err, errlen, "%s:%d: rate_burst: set without rate_limit; add rate_limit",
			 conf_path, line);
		return -EINVAL;
	}
	if (c->rate_count && !c->rate_burst)
		c->rate_burst = 1;
	return 0;
}

int pxd_http_out_retry_after_parse(const char *v, size_t n, int64_t now_ms, uint32_t *ms)
{
	/* RFC 9110 §5.6.7: IMF-fixdate, and the obsolete forms a recipient must take. */
	static const char *const date_forms[] = {
		"%a, %d %b %Y %H:%M:%S GMT", /* Sun, 06 Nov 1994 08:49:37 GMT */
		"%A, %d-%b-%y %H:%M:%S GMT", /* Sunday, 06-Nov-94 08:49:37 GMT */
		"%a %b %d %H:%M:%S %Y",	     /* Sun Nov  6 08:49:37 1994 */
	};
	char text[RETRY_AFTER_TEXT_MAX];
	uint64_t secs;
	int rc;

	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	rc = digits(v, n, UINT32_MAX, &secs);
	if (rc != -EINVAL) {
		*ms = secs > UINT32_MAX / 1000 ? UINT32_MAX : (uint32_t)secs * 1000;
		return 0;
	}
	if (!n || n >= sizeof(text))
		return -EINVAL;
	memcpy(text, v, n);
	text[n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(date_forms); i++) {
		struct tm tm = { 0 };
		const char *end = strptime(text, date_forms[i], &tm);
		int64_t delta;

		if (!end || *end)
			continue;
		delta = (int64_t)timegm(&tm) * 1000 - now_ms;
		*ms = delta <= 0 ? 0 : delta >= UINT32_MAX ? UINT32_MAX : (uint32_t)delta;
		return 0;
	}
	return -EINVAL;
}

/* Characters a trace id may hold; anything else ends the id, so a hostile
 * body cannot smuggle text into the delivery log. */
static bool trace_char(char c)
{
	return isalnum((unsigned char)c) || strchr("-_.:/+=", c);
}

/* Copies the value of <n> bytes at <v> into <out> when it is a plausible id. */
static bool trace_copy(const char *v, size_t n, char out[PXD_HTTP_OUT_TRACE_MAX + 1])
{
	if (!n || n > PXD_HTTP_OUT_TRACE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!trace_char(v[i]))
			return false;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

/*
 * Finds "<key>": "<id>" (or a bare number) in a JSON body without parsing
 * it: one memmem per key, no allocation. A key inside a string value would
 * be preceded by a backslash-escaped quote and does not match.
 */
static bool body_trace(const char *body, size_t len, const char *key,
		       char out[PXD_HTTP_OUT_TRACE_MAX + 1])
{
	char pat[32];
	int plen = snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = memmem(body, len, pat, (size_t)plen);
	const char *end = body + len;
	const char *v;

	if (!p)
		return false;
	for (p += plen; p < end && isspace((unsigned char)*p); p++)
		;
	if (p == end || *p++ != ':')
		return false;
	for (; p < end && isspace((unsigned char)*p); p++)
		;
	if (p < end && *p == '"') {
		v = ++p;
		while (p < end && *p != '"')
			p++;
		return p < end && trace_copy(v, (size_t)(p - v), out);
	}
	for (v = p; p < end && *p >= '0' && *p <= '9'; p++)
		;
	return trace_copy(v, (size_t)(p - v), out);
}

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
	struct slot *s = user;
	size_t len = size * n;
	size_t take = PXD_MIN(len, PXD_HTTP_OUT_MAX_RESPONSE - s->resp.len);

	if (take && pxd_buf_append(&s->resp, p, take))
		return 0; /* out of memory: curl ends the transfer with a write error */
	if (take < len)
		s->truncated = true;
	return len;
}

static void copy_value(struct pxd_sv v, char *out, size_t outlen)
{
	size_t n = PXD_MIN(v.n, outlen - 1);

	memcpy(out, v.p, n);
	out[n] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
	struct slot *s = user;
	size_t len = size * n;
	struct pxd_sv line = pxd_sv_make(p, len);
	const char *colon;
	struct pxd_sv name, value;

	while (line.n && (line.p[line.n - 1] == '\n' || line.p[line.n - 1] == '\r'))
		line.n--;
	/* A new status line (after a 1xx, or a redirect we do not follow)
	 * starts a new header block: forget the last one's values. */
	if (pxd_sv_starts_with(line, "HTTP/")) {
		s->retry_after[0] = '\0';
		s->hdr_trace[0] = '\0';
		return len;
	}
	colon = memchr(line.p, ':', line.n);
	if (!colon)
		return len;
	name = pxd_sv_make(line.p, (size_t)(colon - line.p));
	value = pxd_sv_make(colon + 1, line.n - name.n - 1);
	while (value.n && (*value.p == ' ' || *value.p == '\t')) {
		value.p++;
		value.n--;
	}
	if (pxd_sv_ieq(name, "retry-after"))
		copy_value(value, s->retry_after, sizeof(s->retry_after));
	else if ((pxd_sv_ieq(name, "request-id") || pxd_sv_ieq(name, "x-request-id")) &&
		 !s->hdr_trace[0])
		trace_copy(value.p, value.n, s->hdr_trace);
	return len;
}

static void slot_free(struct slot *s)
{
	curl_easy_cleanup(s->easy);
	pxd_buf_free(&s->body);
	pxd_buf_free(&s->resp);
	free(s);
}

/* Takes a pooled slot, or makes one with the options that never change. */
static struct slot *slot_get(struct pxd_http_out *h)
{
	struct slot *s = h->free_slots;
	CURL *e;

	if (s) {
		h->free_slots = s->next_free;
		return s;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	e = curl_easy_init();
	if (!e) {
		free(s);
		return NULL;
	}
	s->easy = e;
	s->h = h;
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_SHARE, h->share);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* h2 where TLS ALPN offers it, HTTP/1.1 keep-alive on plain http;
	 * PIPEWAIT makes a second request wait for a connection that is still
	 * negotiating, to multiplex on it rather than open another. */
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "pixeld/" PXD_VERSION);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->hdr_list);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	s->next_all = h->all_slots;
	h->all_slots = s;
	return s;
}

static void slot_put(struct pxd_http_out *h, struct slot *s)
{
	s->body.len = 0;
	s->next_free = h->free_slots;
	h->free_slots = s;
}

int pxd_http_out_new(struct pxd_http_out **out, unsigned ndests, pxd_http_out_done_fn *done,
		     void *ctx)
{
	struct pxd_http_out *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->ndests = ndests;
	h->done = done;
	h->ctx = ctx;
	h->dests = calloc(ndests ? ndests : 1, sizeof(*h->dests));
	h->multi = curl_multi_init();
	h->share = curl_share_init();
	if (!h->dests || !h->multi || !h->share ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT)) {
		pxd_http_out_free(h);
		return -ENOMEM;
	}
	/* One thread uses the share, so it needs no lock callbacks. */
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	for (unsigned i = 0; i < ndests; i++)
		pxd_http_out_conf_default(&h->dests[i].conf);
	*out = h;
	return 0;
}

int pxd_http_out_dest_set(struct pxd_http_out *h, unsigned dest, const struct pxd_http_out_conf *c)
{
	struct dest *d;

	if (dest >= h->ndests || !c->connect_timeout_ms || !c->timeout_ms || !c->max_in_flight ||
	    (c->rate_count && (!c->rate_period_ms || !c->rate_burst)))
		return -EINVAL;
	d = &h->dests[dest];
	d->conf = *c;
	d->level = (uint64_t)c->rate_burst * c->rate_period_ms;
	d->refilled_ms = 0;
	return 0;
}

void pxd_http_out_free(struct pxd_http_out *h)
{
	struct slot *s, *next;

	if (!h)
		return;
	for (s = h->all_slots; s; s = next) {
		next = s->next_all;
		if (s->busy)
			curl_multi_remove_handle(h->multi, s->easy);
		slot_free(s);
	}
	/* Easy handles first, then the multi handle, then the share they used. */
	if (h->multi)
		curl_multi_cleanup(h->multi);
	if (h->share)
		curl_share_cleanup(h->share);
	free(h->dests);
	free(h);
}

static void refill(struct dest *d, int64_t now_ms)
{
	const struct pxd_http_out_conf *c = &d->conf;
	uint64_t cap = (uint64_t)c->rate_burst * c->rate_period_ms;
	uint64_t elapsed;

	if (!c->rate_count || now_ms <= d->refilled_ms)
		return;
	elapsed = (uint64_t)(now_ms - d->refilled_ms);
	d->refilled_ms = now_ms;
	/* Past <cap> ms the bucket is full whatever the rate (rate_count >= 1),
	 * and below it elapsed * rate_count stays far from overflowing. */
	d->level = elapsed >= cap ? cap : PXD_MIN(cap, d->level + elapsed * c->rate_count);
}

static bool has_token(const struct dest *d)
{
	return !d->conf.rate_count || d->level >= d->conf.rate_period_ms;
}

bool pxd_http_out_ready(struct pxd_http_out *h, unsigned dest, int64_t now_ms)
{
	struct dest *d;

	if (dest >= h->ndests)
		return false;
	d = &h->dests[dest];
	if (d->in_flight >= d->conf.max_in_flight)
		return false;
	refill(d, now_ms);
	return has_token(d);
}

uint64_t pxd_http_out_rate_wait_ms(struct pxd_http_out *h, unsigned dest, int64_t now_ms)
{
	struct dest *d;

	if (dest >= h->ndests)
		return 0;
	d = &h->dests[dest];
	refill(d, now_ms);
	if (has_token(d))
		return 0;
	return (d->conf.rate_period_ms - d->level + d->conf.rate_count - 1) / d->conf.rate_count;
}

unsigned pxd_http_out_in_flight(const struct pxd_http_out *h, unsigned dest)
{
	return dest < h->ndests ? h->dests[dest].in_flight : 0;
}

/* Points the slot's header list at copies of <req>'s headers. */
static void set_headers(struct slot *s, const struct pxd_request *req)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++) {
		size_t n = strnlen(req->headers[i], sizeof(s->headers[i]) - 1);

		memcpy(s->headers[i], req->headers[i], n);
		s->headers[i][n] = '\0';
		s->hdr_list[i] = (struct curl_slist){ s->headers[i], &s->hdr_list[i + 1] };
	}
	s->hdr_list[i] = (struct curl_slist){ no_expect, NULL };
}

static void swap_body(struct slot *s, struct pxd_request *req)
{
	struct pxd_buf tmp = s->body;

	s->body = req->body;
	req->body = tmp;
}

int pxd_http_out_submit(struct pxd_http_out *h, unsigned dest, struct pxd_request *req,
			uint64_t tag, int64_t now_ms)
{
	struct dest *d;
	struct slot *s;
	CURL *e;

	if (dest >= h->ndests || !req->url[0] || req->nheaders > PXD_REQ_MAX_HEADERS)
		return -EINVAL;
	d = &h->dests[dest];
	if (d->in_flight >= d->conf.max_in_flight)
		return -EBUSY;
	refill(d, now_ms);
	if (!has_token(d))
		return -EAGAIN;
	s = slot_get(h);
	if (!s)
		return -ENOMEM;
	e = s->easy;
	if (curl_easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK) {
		slot_put(h, s);
		return -ENOMEM;
	}
	set_headers(s, req);
	swap_body(s, req);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->body.p ? s->body.p : "");
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)d->conf.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)d->conf.timeout_ms);
	s->tag = tag;
	s->dest = dest;
	s->resp.len = 0;
	s->truncated = false;
	s->retry_after[0] = '\0';
	s->hdr_trace[0] = '\0';
	s->errbuf[0] = '\0';
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		swap_body(s, req);
		slot_put(h, s);
		return -ENOMEM;
	}
	s->busy = true;
	d->in_flight++;
	if (d->conf.rate_count)
		d->level -= d->conf.rate_period_ms;
	return 0;
}

static void finish(struct pxd_http_out *h, struct slot *s, CURLcode code)
{
	struct pxd_response resp = { 0 };
	struct pxd_http_out_meta meta = { .dest = s->dest };
	curl_off_t us = 0;
	long status = 0;
	long conns = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME_T, &us);
	curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &conns);
	curl_multi_remove_handle(h->multi, s->easy);
	s->busy = false;
	h->dests[s->dest].in_flight--;

	meta.latency_ms = us / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(us / 1000);
	meta.new_connection = conns > 0;
	if (code != CURLE_OK) {
		/* A transfer that broke off has no trustworthy status or body. */
		resp.transport_error = s->errbuf[0] ? s->errbuf : curl_easy_strerror(code);
	} else {
		resp.status = status;
		resp.body = s->resp.len ? s->resp.p : NULL;
		resp.len = s->resp.len;
		meta.body_truncated = s->truncated;
		if (s->retry_after[0])
			pxd_http_out_retry_after_parse(s->retry_after, strlen(s->retry_after),
						       pxd_now_ms(), &resp.retry_after_ms);
		if (!resp.body || (!body_trace(resp.body, resp.len, "fbtrace_id", meta.trace_id) &&
				   !body_trace(resp.body, resp.len, "request_id", meta.trace_id)))
			memcpy(meta.trace_id, s->hdr_trace, sizeof(meta.trace_id));
	}
	h->done(h->ctx, s->tag, &resp, &meta);
	slot_put(h, s);
}

static int collect(struct pxd_http_out *h)
{
	CURLMsg *msg;
	int left;
	int n = 0;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		CURLcode code = msg->data.result;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		/* <msg> dies with remove_handle: everything is read from it first. */
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		finish(h, (struct slot *)priv, code);
		n++;
	}
	return n;
}

int pxd_http_out_drive(struct pxd_http_out *h, int max_wait_ms)
{
	int running = 0;
	int n;

	if (curl_multi_perform(h->multi, &running) != CURLM_OK)
		return -EIO;
	n = collect(h);
	if (n || max_wait_ms <= 0)
		return n;
	if (curl_multi_poll(h->multi, NULL, 0, max_wait_ms, NULL) != CURLM_OK ||
	    curl_multi_perform(h->multi, &running) != CURLM_OK)
		return -EIO;
	return collect(h);
}

int pxd_http_out_wakeup(struct pxd_http_out *h)
{
	return curl_multi_wakeup(h->multi) == CURLM_OK ? 0 : -EIO;
}
