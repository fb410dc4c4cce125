// SPDX-License-Identifier: MIT
#include "http_reply.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"
#include "log.h"

/*
 * The smallest transparent GIF, byte by byte:
 *   "GIF89a"                        signature and version
 *   01 00 01 00                     logical screen 1x1
 *   80 00 00                        global colour table of 2 entries, bg 0
 *   00 00 00  ff ff ff              colours: black, white
 *   21 f9 04 01 00 00 00 00         graphic control: colour 0 is transparent
 *   2c 00 00 00 00 01 00 01 00 00   image descriptor at 0,0 1x1
 *   02 02 44 01 00                  LZW min code 2, 2 bytes of data, end
 *   3b                              trailer
 */
const unsigned char pxd_gif[43] = {
	'G',  'I',  'F',  '8',	'9',  'a',  0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
	0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
};

static const char *status_line(unsigned status)
{
	switch (status) {
	case 200:
		return "HTTP/1.1 200 OK\r\n";
	case 204:
		return "HTTP/1.1 204 No Content\r\n";
	case 400:
		return "HTTP/1.1 400 Bad Request\r\n";
	case 401:
		return "HTTP/1.1 401 Unauthorized\r\n";
	case 402:
		return "HTTP/1.1 402 Payment Required\r\n";
	case 403:
		return "HTTP/1.1 403 Forbidden\r\n";
	case 404:
		return "HTTP/1.1 404 Not Found\r\n";
	case 405:
		return "HTTP/1.1 405 Method Not Allowed\r\n";
	case 408:
		return "HTTP/1.1 408 Request Timeout\r\n";
	case 411:
		return "HTTP/1.1 411 Length Required\r\n";
	case 413:
		return "HTTP/1.1 413 Content Too Large\r\n";
	case 414:
		return "HTTP/1.1 414 URI Too Long\r\n";
	case 415:
		return "HTTP/1.1 415 Unsupported Media Type\r\n";
	case 429:
		return "HTTP/1.1 429 Too Many Requests\r\n";
	case 431:
		return "HTTP/1.1 431 Request Header Fields Too Large\r\n";
	case 501:
		return "HTTP/1.1 501 Not Implemented\r\n";
	case 503:
		return "HTTP/1.1 503 Service Unavailable\r\n";
	default:
		return "HTTP/1.1 500 Internal Server Error\r\n";
	}
}

void pxd_reply_update_date(struct pxd_ingest *ing)
{
	time_t sec = (time_t)(ing->now_ms / 1000);
	struct tm tm;

	if (sec == ing->date_sec)
		return;
	ing->date_sec = sec;
	gmtime_r(&sec, &tm);
	strftime(ing->date_hdr, sizeof(ing->date_hdr), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
}

/* Appends <s> of length <n> at <*p>; the caller reserved room beforehand. */
static inline char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, lit) put(p, lit, sizeof(lit) - 1)

static char *put_uint(char *p, size_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/*
 * The one place an answer is put together. <body_len> is announced in
 * Content-Length even for HEAD (RFC 9110 9.3.2), but the body bytes go out
 * only for other methods and never for 204.
 */
static void compose(struct pxd_reqctx *rc, unsigned status, const char *content_type,
		    const char *cache_control, const void *body, size_t body_len, const char *extra)
{
	struct pxd_ingest *ing = rc->ing;
	struct pxd_conn *c = rc->conn;
	const char *sl = status_line(status);
	size_t ct_len = content_type ? strlen(content_type) : 0;
	size_t cc_len = cache_control ? strlen(cache_control) : 0;
	size_t ex_len = extra ? strlen(extra) : 0;
	bool send_body = !rc->head && status != 204 && body_len;
	size_t sc_len = strlen(rc->set_cookie);
	size_t ad_len = strlen(rc->ad_cookies.lines);
	size_t max = strlen(sl) + sizeof(ing->date_hdr) + ct_len + cc_len + ex_len + sc_len +
		     ad_len + rc->cors_origin.n + 256 + (send_body ? body_len : 0);
	char *p;

	rc->status = status;
	pxd_stat_add(&ing->m->requests[rc->ep][pxd_metrics_status_idx(status)], 1);
	if (pxd_dbuf_reserve(&ing->conns.pool, &c->out, (uint32_t)max)) {
		/* Out of memory for one answer: this connection cannot continue. */
		c->flags |= PXD_CONN_CLOSE_AFTER;
		return;
	}
	p = c->out.p + c->out.len;
	p = put(p, sl, strlen(sl));
	p = put(p, ing->date_hdr, strlen(ing->date_hdr));
	if (content_type) {
		p = PUT_LIT(p, "Content-Type: ");
		p = put(p, content_type, ct_len);
		p = PUT_LIT(p, "\r\n");
	}
	if (status != 204) {
		p = PUT_LIT(p, "Content-Length: ");
		p = put_uint(p, body_len);
		p = PUT_LIT(p, "\r\n");
	}
	if (cache_control) {
		p = PUT_LIT(p, "Cache-Control: ");
		p = put(p, cache_control, cc_len);
		p = PUT_LIT(p, "\r\n");
	}
	if (rc->cors_origin.n) {
		p = PUT_LIT(p, "Access-Control-Allow-Origin: ");
		p = put(p, rc->cors_origin.p, rc->cors_origin.n);
		p = PUT_LIT(p, "\r\nVary: Origin\r\n");
		if (rc->cors_credentials)
			p = PUT_LIT(p, "Access-Control-Allow-Credentials: true\r\n");
	}
	if (extra)
		p = put(p, extra, ex_len);
	p = put(p, rc->set_cookie, sc_len);
	if (sc_len) { /* counted here: consent may have withdrawn it since it was made */
		size_t t = (size_t)(rc->tenant - rc->conf->tenants.t);

		pxd_stat_add(rc->cookie_new ? &ing->m->tenant_cookies_set[t]
					    : &ing->m->tenant_cookies_extended[t],
			     1);
	}
	p = put(p, rc->ad_cookies.lines, ad_len);
	if (ad_len) {
		size_t t = (size_t)(rc->tenant - ing->d->conf->tenants.t);

		pxd_stat_add(&ing->m->tenant_cookies_restored[t], rc->ad_cookies.restored);
		pxd_stat_add(&ing->m->tenant_cookies_extended[t], rc->ad_cookies.extended);
	}
	if (rc->close)
		p = PUT_LIT(p, "Connection: close\r\n");
	else if (rc->req && rc->req->minor_version == 0)
		p = PUT_LIT(p, "Connection: keep-alive\r\n");
	p = PUT_LIT(p, "\r\n");
	if (send_body)
		p = put(p, body, body_len);
	c->out.len = (uint32_t)(p - c->out.p);
	if (rc->close)
		c->flags |= PXD_CONN_CLOSE_AFTER;
}

void pxd_reply_gif(struct pxd_reqctx *rc, const char *cache_control)
{
	compose(rc, 200, "image/gif", cache_control, pxd_gif, sizeof(pxd_gif), NULL);
}

void pxd_reply_empty(struct pxd_reqctx *rc, unsigned status)
{
	compose(rc, status, NULL, status == 204 ? NULL : "no-store", NULL, 0, NULL);
}

void pxd_reply_body(struct pxd_reqctx *rc, unsigned status, const char *content_type,
		    const char *body, size_t len, const char *extra_headers)
{
	compose(rc, status, content_type, "no-store", body, len, extra_headers);
}

void pxd_reply_refusal(struct pxd_reqctx *rc, enum pxd_refusal r, const char *detail)
{
	const struct pxd_refusal_info *info = pxd_refusal_info(r);
	char body[1024];
	char extra[128];
	const char *d = detail ? detail : info->detail;
	struct pxd_jsonw w;
	ssize_t len;

	pxd_jsonw_init(&w, body, sizeof(body));
	pxd_jsonw_object_begin(&w);
	pxd_jsonw_key(&w, "error", 5);
	pxd_jsonw_string(&w, info->code, strlen(info->code));
	pxd_jsonw_key(&w, "detail", 6);
	pxd_jsonw_string(&w, d, PXD_MIN(strlen(d), 512));
	pxd_jsonw_object_end(&w);
	len = pxd_jsonw_finish(&w);
	if (len < 0)
		len = 0;

	extra[0] = '\0';
	if (info->retry_after_s)
		snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", info->retry_after_s);
	else if (info->status == 405)
		snprintf(extra, sizeof(extra), "Allow: %s\r\n",
			 rc->allow ? rc->allow : "GET, HEAD, POST, OPTIONS");
	/* A framing error leaves the stream position unknown: close after it. */
	if (info->status == 400 || info->status == 408 || info->status == 411 ||
	    info->status == 413 || info->status == 414 || info->status == 431 ||
	    info->status == 501)
		rc->close = rc->close || r < PXD_REFUSAL_NOT_FOUND;
	pxd_stat_add(&rc->ing->m->events_rejected[r], 1);
	if (rc->tenant)
		pxd_stat_add(
		    &rc->ing->m->tenant_refused[(size_t)(rc->tenant - rc->conf->tenants.t)], 1);
	compose(rc, info->status, "application/json", "no-store", body, (size_t)len,
		extra[0] ? extra : NULL);
}

void pxd_reply_preflight(struct pxd_reqctx *rc)
{
	compose(rc, 204, NULL, NULL, NULL, 0,
		"Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
		"Access-Control-Allow-Headers: Content-Type, Authorization, X-Retry-Count\r\n"
		"Access-Control-Max-Age: 86400\r\n");
}
