/* SPDX-License-Identifier: MIT */
/*
 * http_out.h - outbound HTTP for one dispatcher thread: one libcurl multi
 * handle with persistent connections (HTTP/2 over TLS where the server offers
 * it, HTTP/1.1 keep-alive otherwise), TLS session reuse, per-destination
 * timeouts, in-flight cap and request-rate limit, and a pool of easy handles.
 * It sends the requests adapters build and hands back status, body,
 * Retry-After and the platform's trace id; it never logs a URL, header or body
 * (credentials live there). Only the thread that created a struct pxd_http_out
 * may call it, except pxd_http_out_wakeup().
 */
#ifndef PXD_HTTP_OUT_H
#define PXD_HTTP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "conf.h"

/* Longest trace id kept; platform ids are far shorter (fbtrace_id is 11). */
#define PXD_HTTP_OUT_TRACE_MAX 95
/* Response bytes kept; the rest is read and dropped. Platform answers are a
 * few kB; an HTML error page is classified by its status anyway. */
#define PXD_HTTP_OUT_MAX_RESPONSE (1u << 20)

#define PXD_HTTP_OUT_CONNECT_TIMEOUT_MS 5000u
#define PXD_HTTP_OUT_TIMEOUT_MS 30000u
#define PXD_HTTP_OUT_MAX_IN_FLIGHT 4u

/* One destination's transport settings (config keys in pxd_http_out_conf_keys). */
struct pxd_http_out_conf {
	uint32_t connect_timeout_ms; /* TCP + TLS handshake */
	uint32_t timeout_ms;	     /* the whole request, connect included */
	uint32_t max_in_flight;	     /* requests outstanding at once */
	uint32_t rate_count;	     /* requests per <rate_period_ms>; 0: no limit */
	uint32_t rate_period_ms;
	uint32_t rate_burst;  /* requests that may go back to back after a pause */
	uint32_t throttle_ms; /* wait after a throttled answer without Retry-After */
};

/* The destination keys pxd_http_out_conf_parse() reads, NULL-terminated:
 * every HTTP adapter must accept them (pxd_payload_check_keys() does). */
extern const char *const pxd_http_out_conf_keys[];

/* Fills <c> with the defaults: 5 s connect, 30 s request, 4 in flight, no
 * rate limit, 5 s throttle back-off. */
void pxd_http_out_conf_default(struct pxd_http_out_conf *c);

/*
 * Reads the transport keys of destination <d> into <c>, defaults for those
 * absent:
 *   connect_timeout = 5s     (1 ms to 300 s; "500ms", "5s", "2m")
 *   timeout         = 30s    (1 ms to 3600 s; not shorter than connect_timeout)
 *   max_in_flight   = 4      (1 to 256)
 *   rate_limit       = the platform's documented quota (platform_quota.h), else
 *                      none ("50/s", "600/min", "1000/h"; 1 to 1000000 per unit;
 *                      "none" lifts the platform's)
 *   rate_burst       = 1     (1 to 1000000; only with a rate limit)
 *   throttle_backoff = the platform's (platform_quota.h), else 5s (1 ms to 3600 s)
 * Returns 0, or -EINVAL with <err> as "<conf_path>:<line>: <key>: \"value\" why".
 * Any thread (config loading).
 */
int pxd_http_out_conf_parse(const struct pxd_conf_dest *d, const char *conf_path,
			    struct pxd_http_out_conf *c, char *err, size_t errlen);

/*
 * Parses a Retry-After value (RFC 9110 §10.2.3) of <n> bytes at <v>:
 * delta-seconds, or an HTTP-date (IMF-fixdate, RFC 850 or asctime form)
 * taken relative to <now_ms> (Unix ms). Writes the delay to <ms>: capped at
 * UINT32_MAX, 0 for a date already past (the backoff applies then). Returns
 * 0 or -EINVAL for anything else. Any thread.
 */
int pxd_http_out_retry_after_parse(const char *v, size_t n, int64_t now_ms, uint32_t *ms);

/* What came with a response besides struct pxd_response. */
struct pxd_http_out_meta {
	unsigned dest;
	/* The platform's id for this request, for the delivery log: fbtrace_id
	 * (Meta) or request_id (TikTok) in a JSON body, else a request-id or
	 * x-request-id header (Google). "" when there is none. */
	char trace_id[PXD_HTTP_OUT_TRACE_MAX + 1];
	uint32_t latency_ms; /* submit to completion as curl measured it */
	bool new_connection; /* a connection was opened for this request */
	bool body_truncated; /* longer than PXD_HTTP_OUT_MAX_RESPONSE */
};

/*
 * Called from pxd_http_out_drive() once per finished request with the <tag>
 * given to submit. <resp> and <meta> (body, transport_error, trace id) stay
 * valid until the callback returns. The callback may submit new requests; it
 * must not free the struct pxd_http_out.
 */
typedef void pxd_http_out_done_fn(void *ctx, uint64_t tag, const struct pxd_response *resp,
				  const struct pxd_http_out_meta *meta);

struct pxd_http_out;

/*
 * Creates the multi handle and the TLS-session/connection share for
 * destinations 0..<ndests>-1, each with the default settings until
 * pxd_http_out_dest_set(). <done> receives every completion with <ctx>.
 * Returns 0 or -ENOMEM. libcurl must be initialised (curl_global_init, or
 * the thread-safe implicit init of libcurl >= 7.84).
 */
int pxd_http_out_new(struct pxd_http_out **out, unsigned ndests, pxd_http_out_done_fn *done,
		     void *ctx);

/* Sets destination <dest>'s transport settings and refills its rate bucket.
 * Returns 0 or -EINVAL (<dest> out of range, a zero timeout or cap). */
int pxd_http_out_dest_set(struct pxd_http_out *h, unsigned dest, const struct pxd_http_out_conf *c);

/* Aborts what is in flight (no callbacks) and frees everything. Accepts NULL. */
void pxd_http_out_free(struct pxd_http_out *h);

/*
 * Returns true when a request to <dest> may be submitted at <now_ms> (the
 * caller's monotonic ms clock): fewer than max_in_flight outstanding and a
 * token in the rate bucket. Takes nothing.
 */
bool pxd_http_out_ready(struct pxd_http_out *h, unsigned dest, int64_t now_ms);

/* Returns the ms until <dest>'s rate bucket holds a token at <now_ms> (0: now),
 * for the caller's wait; the in-flight cap is released by completions. */
uint64_t pxd_http_out_rate_wait_ms(struct pxd_http_out *h, unsigned dest, int64_t now_ms);

/* Returns the requests to <dest> outstanding now (0 for an unknown dest). */
unsigned pxd_http_out_in_flight(const struct pxd_http_out *h, unsigned dest);

/*
 * Starts POSTing <req> to <dest>, tagged <tag>, at <now_ms> (monotonic, as
 * for ready()). The URL and headers are copied; the body is moved: req->body
 * comes back empty, holding a spare buffer for the caller's next request, so
 * a steady stream of requests allocates nothing. Returns 0; -EBUSY when
 * <dest> has max_in_flight outstanding; -EAGAIN when its rate bucket is
 * empty (see rate_wait_ms); -EINVAL for an unknown <dest> or empty URL;
 * -ENOMEM. On error <req> is left as it was. Nothing is sent until drive().
 */
int pxd_http_out_submit(struct pxd_http_out *h, unsigned dest, struct pxd_request *req,
			uint64_t tag, int64_t now_ms);

/*
 * Moves every transfer forward, waiting up to <max_wait_ms> for network
 * activity (or a wakeup) when nothing has finished yet; 0 never waits. It
 * also waits when nothing is in flight, so it doubles as the dispatcher's
 * idle sleep. Calls the done callback for each finished request. Returns the
 * number finished, or -EIO when libcurl's multi interface fails.
 */
int pxd_http_out_drive(struct pxd_http_out *h, int max_wait_ms);

/* Ends a drive() that is waiting, from any thread. Returns 0 or -EIO. */
int pxd_http_out_wakeup(struct pxd_http_out *h);

#endif
