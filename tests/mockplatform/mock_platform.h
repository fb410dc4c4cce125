/* SPDX-License-Identifier: MIT */
/*
 * mock_platform.h - what one emulated platform of the mock (meta.c, ga4.c,
 * google_ads.c, oauth.c, tiktok.c, webhook.c, ...) provides to the route
 * table in mock_routes.c, and the request and reply helpers they share
 * (mock_request.c, mock_reply.c). Private to tests/mockplatform; everything
 * here runs on the mock server's one thread.
 *
 * Adding a platform: a PXD_MOCK_<NAME> in mock_routes.h, a file <name>.c
 * defining `const struct pxd_mock_platform_def pxd_mock_<name>`, its row in
 * mock_routes.c's table, and its credentials in struct pxd_mock_conf.
 */
#ifndef PXD_MOCK_PLATFORM_H
#define PXD_MOCK_PLATFORM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mock_routes.h"
#include "strview.h"

#define PXD_MOCK_DAY_MS (24 * 3600 * 1000LL)

/*
 * One emulated platform. <route> says whether a request path (without the
 * query) is one of the platform's; paths of different platforms never
 * overlap, so the table's order does not matter. <handle> answers a POST.
 * <fault> writes an injected failure the way the platform reports it
 * (pxd_mock_fault_reply()); NULL: a plain JSON error with the status asked.
 */
struct pxd_mock_platform_def {
	const char *name;
	bool (*route)(struct pxd_sv path);
	void (*handle)(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		       struct pxd_mock_resp *r);
	void (*fault)(struct pxd_mock *m, int status, long code, long subcode,
		      struct pxd_mock_resp *r);
};

extern const struct pxd_mock_platform_def pxd_mock_meta;
extern const struct pxd_mock_platform_def pxd_mock_ga4;
extern const struct pxd_mock_platform_def pxd_mock_google_ads;
extern const struct pxd_mock_platform_def pxd_mock_oauth;
extern const struct pxd_mock_platform_def pxd_mock_tiktok;
extern const struct pxd_mock_platform_def pxd_mock_webhook;
extern const struct pxd_mock_platform_def pxd_mock_linkedin;
extern const struct pxd_mock_platform_def pxd_mock_snapchat;
extern const struct pxd_mock_platform_def pxd_mock_pinterest;
extern const struct pxd_mock_platform_def pxd_mock_reddit;
extern const struct pxd_mock_platform_def pxd_mock_segment;
extern const struct pxd_mock_platform_def pxd_mock_amplitude;
extern const struct pxd_mock_platform_def pxd_mock_mixpanel;
extern const struct pxd_mock_platform_def pxd_mock_posthog;

/* --- replies (mock_reply.c) --- */

/* Sets <r> to <status> with the compact JSON of <body> (stolen; NULL: no
 * body). A status >= 400 marks <r> refused; a body that cannot be written
 * turns it into a 500. */
void pxd_mock_reply(struct pxd_mock_resp *r, int status, json_t *body);

/* Adds {"platform","event_id","event"} for an event platform <p> accepted
 * to <r>'s records; <event_id> may be NULL, <ev> is copied by reference. */
void pxd_mock_record(struct pxd_mock_resp *r, enum pxd_mock_platform p, const char *event_id,
		     const json_t *ev);

/* pxd_mock_record() for every element of <list> (none when NULL), each
 * under its string member <id_key>. */
void pxd_mock_record_each(struct pxd_mock_resp *r, enum pxd_mock_platform p, const json_t *list,
			  const char *id_key);

/* --- requests (mock_request.c) --- */

/* Copies query parameter <key> of <q> (or of a form body), percent-decoded,
 * to <out>; false when it is absent. Truncates to <outlen> - 1. */
bool pxd_mock_query_get(struct pxd_sv q, const char *key, char *out, size_t outlen);

/* The value of header <name> as a NUL-terminated copy in <out>; false when
 * it is absent or does not fit. */
bool pxd_mock_header(const struct pxd_http_req *req, const char *name, char *out, size_t outlen);

/* The bearer token of the Authorization header in <out>, or false. */
bool pxd_mock_bearer(const struct pxd_http_req *req, char *out, size_t outlen);

/* Decodes "Authorization: Basic base64(user:pass)" into <user> and <pass>
 * (empty when there is no ':'); false when absent, malformed or too long. */
bool pxd_mock_basic(const struct pxd_http_req *req, char *user, size_t userlen, char *pass,
		    size_t passlen);

/* True for "YYYY-MM-DDTHH:MM:SS" followed by optional fraction and a zone. */
bool pxd_mock_iso8601_ok(const char *s);

/* True when <got> is the configured credential <want>; an empty <want>
 * accepts any non-empty one. */
bool pxd_mock_cred_ok(const char *want, const char *got);

/* True for a SHA-256 in lowercase hex. */
bool pxd_mock_hex64(const json_t *v);

/* A hashed field: a 64-hex string, or a non-empty array of them. */
bool pxd_mock_hashed_ok(const json_t *v);

/* The request body as JSON (duplicate keys refused), or NULL. The caller
 * owns the result. */
json_t *pxd_mock_parse_body(const struct pxd_http_req *req);

/* True when the bearer token of <req> is platform <p>'s configured
 * credential (conf.credential[p]; empty accepts any non-empty one). */
bool pxd_mock_bearer_ok(const struct pxd_mock *m, enum pxd_mock_platform p,
			const struct pxd_http_req *req);

/* True when <event_id> carries the configured reject marker; then says so
 * in <why> (when not NULL). */
bool pxd_mock_marked(const struct pxd_mock *m, const char *event_id, char *why, size_t whylen);

/* True when <s> is three capital letters (an ISO 4217 code). */
bool pxd_mock_currency_ok(const char *s);

/* True when <s> is one of the NULL-terminated <set>. */
bool pxd_mock_one_of(const char *s, const char *const *set);

/* Skips "/<chars of set>+" at <*p>; false when it is not there. */
bool pxd_mock_path_segment(const char **p, const char *end, const char *set);

/* True when <path> is <before>, one "/<chars of set>+" segment (an account
 * or pixel id), then <after>. */
bool pxd_mock_path_id(struct pxd_sv path, const char *before, const char *set, const char *after);

/* Checks one element of a request's list; false with <why> when refused. */
typedef bool pxd_mock_item_fn(const struct pxd_mock *m, const json_t *item, int64_t now_ms,
			      char *why, size_t whylen);

/* Runs <ok> over every element of <list>; at the first it refuses writes
 * "<label>[<i>]: <why>" to <msg> and returns false. */
bool pxd_mock_items_ok(const struct pxd_mock *m, const json_t *list, int64_t now_ms,
		       pxd_mock_item_fn *ok, const char *label, char *msg, size_t msglen);

/* Google's OAuth token endpoint (oauth.c): true when <tok> was issued and
 * has not expired at <now_ms>. */
bool pxd_mock_oauth_token_ok(const struct pxd_mock *m, const char *tok, int64_t now_ms);

#endif
