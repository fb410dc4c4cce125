// SPDX-License-Identifier: MIT
#include "mock_routes.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "payload.h"
#include "webhook.h"

#define DAY_MS (24 * 3600 * 1000LL)
/* A receiver's usual replay window (webhook.h). */
#define WEBHOOK_TOLERANCE_S 300
/* The dedup set is a test tool's memory, not Google's: start over past this. */
#define GADS_SEEN_MAX 1000000

static const char *const platform_names[] = {
	[PXD_MOCK_META] = "meta",
	[PXD_MOCK_GA4] = "ga4",
	[PXD_MOCK_GOOGLE_ADS] = "google_ads",
	[PXD_MOCK_OAUTH] = "oauth",
	[PXD_MOCK_TIKTOK] = "tiktok",
	[PXD_MOCK_WEBHOOK] = "webhook",
};

int pxd_mock_init(struct pxd_mock *m, const struct pxd_mock_conf *conf)
{
	memset(m, 0, sizeof(*m));
	m->conf = *conf;
	if (!m->conf.oauth_expires_in)
		m->conf.oauth_expires_in = 3599;
	m->gads_seen = json_object();
	return m->gads_seen ? 0 : -ENOMEM;
}

void pxd_mock_fini(struct pxd_mock *m)
{
	json_decref(m->gads_seen);
	m->gads_seen = NULL;
}

const char *pxd_mock_platform_name(enum pxd_mock_platform p)
{
	return (unsigned)p < PXD_MOCK_PLATFORM_COUNT ? platform_names[p] : "?";
}

int pxd_mock_platform_parse(const char *name)
{
	for (int i = 0; i < PXD_MOCK_PLATFORM_COUNT; i++)
		if (strcmp(name, platform_names[i]) == 0)
			return i;
	return -1;
}

/* Skips "/<chars of set>+" at <p>; false when it is not there. */
static bool segment(const char **p, const char *end, const char *set)
{
	const char *q = *p;

	if (q >= end || *q++ != '/')
		return false;
	while (q < end && *q && strchr(set, *q))
		q++;
	if (q == *p + 1)
		return false;
	*p = q;
	return true;
}

int pxd_mock_route(struct pxd_sv path)
{
	static const char digits[] = "0123456789", ver[] = "v0123456789.";
	const char *p = path.p, *end = path.p + path.n;

	if (pxd_sv_eq_lit(path, "/mp/collect") || pxd_sv_eq_lit(path, "/debug/mp/collect"))
		return PXD_MOCK_GA4;
	if (pxd_sv_eq_lit(path, "/token"))
		return PXD_MOCK_OAUTH;
	if (pxd_sv_eq_lit(path, "/open_api/v1.3/event/track/"))
		return PXD_MOCK_TIKTOK;
	if (pxd_sv_starts_with(path, "/webhook"))
		return PXD_MOCK_WEBHOOK;
	/* /{version}/{pixel}/events and /{version}/customers/{cid}:uploadClickConversions */
	if (!segment(&p, end, ver))
		return -1;
	if (pxd_sv_eq_lit(pxd_sv_make(p, (size_t)(end - p)), "/customers") ||
	    (end - p > 11 && memcmp(p, "/customers/", 11) == 0)) {
		p += 10;
		if (segment(&p, end, digits) &&
		    pxd_sv_eq_lit(pxd_sv_make(p, (size_t)(end - p)), ":uploadClickConversions"))
			return PXD_MOCK_GOOGLE_ADS;
		return -1;
	}
	if (segment(&p, end, digits) && pxd_sv_eq_lit(pxd_sv_make(p, (size_t)(end - p)), "/events"))
		return PXD_MOCK_META;
	return -1;
}

void pxd_mock_resp_init(struct pxd_mock_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->retry_after_s = -1;
	snprintf(r->content_type, sizeof(r->content_type), "application/json");
}

void pxd_mock_resp_fini(struct pxd_mock_resp *r)
{
	pxd_buf_free(&r->body);
	json_decref(r->records);
	r->records = NULL;
}

/* Sets <r> to <status> with the compact JSON of <body> (stolen). */
static void reply(struct pxd_mock_resp *r, int status, json_t *body)
{
	r->status = status;
	r->refused |= status >= 400;
	r->body.len = 0;
	if (body && pxd_payload_dump(&r->body, body))
		r->status = 500;
	json_decref(body);
}

static void record(struct pxd_mock_resp *r, enum pxd_mock_platform p, const char *event_id,
		   json_t *ev)
{
	if (!r->records)
		r->records = json_array();
	json_array_append_new(r->records,
			      json_pack("{s:s, s:s?, s:O}", "platform", platform_names[p],
					"event_id", event_id, "event", ev));
}

/* Copies query parameter <key> of <q>, percent-decoded, to <out>. */
static bool query_get(struct pxd_sv q, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	const char *p = q.p, *end = q.p + q.n;

	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		size_t n = 0;

		if ((size_t)(stop - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
			for (p += klen + 1; p < stop && n + 1 < outlen; p++) {
				unsigned hi, lo;

				if (*p == '%' && stop - p > 2 &&
				    sscanf(p + 1, "%1x%1x", &hi, &lo) == 2) {
					out[n++] = (char)(hi << 4 | lo);
					p += 2;
				} else {
					out[n++] = *p == '+' ? ' ' : *p;
				}
			}
			out[n] = '\0';
			return true;
		}
		p = amp ? amp + 1 : NULL;
	}
	return false;
}

/* The value of header <name> as a NUL-terminated copy in <out>, or false. */
static bool header(const struct pxd_http_req *req, const char *name, char *out, size_t outlen)
{
	const struct pxd_http_header *h = pxd_http_find_header(req, name);

	if (!h || h->value.n >= outlen)
		return false;
	memcpy(out, h->value.p, h->value.n);
	out[h->value.n] = '\0';
	return true;
}

/* An empty configured credential accepts any non-empty one. */
static bool cred_ok(const char *want, const char *got)
{
	return got && *got && (!*want || strcmp(want, got) == 0);
}

static bool hex64(const json_t *v)
{
	return json_is_string(v) && pxd_payload_is_sha256(json_string_value(v));
}

/* A hashed field: a 64-hex string, or an array of them. */
static bool hashed_ok(const json_t *v)
{
	const json_t *e;
	size_t i;

	if (!json_is_array(v))
		return hex64(v);
	json_array_foreach(v, i, e)
	{
		if (!hex64(e))
			return false;
	}
	return json_array_size(v) > 0;
}

static json_t *parse_body(const struct pxd_http_req *req)
{
	return json_loadb(req->body.p, req->body.n, JSON_REJECT_DUPLICATES, NULL);
}

/* --- Meta (§9.1) --- */

/* Graph's messages for the codes the mock sends (§9.1 error envelope). */
static const char *meta_message(long code)
{
	switch (code) {
	case 1:
		return "An unknown error occurred";
	case 2:
		return "An unexpected error has occurred. Please retry your request later.";
	case 4:
		return "(#4) Application request limit reached";
	case 17:
		return "(#17) User request limit reached";
	case 190:
		return "Invalid OAuth access token.";
	case 200:
		return "(#200) Permissions error";
	default:
		return "Invalid parameter";
	}
}

static void meta_error(struct pxd_mock *m, struct pxd_mock_resp *r, int status, long code,
		       long subcode, bool transient, const char *msg)
{
	char trace[32];

	snprintf(trace, sizeof(trace), "mock%06" PRIu64, ++m->ids);
	reply(r, status,
	      json_pack("{s:{s:s, s:s, s:i, s:i, s:b, s:s, s:s}}", "error", "message",
			meta_message(code), "type", "OAuthException", "code", (int)code,
			"error_subcode", (int)subcode, "is_transient", transient, "error_user_msg",
			msg, "fbtrace_id", trace));
}

/* Checks one server event; writes why it is refused to <why>. */
static bool meta_event_ok(const struct pxd_mock *m, const json_t *ev, int64_t now_ms, long *subcode,
			  char *why, size_t whylen)
{
	static const char *const hashed[] = { "em", "ph", "fn", "ln",	   "ge",	 "db",
					      "ct", "st", "zp", "country", "external_id" };
	static const char *const ids[] = { "em",  "ph", "external_id", "client_ip_address",
					   "fbc", "fbp" };
	const json_t *u = json_object_get(ev, "user_data");
	const json_t *t = json_object_get(ev, "event_time");
	const char *src = json_string_value(json_object_get(ev, "action_source"));
	const char *url = json_string_value(json_object_get(ev, "event_source_url"));
	const char *id = json_string_value(json_object_get(ev, "event_id"));
	bool ident = false;

	*subcode = 2804050;
	if (!json_is_string(json_object_get(ev, "event_name")) || !json_is_integer(t) || !src ||
	    !json_is_object(u)) {
		snprintf(why, whylen,
			 "event_name, event_time, action_source and user_data are required");
		return false;
	}
	if (json_integer_value(t) * 1000 < now_ms - 7 * DAY_MS) {
		*subcode = 2804003;
		snprintf(why, whylen, "event_time is more than 7 days in the past");
		return false;
	}
	if (strcmp(src, "website") == 0 &&
	    (!url || !json_is_string(json_object_get(u, "client_user_agent")))) {
		snprintf(why, whylen, "website events need event_source_url and client_user_agent");
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(hashed); i++) {
		const json_t *v = json_object_get(u, hashed[i]);

		if (v && !hashed_ok(v)) {
			snprintf(why, whylen, "user_data.%s is not a SHA-256 in lowercase hex",
				 hashed[i]);
			return false;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		ident |= json_object_get(u, ids[i]) != NULL;
	if (!ident) {
		snprintf(why, whylen, "user_data has no customer information parameter");
		return false;
	}
	if (m->conf.meta_reject_marker[0] && id && strstr(id, m->conf.meta_reject_marker)) {
		snprintf(why, whylen, "event %.64s carries the reject marker", id);
		return false;
	}
	return true;
}

static void meta(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		 struct pxd_mock_resp *r)
{
	json_t *body = parse_body(req);
	json_t *data = json_object_get(body, "data");
	const char *tok = json_string_value(json_object_get(body, "access_token"));
	char qtok[512], hdr[600], why[160], msg[200], trace[32];
	const json_t *ev;
	long subcode;
	size_t i;

	if (!tok && query_get(req->query, "access_token", qtok, sizeof(qtok)))
		tok = qtok;
	if (!tok && header(req, "authorization", hdr, sizeof(hdr)) &&
	    strncmp(hdr, "Bearer ", 7) == 0)
		tok = hdr + 7;
	if (!cred_ok(m->conf.meta_token, tok)) {
		meta_error(m, r, 400, 190, 0, false, "The access token could not be decrypted");
	} else if (!json_is_array(data) || !json_array_size(data)) {
		meta_error(m, r, 400, 100, 0, false, "The parameter data is required");
	} else if (json_array_size(data) > 1000) {
		meta_error(m, r, 400, 100, 0, false, "data may hold at most 1000 events");
	} else {
		json_array_foreach(data, i, ev)
		{
			if (meta_event_ok(m, ev, now_ms, &subcode, why, sizeof(why)))
				continue;
			/* §2: one bad event refuses the whole batch. */
			snprintf(msg, sizeof(msg), "data[%zu]: %s", i, why);
			meta_error(m, r, 400, 100, subcode, false, msg);
			json_decref(body);
			return;
		}
		json_array_foreach(data, i, ev)
		    record(r, PXD_MOCK_META, json_string_value(json_object_get(ev, "event_id")),
			   (json_t *)ev);
		snprintf(trace, sizeof(trace), "mock%06" PRIu64, ++m->ids);
		reply(r, 200,
		      json_pack("{s:I, s:[], s:s}", "events_received",
				(json_int_t)json_array_size(data), "messages", "fbtrace_id",
				trace));
	}
	json_decref(body);
}

/* --- GA4 (§9.2) --- */

static bool ga4_name_ok(const char *s)
{
	static const char *const prefixes[] = { "google_", "ga_", "firebase_" };
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 40 || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return false;
	return true;
}

static void ga4_message(json_t *msgs, const char *path, const char *desc, const char *code)
{
	json_array_append_new(msgs, json_pack("{s:s, s:s, s:s}", "fieldPath", path, "description",
					      desc, "validationCode", code));
}

/* Appends what GA4 would drop to <msgs>; returns false when the whole body goes. */
static bool ga4_check(const json_t *body, json_t *msgs, bool *event_ok, size_t max)
{
	const json_t *events = json_object_get(body, "events");
	const json_t *ud = json_object_get(body, "user_data");
	const json_t *ev;
	const char *k;
	json_t *v;
	char path[64];
	size_t i;
	bool ok = true;

	if (!json_is_string(json_object_get(body, "client_id"))) {
		ga4_message(msgs, "client_id", "client_id is required for web streams",
			    "VALUE_REQUIRED");
		ok = false;
	}
	if (!json_is_array(events) || !json_array_size(events) || json_array_size(events) > 25) {
		ga4_message(msgs, "events", "events must hold 1 to 25 events",
			    "VALUE_OUT_OF_BOUNDS");
		ok = false;
	}
	json_object_foreach((json_t *)ud, k, v)
	{
		if (strncmp(k, "sha256_", 7) == 0 && !hashed_ok(v)) {
			snprintf(path, sizeof(path), "user_data.%s", k);
			ga4_message(msgs, path, "not a SHA-256 in lowercase hex", "VALUE_INVALID");
			ok = false;
		}
	}
	json_array_foreach(events, i, ev)
	{
		const json_t *params = json_object_get(ev, "params");

		if (i >= max)
			break;
		event_ok[i] = ga4_name_ok(json_string_value(json_object_get(ev, "name")));
		if (!event_ok[i]) {
			snprintf(path, sizeof(path), "events[%zu].name", i);
			ga4_message(msgs, path, "invalid or reserved event name", "NAME_INVALID");
		}
		if (json_object_size(params) > 25) {
			snprintf(path, sizeof(path), "events[%zu].params", i);
			ga4_message(msgs, path, "more than 25 params", "VALUE_OUT_OF_BOUNDS");
			event_ok[i] = false;
		}
		json_object_foreach((json_t *)params, k, v)
		{
			if (json_is_string(v) && json_string_length(v) > 100) {
				snprintf(path, sizeof(path), "events[%zu].params.%.32s", i, k);
				ga4_message(msgs, path, "value longer than 100 characters",
					    "VALUE_OUT_OF_BOUNDS");
				event_ok[i] = false;
			}
		}
	}
	return ok;
}

static void ga4(struct pxd_mock *m, const struct pxd_http_req *req, struct pxd_mock_resp *r)
{
	bool debug = pxd_sv_starts_with(req->path, "/debug/");
	json_t *body = parse_body(req);
	json_t *msgs = json_array();
	bool event_ok[25] = { false };
	char mid[64], secret[256];
	const json_t *ev;
	size_t i;
	bool ok;

	if (!query_get(req->query, "measurement_id", mid, sizeof(mid)) || strncmp(mid, "G-", 2))
		ga4_message(msgs, "measurement_id", "measurement_id G-... is required",
			    "VALUE_REQUIRED");
	ok = json_is_object(body) && ga4_check(body, msgs, event_ok, ARRAY_SIZE(event_ok));
	if (!json_is_object(body))
		ga4_message(msgs, "", "the body is not JSON", "VALUE_INVALID");
	/* §9.2: the debug endpoint does not check api_secret. */
	if (debug) {
		reply(r, 200, json_pack("{s:o}", "validationMessages", msgs));
		json_decref(body);
		return;
	}
	/* §2: /mp/collect answers 2xx to everything and drops what it cannot use. */
	if (!query_get(req->query, "api_secret", secret, sizeof(secret)) ||
	    !cred_ok(m->conf.ga4_secret, secret) || strncmp(mid, "G-", 2) != 0)
		ok = false;
	json_array_foreach(ok ? json_object_get(body, "events") : NULL, i, ev)
	{
		if (i < ARRAY_SIZE(event_ok) && event_ok[i])
			record(r, PXD_MOCK_GA4,
			       json_string_value(
				   json_object_get(json_object_get(ev, "params"), "event_id")),
			       (json_t *)ev);
	}
	r->status = 204;
	r->refused |= json_array_size(msgs) > 0 || !ok;
	json_decref(msgs);
	json_decref(body);
}

/* --- Google Ads and its token endpoint (§9.3) --- */

static void gads_error(struct pxd_mock_resp *r, int status, const char *rpc, const char *kind,
		       const char *code, const char *msg)
{
	reply(r, status,
	      json_pack("{s:{s:i, s:s, s:s, s:[{s:s, s:[{s:{s:s}, s:s}]}]}}", "error", "code",
			status, "message", msg, "status", rpc, "details", "@type",
			"type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure",
			"errors", "errorCode", kind, code, "message", msg));
}

static bool token_ok(const struct pxd_mock *m, const char *tok, int64_t now_ms)
{
	for (size_t i = 0; i < PXD_MOCK_TOKENS; i++)
		if (m->tokens[i].token[0] && strcmp(m->tokens[i].token, tok) == 0)
			return now_ms < m->tokens[i].expires_at_ms;
	return false;
}

void pxd_mock_revoke_tokens(struct pxd_mock *m)
{
	memset(m->tokens, 0, sizeof(m->tokens));
}

/* "yyyy-mm-dd hh:mm:ss+hh:mm" (§7). */
static bool date_time_ok(const char *s)
{
	static const char shape[] = "dddd-dd-dd dd:dd:ds+dd:dd";

	if (!s || strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'd' && !isdigit((unsigned char)s[i]))
			return false;
		if (shape[i] == 's' && !isdigit((unsigned char)s[i]))
			return false;
		if (shape[i] == '+' && s[i] != '+' && s[i] != '-')
			return false;
		if (shape[i] != 'd' && shape[i] != 's' && shape[i] != '+' && s[i] != shape[i])
			return false;
	}
	return true;
}

/* Checks one ClickConversion: the ConversionUploadError it earns, or NULL. */
static const char *gads_row_error(struct pxd_mock *m, const char *cid, const json_t *c, char *key,
				  size_t keylen)
{
	static const char *const clicks[] = { "gclid", "gbraid", "wbraid" };
	const char *action = json_string_value(json_object_get(c, "conversionAction"));
	const char *when = json_string_value(json_object_get(c, "conversionDateTime"));
	const json_t *ids = json_object_get(c, "userIdentifiers");
	const char *click = NULL;
	char prefix[64];
	unsigned nclicks = 0;
	const json_t *id;
	size_t i;

	snprintf(prefix, sizeof(prefix), "customers/%s/conversionActions/", cid);
	if (!action || strncmp(action, prefix, strlen(prefix)) != 0 || !action[strlen(prefix)] ||
	    action[strlen(prefix) + strspn(action + strlen(prefix), "0123456789")])
		return "INVALID_CONVERSION_ACTION";
	if (!date_time_ok(when))
		return "INVALID_CONVERSION_DATE_TIME";
	for (i = 0; i < ARRAY_SIZE(clicks); i++) {
		if (json_object_get(c, clicks[i])) {
			nclicks++;
			click = json_string_value(json_object_get(c, clicks[i]));
		}
	}
	if (nclicks > 1)
		return "GBRAID_WBRAID_BOTH_SET";
	if (click &&
	    (!*click || click[strspn(click, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
					    "vwxyz0123456789-_")]))
		return "UNPARSEABLE_GCLID";
	json_array_foreach(ids, i, id)
	{
		const json_t *em = json_object_get(id, "hashedEmail");
		const json_t *ph = json_object_get(id, "hashedPhoneNumber");

		if ((em && !hex64(em)) || (ph && !hex64(ph)) || (!em && !ph))
			return "INVALID_USER_IDENTIFIER";
	}
	if (!click && !json_array_size(ids))
		return "MISSING_CLICK_ID_OR_USER_IDENTIFIER";
	if (json_object_get(c, "conversionValue") && !json_object_get(c, "currencyCode"))
		return "INVALID_CURRENCY_CODE";
	if (m->conf.gads_row_error[0])
		return m->conf.gads_row_error;
	snprintf(key, keylen, "%s|%s|%s|%s", action, when, click ? click : "",
		 json_is_string(json_object_get(c, "orderId"))
		     ? json_string_value(json_object_get(c, "orderId"))
		     : "");
	if (json_object_get(m->gads_seen, key))
		return click ? "CLICK_CONVERSION_ALREADY_EXISTS" : "DUPLICATE_ORDER_ID";
	return NULL;
}

/* 200 with results[] and, when rows failed, partialFailureError (§2). */
static void gads_reply(struct pxd_mock_resp *r, json_t *results, json_t *errors)
{
	json_t *out = json_pack("{s:O}", "results", results);

	r->refused |= json_array_size(errors) > 0;
	if (out && json_array_size(errors))
		json_object_set_new(out, "partialFailureError",
				    json_pack("{s:i, s:s, s:[{s:s, s:O}]}", "code", 3, "message",
					      "Some conversions failed; see details.", "details",
					      "@type",
					      "type.googleapis.com/google.ads.googleads.v21.errors."
					      "GoogleAdsFailure",
					      "errors", errors));
	reply(r, 200, out);
}

static void gads_upload(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
			struct pxd_mock_resp *r)
{
	json_t *body = parse_body(req);
	json_t *convs = json_object_get(body, "conversions");
	json_t *results = json_array(), *errors = json_array();
	bool validate_only = json_is_true(json_object_get(body, "validateOnly"));
	char auth[2100], dev[300], cid[16], key[512];
	const char *p = req->path.p + req->path.n;
	const json_t *c;
	size_t i;

	/* The customer id sits between "/customers/" and ':'. */
	while (p > req->path.p && p[-1] != '/')
		p--;
	snprintf(cid, sizeof(cid), "%.*s", (int)strcspn(p, ":"), p);
	snprintf(r->extra_header, sizeof(r->extra_header), "request-id: mock%06" PRIu64, ++m->ids);
	if (!header(req, "authorization", auth, sizeof(auth)) || strncmp(auth, "Bearer ", 7) ||
	    !token_ok(m, auth + 7, now_ms)) {
		gads_error(r, 401, "UNAUTHENTICATED", "authenticationError", "OAUTH_TOKEN_INVALID",
			   "Request had invalid authentication credentials.");
	} else if (!header(req, "developer-token", dev, sizeof(dev)) ||
		   !cred_ok(m->conf.gads_developer_token, dev)) {
		gads_error(r, 403, "PERMISSION_DENIED", "authorizationError",
			   "DEVELOPER_TOKEN_NOT_APPROVED", "The developer token is not approved.");
	} else if (!json_is_array(convs) || !json_array_size(convs)) {
		gads_error(r, 400, "INVALID_ARGUMENT", "requestError", "REQUIRED_FIELD_MISSING",
			   "conversions is required.");
	} else if (json_array_size(convs) > 2000) {
		gads_error(r, 400, "INVALID_ARGUMENT", "conversionUploadError",
			   "TOO_MANY_CONVERSIONS_IN_REQUEST", "At most 2000 conversions.");
	} else if (!json_is_true(json_object_get(body, "partialFailure"))) {
		gads_error(r, 400, "INVALID_ARGUMENT", "requestError", "INVALID_INPUT",
			   "partial_failure must be true.");
	} else {
		json_array_foreach(convs, i, c)
		{
			const char *err = gads_row_error(m, cid, c, key, sizeof(key));

			if (err) {
				json_array_append_new(results, json_object());
				json_array_append_new(
				    errors,
				    json_pack("{s:{s:s}, s:s, s:{s:[{s:s, s:I}]}}", "errorCode",
					      "conversionUploadError", err, "message", err,
					      "location", "fieldPathElements", "fieldName",
					      "conversions", "index", (json_int_t)i));
				continue;
			}
			json_array_append_new(
			    results,
			    json_pack("{s:O*, s:O, s:O}", "gclid", json_object_get(c, "gclid"),
				      "conversionAction", json_object_get(c, "conversionAction"),
				      "conversionDateTime",
				      json_object_get(c, "conversionDateTime")));
			if (validate_only)
				continue;
			if (json_object_size(m->gads_seen) >= GADS_SEEN_MAX)
				json_object_clear(m->gads_seen);
			json_object_set_new(m->gads_seen, key, json_true());
			record(r, PXD_MOCK_GOOGLE_ADS,
			       json_string_value(json_object_get(c, "orderId")), (json_t *)c);
		}
		gads_reply(r, results, errors);
	}
	json_decref(results);
	json_decref(errors);
	json_decref(body);
}

/* Reads field <name> of an x-www-form-urlencoded body into <out>. */
static bool form_get(const struct pxd_http_req *req, const char *name, char *out, size_t outlen)
{
	return query_get(req->body, name, out, outlen);
}

static void oauth(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		  struct pxd_mock_resp *r)
{
	char grant[64], id[256], secret[256], refresh[512];
	size_t slot = m->ntokens_issued % PXD_MOCK_TOKENS;

	if (!form_get(req, "grant_type", grant, sizeof(grant)) ||
	    strcmp(grant, "refresh_token") != 0) {
		reply(r, 400,
		      json_pack("{s:s, s:s}", "error", "unsupported_grant_type",
				"error_description", "Invalid grant_type."));
	} else if (!form_get(req, "client_id", id, sizeof(id)) ||
		   !form_get(req, "client_secret", secret, sizeof(secret)) ||
		   !cred_ok(m->conf.oauth_client_id, id) ||
		   !cred_ok(m->conf.oauth_client_secret, secret)) {
		reply(r, 401,
		      json_pack("{s:s, s:s}", "error", "invalid_client", "error_description",
				"Unauthorized"));
	} else if (!form_get(req, "refresh_token", refresh, sizeof(refresh)) ||
		   !cred_ok(m->conf.oauth_refresh_token, refresh)) {
		reply(r, 400,
		      json_pack("{s:s, s:s}", "error", "invalid_grant", "error_description",
				"Token has been expired or revoked."));
	} else {
		snprintf(m->tokens[slot].token, sizeof(m->tokens[slot].token),
			 "ya29.mock-%u-%06" PRIu64, ++m->ntokens_issued, ++m->ids);
		m->tokens[slot].expires_at_ms = now_ms + (int64_t)m->conf.oauth_expires_in * 1000;
		reply(r, 200,
		      json_pack("{s:s, s:i, s:s, s:s}", "access_token", m->tokens[slot].token,
				"expires_in", (int)m->conf.oauth_expires_in, "token_type", "Bearer",
				"scope", "https://www.googleapis.com/auth/adwords"));
	}
}

/* --- TikTok (§9.4) --- */

static void tiktok_reply(struct pxd_mock *m, struct pxd_mock_resp *r, long code, const char *msg)
{
	char rid[32];

	snprintf(rid, sizeof(rid), "mock%06" PRIu64, ++m->ids);
	r->refused |= code != 0;
	reply(r, 200,
	      json_pack("{s:i, s:s, s:s, s:{}}", "code", (int)code, "message", msg, "request_id",
			rid, "data"));
}

static bool tiktok_event_ok(const json_t *ev, int64_t now_ms, char *why, size_t whylen)
{
	static const char *const hashed[] = { "email", "phone", "external_id" };
	const json_t *u = json_object_get(ev, "user");
	const json_t *t = json_object_get(ev, "event_time");

	if (!json_is_string(json_object_get(ev, "event")) || !json_is_integer(t) ||
	    !json_is_string(json_object_get(ev, "event_id"))) {
		snprintf(why, whylen, "event, event_time and event_id are required");
		return false;
	}
	if (json_integer_value(t) * 1000 < now_ms - 7 * DAY_MS) {
		snprintf(why, whylen, "event_time is more than 7 days in the past");
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(hashed); i++) {
		const json_t *v = json_object_get(u, hashed[i]);

		if (v && !hashed_ok(v)) {
			snprintf(why, whylen, "user.%s must be SHA-256 hashed", hashed[i]);
			return false;
		}
	}
	return true;
}

static void tiktok(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		   struct pxd_mock_resp *r)
{
	static const char *const sources[] = { "web", "app", "offline", "crm" };
	json_t *body = parse_body(req);
	json_t *data = json_object_get(body, "data");
	const char *src = json_string_value(json_object_get(body, "event_source"));
	char tok[512], why[128], msg[192];
	bool src_ok = false;
	const json_t *ev;
	size_t i;

	for (i = 0; src && i < ARRAY_SIZE(sources); i++)
		src_ok |= strcmp(src, sources[i]) == 0;
	/* §2: TikTok reports errors inside an HTTP 200. */
	if (!header(req, "access-token", tok, sizeof(tok)) || !cred_ok(m->conf.tiktok_token, tok)) {
		tiktok_reply(m, r, 40105, "Access token is incorrect or has been revoked.");
	} else if (!src_ok || !json_is_string(json_object_get(body, "event_source_id"))) {
		tiktok_reply(m, r, 40002, "event_source and event_source_id are required.");
	} else if (!json_is_array(data) || !json_array_size(data) || json_array_size(data) > 1000) {
		tiktok_reply(m, r, 40002, "data must hold 1 to 1000 events.");
	} else {
		json_array_foreach(data, i, ev)
		{
			if (tiktok_event_ok(ev, now_ms, why, sizeof(why)))
				continue;
			snprintf(msg, sizeof(msg), "data[%zu]: %s", i, why);
			tiktok_reply(m, r, 40002, msg);
			json_decref(body);
			return;
		}
		json_array_foreach(data, i, ev)
		    record(r, PXD_MOCK_TIKTOK, json_string_value(json_object_get(ev, "event_id")),
			   (json_t *)ev);
		tiktok_reply(m, r, 0, "OK");
	}
	json_decref(body);
}

/* --- pixeld webhook receiver (webhook.h) --- */

static void webhook(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		    struct pxd_mock_resp *r)
{
	char sig[PXD_WEBHOOK_SIG_MAX + 16];
	json_t *body;
	const json_t *ev;
	size_t i;
	int rc;

	if (!header(req, PXD_WEBHOOK_HEADER, sig, sizeof(sig))) {
		reply(r, 401, json_pack("{s:s}", "error", "missing " PXD_WEBHOOK_HEADER));
		return;
	}
	if (m->conf.webhook_secret[0]) {
		rc = pxd_webhook_verify(m->conf.webhook_secret, strlen(m->conf.webhook_secret), sig,
					req->body.p, req->body.n, now_ms / 1000,
					WEBHOOK_TOLERANCE_S);
		if (rc) {
			reply(r, 401,
			      json_pack("{s:s}", "error",
					rc == -ETIME ? "signature too old or from the future"
						     : "bad signature"));
			return;
		}
	}
	body = parse_body(req);
	if (!json_is_array(body)) {
		reply(r, 400,
		      json_pack("{s:s}", "error", "the body must be a JSON array of events"));
		json_decref(body);
		return;
	}
	json_array_foreach(body, i, ev) record(
	    r, PXD_MOCK_WEBHOOK, json_string_value(json_object_get(ev, "event_id")), (json_t *)ev);
	reply(r, 200, json_pack("{s:I}", "received", (json_int_t)json_array_size(body)));
	json_decref(body);
}

void pxd_mock_handle(struct pxd_mock *m, enum pxd_mock_platform p, const struct pxd_http_req *req,
		     int64_t now_ms, struct pxd_mock_resp *r)
{
	if (req->method != PXD_HTTP_POST) {
		reply(r, 405, json_pack("{s:s}", "error", "POST only"));
		return;
	}
	switch (p) {
	case PXD_MOCK_META:
		meta(m, req, now_ms, r);
		break;
	case PXD_MOCK_GA4:
		ga4(m, req, r);
		break;
	case PXD_MOCK_GOOGLE_ADS:
		gads_upload(m, req, now_ms, r);
		break;
	case PXD_MOCK_OAUTH:
		oauth(m, req, now_ms, r);
		break;
	case PXD_MOCK_TIKTOK:
		tiktok(m, req, now_ms, r);
		break;
	case PXD_MOCK_WEBHOOK:
		webhook(m, req, now_ms, r);
		break;
	default:
		reply(r, 404, json_pack("{s:s}", "error", "no such endpoint"));
		break;
	}
}

static const char *google_status(int status)
{
	switch (status) {
	case 400:
		return "INVALID_ARGUMENT";
	case 401:
		return "UNAUTHENTICATED";
	case 403:
		return "PERMISSION_DENIED";
	case 429:
		return "RESOURCE_EXHAUSTED";
	case 503:
		return "UNAVAILABLE";
	case 504:
		return "DEADLINE_EXCEEDED";
	default:
		return "INTERNAL";
	}
}

/* Graph codes that Meta marks transient (§2). */
static bool meta_transient(long code)
{
	return code == 1 || code == 2 || code == 4 || code == 17 || code == 341 || code == 368 ||
	       code == 21009 || code == 80003;
}

void pxd_mock_fault_reply(struct pxd_mock *m, enum pxd_mock_platform p, int status, long code,
			  long subcode, struct pxd_mock_resp *r)
{
	switch (p) {
	case PXD_MOCK_META:
		/* §9.1: the status is not reliable; the code tells. */
		if (!code)
			code = status == 429 ? 4 : status >= 500 ? 2 : 100;
		if (!status)
			status = meta_transient(code) && code != 4 && code != 17 ? 500 : 400;
		meta_error(m, r, status, code, subcode, meta_transient(code), "(mock) injected");
		break;
	case PXD_MOCK_TIKTOK:
		if (code || !status) {
			tiktok_reply(m, r, code ? code : 50000, "(mock) injected");
			break;
		}
		r->status = status;
		snprintf(r->content_type, sizeof(r->content_type), "text/html");
		pxd_buf_printf(&r->body, "<html><body><h1>%d</h1>(mock) injected</body></html>",
			       status);
		break;
	case PXD_MOCK_GOOGLE_ADS:
		if (!status)
			status = 500;
		snprintf(r->extra_header, sizeof(r->extra_header), "request-id: mock%06" PRIu64,
			 ++m->ids);
		gads_error(r, status, google_status(status), "internalError",
			   status >= 500 || status == 429 ? "TRANSIENT_ERROR" : "INTERNAL_ERROR",
			   "(mock) injected");
		break;
	case PXD_MOCK_OAUTH:
		if (!status)
			status = 400;
		reply(r, status,
		      status < 500 ? json_pack("{s:s, s:s}", "error", "invalid_grant",
					       "error_description", "(mock) injected")
				   : json_pack("{s:s}", "error", "internal_failure"));
		break;
	default:
		reply(r, status ? status : 500, json_pack("{s:s}", "error", "(mock) injected"));
		break;
	}
}
