// SPDX-License-Identifier: MIT
/*
 * google_ads.c - Google Ads click conversions (specs/ad-apis.md §9.3): POST
 * {api_base}/{api_version}/customers/{cid}:uploadClickConversions with
 * partialFailure=true and up to 2,000 conversions. Failed rows come back as
 * empty results with their errors in partialFailureError (§2).
 *
 * The OAuth2 access token (google_oauth.h) travels through the same hooks:
 * when it is missing or about to expire, build() turns the batch's request
 * into the token refresh, and classify() stores the token and hands the
 * events back as "unsent:" retries due at once. A 401 drops the token and is
 * retried the same way once; a second 401 in a row needs the operator.
 *
 * Longer than the other adapters and kept whole: adapters/ holds one file
 * per platform, and the extra length is Google's own (partial-failure rows,
 * the token hand-off above), which no other file would share.
 */
#include "adapter.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/ad_event.h"
#include "adapters/payload_fields.h"
#include "adapters/payload_json.h"
#include "adapters/payload_line.h"
#include "event_line.h"
#include "daemon.h"
#include "google_oauth.h"
#include "payload.h"
#include "retry.h"

#define PLATFORM "google_ads"
/* §7: conversions up to the action's click-through window, at most 90 days. */
#define MAX_AGE_MS (90 * PXD_PAYLOAD_DAY_MS)
/* §2: TOO_RECENT_* means the click or action is under 6 h old; ask again in an hour. */
#define TOO_RECENT_RETRY_MS (3600 * 1000u)
/* Requests of one destination out at once; more than the dispatcher allows. */
#define INFLIGHT_MAX 64

/* Which request a batch went out as, found again by its items pointer when
 * the response comes back. */
struct inflight {
	const struct pxd_batch_item *items;
	uint32_t generation; /* of the token it carried */
	bool refresh;	     /* the token request, not an upload */
};

struct gads {
	char base[256];
	char version[16];
	char customer_id[16];
	char login_customer_id[16];
	char developer_token[256];
	char action[160]; /* default conversion action (resource name), or "" */
	bool validate_only;
	bool refreshing;  /* a token request is out */
	bool retried_401; /* refreshed after a 401, no upload went through since */
	struct pxd_google_oauth oauth;
	struct inflight inflight[INFLIGHT_MAX];
	size_t ninflight;
	struct pxd_buf text; /* field text unescaped (pxd_payload_jv_text()), reused */
};

/* Digits with optional '-' ("123-456-7890") into digits; false if not 10 digits. */
static bool customer_digits(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	for (; *in; in++) {
		if (*in == '-')
			continue;
		if (!isdigit((unsigned char)*in) || n + 1 >= outlen)
			return false;
		out[n++] = *in;
	}
	out[n] = '\0';
	return n == 10;
}

/* Skips the digits at <*p>; false when there are none. */
static bool digits(const char **p)
{
	size_t n = strspn(*p, "0123456789");

	*p += n;
	return n > 0;
}

/* A conversion action as "customers/<cid>/conversionActions/<id>", or the
 * bare id, expanded with <cid>. Returns false when it is neither. */
static bool action_name(const char *v, const char *cid, char *out, size_t outlen)
{
	static const char pre[] = "customers/", mid[] = "/conversionActions/";
	const char *p = v;

	if (digits(&p) && !*p)
		return snprintf(out, outlen, "customers/%s/conversionActions/%s", cid, v) <
		       (int)outlen;
	p = v + sizeof(pre) - 1;
	if (strncmp(v, pre, sizeof(pre) - 1) != 0 || !digits(&p) ||
	    strncmp(p, mid, sizeof(mid) - 1) != 0)
		return false;
	p += sizeof(mid) - 1;
	if (!digits(&p) || *p)
		return false;
	return snprintf(out, outlen, "%s", v) < (int)outlen;
}

static int init_ids(struct pxd_dest *dest, struct gads *g, const char *conf_path, char *err,
		    size_t errlen)
{
	static const char *const ids[] = { "customer_id", "login_customer_id" };
	char *outs[] = { g->customer_id, g->login_customer_id };
	char v[PXD_CONF_VALUE_MAX];
	int line;

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		line = dest->conf->line;
		if (pxd_payload_key(dest, conf_path, ids[i], i ? "" : NULL, v, sizeof(v), err,
				    errlen))
			return -EINVAL;
		if (!*v || customer_digits(v, outs[i], sizeof(g->customer_id)))
			continue;
		pxd_conf_dest_get(dest->conf, ids[i], &line);
		snprintf(err, errlen, "%s:%d: %s: \"%s\" is not a 10-digit Google Ads customer id",
			 conf_path, line, ids[i], v);
		return -EINVAL;
	}
	return 0;
}

/* The default conversion_action and every map.<Canonical> must name an action. */
static int init_actions(struct pxd_dest *dest, struct gads *g, const char *conf_path, char *err,
			size_t errlen)
{
	const struct pxd_conf_dest *c = dest->conf;
	char tmp[sizeof(g->action)];
	int line = c->line;
	const char *v = pxd_conf_dest_get(c, "conversion_action", &line);

	if (v && !action_name(v, g->customer_id, g->action, sizeof(g->action))) {
		snprintf(
		    err, errlen,
		    "%s:%d: conversion_action: \"%s\" is not customers/<cid>/conversionActions/"
		    "<id> or an id",
		    conf_path, line, v);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->nkv; i++) {
		if (strncmp(c->kv[i].key, "map.", 4) != 0 ||
		    action_name(c->kv[i].value, g->customer_id, tmp, sizeof(tmp)))
			continue;
		snprintf(err, errlen,
			 "%s:%d: %s: \"%s\" is not customers/<cid>/conversionActions/<id> or an id",
			 conf_path, c->kv[i].line, c->kv[i].key, c->kv[i].value);
		return -EINVAL;
	}
	return 0;
}

static int init_oauth(struct pxd_dest *dest, struct gads *g, const char *conf_path, char *err,
		      size_t errlen)
{
	char url[512], id[256], secret[256], refresh[512];
	int rc =
	    pxd_payload_key(dest, conf_path, "token_url", "https://oauth2.googleapis.com/token",
			    url, sizeof(url), err, errlen);

	if (!rc)
		rc = pxd_payload_key(dest, conf_path, "client_id", NULL, id, sizeof(id), err,
				     errlen);
	if (!rc)
		rc = pxd_payload_secret(dest, conf_path, "client_secret", secret, sizeof(secret),
					err, errlen);
	if (!rc)
		rc = pxd_payload_secret(dest, conf_path, "refresh_token", refresh, sizeof(refresh),
					err, errlen);
	if (!rc && pxd_google_oauth_init(&g->oauth, url, id, secret, refresh)) {
		int line = dest->conf->line;

		pxd_conf_dest_get(dest->conf, "token_url", &line);
		snprintf(err, errlen, "%s:%d: token_url: \"%s\" is not an http(s) URL", conf_path,
			 line, url);
		rc = -EINVAL;
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(refresh, sizeof(refresh));
	return rc;
}

static const char *const conf_keys[] = {
	"api_base",	     "api_version",	"customer_id",	 "login_customer_id",
	"conversion_action", "developer_token", "client_id",	 "client_secret",
	"refresh_token",     "token_url",	"validate_only", NULL
};

static int gads_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	struct gads *g = calloc(1, sizeof(*g));
	int rc;

	if (!g)
		return -ENOMEM;
	dest->priv = g;
	rc = pxd_payload_check_keys(dest, conf_path, conf_keys, true, err, errlen);
	if (!rc)
		rc = pxd_payload_api_base(dest, conf_path, "https://googleads.googleapis.com",
					  g->base, sizeof(g->base), err, errlen);
	if (!rc)
		rc = pxd_payload_key_shape(dest, conf_path, "api_version", "v", "0123456789",
					   "a version such as v21", g->version, sizeof(g->version),
					   err, errlen);
	if (!rc)
		rc = init_ids(dest, g, conf_path, err, errlen);
	if (!rc)
		rc = init_actions(dest, g, conf_path, err, errlen);
	if (!rc)
		rc = pxd_payload_secret(dest, conf_path, "developer_token", g->developer_token,
					sizeof(g->developer_token), err, errlen);
	if (!rc)
		rc = pxd_payload_bool(dest, conf_path, "validate_only", false, &g->validate_only,
				      err, errlen);
	if (!rc)
		rc = init_oauth(dest, g, conf_path, err, errlen);
	return rc;
}

static void gads_fini(struct pxd_dest *dest)
{
	struct gads *g = dest->priv;

	if (g) {
		pxd_google_oauth_wipe(&g->oauth);
		OPENSSL_cleanse(g->developer_token, sizeof(g->developer_token));
		pxd_buf_free(&g->text);
	}
	free(g);
	dest->priv = NULL;
}

/* The conversion action of line <el>: map.<Canonical>, else
 * conversion_action. */
static bool event_action(struct pxd_dest *dest, const struct pxd_event_line *el, char *out,
			 size_t outlen)
{
	struct gads *g = dest->priv;
	const char *text = pxd_payload_jv_text(&el->top[PXD_LINE_EVENT], &g->text);
	const char *v = text ? pxd_payload_event_name(dest, text, NULL, 0, false) : NULL;

	if (v)
		return action_name(v, g->customer_id, out, outlen);
	return g->action[0] && snprintf(out, outlen, "%s", g->action) < (int)outlen;
}

/* §5: one click id per conversion; gclid (web) before wbraid (iOS web) and
 * gbraid (app). */
static const enum pxd_click_field click_keys[] = { PXD_CLICK_FIELD_GCLID, PXD_CLICK_FIELD_WBRAID,
						   PXD_CLICK_FIELD_GBRAID };

/* The first click id <el> has, or NULL. */
static const struct pxd_jv *click_id(const struct pxd_event_line *el)
{
	for (size_t i = 0; i < ARRAY_SIZE(click_keys); i++)
		if (pxd_jv_is_str(&el->click[click_keys[i]]))
			return &el->click[click_keys[i]];
	return NULL;
}

/* §7: "yyyy-mm-dd hh:mm:ss+00:00", from ts so it never changes between
 * attempts (Google dedups on it, §6). */
static void date_time(int64_t ts_ms, char out[32])
{
	time_t t = (time_t)(ts_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M:%S+00:00", &tm);
}

/* The hashed email (Gmail dots removed when ingest had them) and E.164
 * phone Google matches on, each NULL unless a SHA-256. */
static void identifiers(const struct pxd_event_line *el, const struct pxd_jv **em,
			const struct pxd_jv **ph)
{
	*em = &el->user[PXD_LINE_USER_EMAIL_GOOGLE_SHA256];
	*ph = &el->user[PXD_LINE_USER_PHONE_E164_SHA256];
	if (!pxd_jv_is_str(*em))
		*em = &el->user[PXD_LINE_USER_EMAIL_SHA256];
	if (!pxd_payload_jv_is_sha256(*em))
		*em = NULL;
	if (!pxd_payload_jv_is_sha256(*ph))
		*ph = NULL;
}

static void user_identifiers(struct pxd_payload_out *o, const struct pxd_event_line *el)
{
	const struct pxd_jv *ids[2];
	static const char *const keys[2] = { "hashedEmail", "hashedPhoneNumber" };

	identifiers(el, &ids[0], &ids[1]);
	if (!ids[0] && !ids[1])
		return;
	pxd_payload_out_key(o, "userIdentifiers");
	pxd_payload_out_open(o, '[');
	for (size_t i = 0; i < 2; i++) {
		if (!ids[i])
			continue;
		pxd_payload_out_open(o, '{');
		pxd_payload_out_member(o, keys[i], ids[i]);
		pxd_payload_out_key(o, "userIdentifierSource");
		pxd_payload_out_str(o, "FIRST_PARTY", 11);
		pxd_payload_out_close(o, '}');
	}
	pxd_payload_out_close(o, ']');
}

static void consent(struct pxd_payload_out *o, const struct pxd_event_line *el)
{
	static const struct {
		enum pxd_consent_field key;
		const char *field;
	} map[] = { { PXD_CONSENT_FIELD_AD_USER_DATA, "adUserData" },
		    { PXD_CONSENT_FIELD_AD_PERSONALIZATION, "adPersonalization" } };
	struct pxd_payload_mark empty = pxd_payload_out_mark(o);

	pxd_payload_out_key(o, "consent");
	pxd_payload_out_open(o, '{');
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		const struct pxd_jv *v = &el->consent[map[i].key];
		bool granted = pxd_jv_eq(v, "granted");

		if (!granted && !pxd_jv_eq(v, "denied"))
			continue;
		pxd_payload_out_key(o, map[i].field);
		pxd_payload_out_str(o, granted ? "GRANTED" : "DENIED", granted ? 7 : 6);
	}
	pxd_payload_out_close(o, '}');
	pxd_payload_out_drop_empty(o, &empty);
}

static int conversion(struct pxd_dest *dest, struct pxd_payload_out *o,
		      const struct pxd_event_line *el)
{
	static const char *const keys[] = { "value", "currency", "order_id" };
	char action[sizeof(((struct gads *)0)->action)], when[32];
	const struct pxd_jv *src = &el->top[PXD_LINE_ACTION_SOURCE];
	const struct pxd_jv *click = click_id(el);
	enum pxd_ad_source s = pxd_ad_source(el);
	struct pxd_jv v[3];

	pxd_line_props_members(el, keys, 3, v);
	if (!pxd_jv_is_str(&v[2]))
		v[2] = el->top[PXD_LINE_EVENT_ID];
	if (!pxd_jv_is_str(&v[2]))
		return -EINVAL;
	if (!event_action(dest, el, action, sizeof(action)))
		action[0] = '\0';
	date_time(pxd_event_line_ts(el), when);
	pxd_payload_out_open(o, '{');
	pxd_payload_out_key(o, "conversionAction");
	pxd_payload_out_str(o, action, strlen(action));
	pxd_payload_out_key(o, "conversionDateTime");
	pxd_payload_out_str(o, when, strlen(when));
	if (pxd_jv_is_number(&v[0])) {
		pxd_payload_out_key(o, "conversionValue");
		pxd_payload_out_jv_real(o, &v[0]);
	}
	if (pxd_jv_is_str(&v[1]))
		pxd_payload_out_member(o, "currencyCode", &v[1]);
	/* §6: Google drops a second conversion with the same orderId; the
	 * event_id, pixeld's dedup key everywhere, stands in for events that
	 * carry no order id, so a resent event is never counted twice. */
	pxd_payload_out_member(o, "orderId", &v[2]);
	if (click)
		pxd_payload_out_member(o, pxd_event_click_names[click - el->click].p, click);
	/* conversionEnvironment is APP or WEB (else UNSPECIFIED): sent for
	 * a server's action_source only, so browser events stay as they were. */
	if (pxd_jv_is_str(src) && (s == PXD_AD_SOURCE_WEBSITE || s == PXD_AD_SOURCE_APP)) {
		pxd_payload_out_key(o, "conversionEnvironment");
		pxd_payload_out_str(o, s == PXD_AD_SOURCE_APP ? "APP" : "WEB", 3);
	}
	user_identifiers(o, el);
	consent(o, el);
	pxd_payload_out_close(o, '}');
	return 0;
}

static void track(struct gads *g, const struct pxd_batch *b, bool refresh)
{
	/* Full only if the dispatcher loses responses; then the oldest
	 * entry is the one that will never come back. */
	if (g->ninflight == INFLIGHT_MAX) {
		memmove(g->inflight, g->inflight + 1, sizeof(g->inflight[0]) * (INFLIGHT_MAX - 1));
		g->ninflight--;
	}
	g->inflight[g->ninflight++] = (struct inflight){
		.items = b->items,
		.generation = pxd_google_oauth_generation(&g->oauth),
		.refresh = refresh,
	};
}

/* Finds and forgets the request <b> went out as; an unknown batch counts as
 * an upload with the current token. */
static struct inflight untrack(struct gads *g, const struct pxd_batch *b)
{
	struct inflight f = { b->items, pxd_google_oauth_generation(&g->oauth), false };

	for (size_t i = 0; i < g->ninflight; i++) {
		if (g->inflight[i].items != b->items)
			continue;
		f = g->inflight[i];
		g->inflight[i] = g->inflight[--g->ninflight];
		break;
	}
	return f;
}

static int build_upload(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct gads *g = dest->priv;
	struct pxd_payload_out o;
	int rc;

	pxd_payload_out_init(&o, &req->body);
	pxd_payload_out_open(&o, '{');
	pxd_payload_out_key(&o, "conversions");
	pxd_payload_out_open(&o, '[');
	rc = pxd_payload_events(dest, b, &o, conversion);
	pxd_payload_out_close(&o, ']');
	pxd_payload_out_key(&o, "partialFailure");
	pxd_payload_out_bool(&o, true);
	pxd_payload_out_key(&o, "validateOnly");
	pxd_payload_out_bool(&o, g->validate_only);
	pxd_payload_out_close(&o, '}');
	if (!rc)
		rc = o.err;
	if (!rc)
		rc = pxd_payload_url(req, "%s/%s/customers/%s:uploadClickConversions", g->base,
				     g->version, g->customer_id);
	if (!rc)
		rc = pxd_payload_header(req, "Content-Type: application/json");
	if (!rc)
		rc = pxd_payload_header(req, "Authorization: Bearer %s",
					pxd_google_oauth_token(&g->oauth));
	if (!rc)
		rc = pxd_payload_header(req, "developer-token: %s", g->developer_token);
	if (!rc && g->login_customer_id[0])
		rc = pxd_payload_header(req, "login-customer-id: %s", g->login_customer_id);
	return rc;
}

/*
 * Returns 0 with the upload (or, when the token needs refreshing, the token
 * request) in <req>; -EAGAIN while another batch's token request is out: the
 * dispatcher keeps the batch and builds it again shortly.
 */
static int gads_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct gads *g = dest->priv;
	int rc;

	if (!pxd_google_oauth_valid(&g->oauth, pxd_mono_ms())) {
		if (g->refreshing)
			return -EAGAIN;
		rc = pxd_google_oauth_build_refresh(&g->oauth, req);
		if (!rc) {
			g->refreshing = true;
			track(g, b, true);
		}
		return rc;
	}
	rc = build_upload(dest, b, req);
	if (!rc)
		track(g, b, false);
	return rc;
}

static enum pxd_delivery gads_validate(struct pxd_dest *dest, const struct pxd_event_line *el,
				       char *reason, size_t reason_len)
{
	struct gads *g = dest->priv;
	char action[sizeof(((struct gads *)0)->action)];
	const struct pxd_jv *click = click_id(el), *em, *ph;
	const char *text;
	enum pxd_delivery d;

	d = pxd_payload_check_common_line(el, PLATFORM, pxd_now_ms(), MAX_AGE_MS, &g->text, reason,
					  reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	if (!event_action(dest, el, action, sizeof(action))) {
		text = pxd_payload_jv_text(&el->top[PXD_LINE_EVENT], &g->text);
		snprintf(reason, reason_len,
			 PLATFORM ": no conversion action for %.40s; set map.%.40s or "
				  "conversion_action",
			 text ? text : "", text ? text : "");
		return PXD_DELIVERY_PERMANENT;
	}
	text = click ? pxd_payload_jv_text(click, &g->text) : NULL;
	if (text && text[strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789-_")]) {
		snprintf(reason, reason_len,
			 PLATFORM ": click id has characters Google never puts in one "
				  "(UNPARSEABLE_GCLID)");
		return PXD_DELIVERY_PERMANENT;
	}
	identifiers(el, &em, &ph);
	if (!click && !em && !ph) {
		snprintf(reason, reason_len,
			 PLATFORM ": needs click.gclid, click.wbraid, click.gbraid or a hashed "
				  "email or phone");
		return PXD_DELIVERY_PERMANENT;
	}
	return PXD_DELIVERY_OK;
}

/* The first error code of a GoogleAdsError: {"errorCode":{"<kind>":"<CODE>"}}. */
static void error_code(const json_t *e, const char **kind, const char **code)
{
	const char *k;
	json_t *v;

	*kind = "";
	*code = "";
	json_object_foreach(json_object_get(e, "errorCode"), k, v)
	{
		*kind = k;
		*code = json_is_string(v) ? json_string_value(v) : "";
		return;
	}
}

static enum pxd_delivery code_delivery(const char *kind, const char *code)
{
	if (strcmp(code, "CLICK_CONVERSION_ALREADY_EXISTS") == 0)
		return PXD_DELIVERY_OK; /* §6: a dedup hit */
	if (strncmp(code, "TOO_RECENT_", 11) == 0 || strcmp(kind, "internalError") == 0 ||
	    strcmp(kind, "quotaError") == 0)
		return PXD_DELIVERY_RETRY;
	return PXD_DELIVERY_PERMANENT;
}

/* The conversions[] index an error points at, or -1. */
static long error_index(const json_t *e)
{
	const json_t *path = json_object_get(json_object_get(e, "location"), "fieldPathElements");
	const json_t *first = json_array_get(path, 0);
	const json_t *idx = json_object_get(first, "index");

	return json_is_integer(idx) ? (long)json_integer_value(idx) : -1;
}

static int rank(enum pxd_delivery d)
{
	return d == PXD_DELIVERY_PERMANENT ? 2 : d == PXD_DELIVERY_RETRY ? 1 : 0;
}

/* Rows start OK with an empty reason; an error sets one. With several errors
 * on a row, the worst decides. */
static void set_row(struct pxd_outcome *o, const char *kind, const char *code, const char *msg)
{
	enum pxd_delivery d = code_delivery(kind, code);

	if (o->reason[0] && rank(d) <= rank(o->delivery))
		return;
	pxd_payload_outcomes(o, 1, d,
			     strncmp(code, "TOO_RECENT_", 11) == 0 ? TOO_RECENT_RETRY_MS : 0,
			     PLATFORM ": %s: %.120s", code, msg ? msg : "");
}

/* A 200: per-row outcomes from results[] and partialFailureError (§2). */
static void classify_rows(const struct pxd_batch *b, const json_t *body, struct pxd_outcome *out)
{
	const json_t *results = json_object_get(body, "results");
	const json_t *pfe = json_object_get(body, "partialFailureError");
	const char *pfe_msg = json_string_value(json_object_get(pfe, "message"));
	const json_t *detail, *e;
	size_t i, j;

	pxd_payload_outcomes(out, b->n, PXD_DELIVERY_OK, 0, "%s", "");
	json_array_foreach(json_object_get(pfe, "details"), i, detail)
	{
		json_array_foreach(json_object_get(detail, "errors"), j, e)
		{
			const char *kind, *code;
			long idx = error_index(e);

			if (idx < 0 || (size_t)idx >= b->n)
				continue;
			error_code(e, &kind, &code);
			set_row(&out[idx], kind, code,
				json_string_value(json_object_get(e, "message")));
		}
	}
	/* A row left empty that no error names still failed. */
	for (i = 0; pfe && i < b->n; i++) {
		const json_t *r = json_array_get(results, i);

		if (!out[i].reason[0] && json_is_object(r) && !json_object_size(r))
			pxd_payload_outcomes(&out[i], 1, PXD_DELIVERY_PERMANENT, 0,
					     PLATFORM ": row failed: %.120s",
					     pfe_msg ? pfe_msg : "");
	}
}

/* A non-200 with the REST error envelope: the whole request (§9.3). */
static bool classify_envelope(const struct pxd_batch *b, const struct pxd_response *resp,
			      const json_t *body, struct pxd_outcome *out)
{
	static const char *const retry_status[] = { "RESOURCE_EXHAUSTED", "INTERNAL", "UNAVAILABLE",
						    "DEADLINE_EXCEEDED" };
	const json_t *err = json_object_get(body, "error");
	const char *status = json_string_value(json_object_get(err, "status"));
	const char *msg = json_string_value(json_object_get(err, "message"));
	const char *kind = "", *code = "";
	const json_t *detail;
	enum pxd_delivery d = PXD_DELIVERY_PERMANENT;
	size_t i;

	if (!status)
		return false;
	for (i = 0; i < ARRAY_SIZE(retry_status); i++)
		if (strcmp(status, retry_status[i]) == 0)
			d = PXD_DELIVERY_RETRY;
	json_array_foreach(json_object_get(err, "details"), i, detail)
	{
		const json_t *e = json_array_get(json_object_get(detail, "errors"), 0);

		if (!e)
			continue;
		error_code(e, &kind, &code);
		if (code_delivery(kind, code) == PXD_DELIVERY_RETRY)
			d = PXD_DELIVERY_RETRY;
		break;
	}
	pxd_payload_outcomes(out, b->n, d, resp->retry_after_ms, PLATFORM ": HTTP %ld %s %s: %.96s",
			     resp->status, status, code, msg ? msg : "");
	return true;
}

static void classify_refresh(struct gads *g, const struct pxd_batch *b,
			     const struct pxd_response *resp, struct pxd_outcome *out)
{
	char why[sizeof(out->reason)];
	enum pxd_delivery d;

	g->refreshing = false;
	d = pxd_google_oauth_accept(&g->oauth, resp, pxd_mono_ms(), why, sizeof(why));
	if (d == PXD_DELIVERY_OK)
		pxd_payload_outcomes(out, b->n, PXD_DELIVERY_RETRY, 1,
				     PXD_RETRY_UNSENT PLATFORM ": fetched an access token");
	else
		pxd_payload_outcomes(out, b->n, d, resp->retry_after_ms, PLATFORM ": %s", why);
}

static void classify_401(struct gads *g, const struct pxd_batch *b, struct inflight f,
			 struct pxd_outcome *out)
{
	if (f.generation != pxd_google_oauth_generation(&g->oauth)) {
		/* Sent with a token that has been replaced since. */
		pxd_payload_outcomes(out, b->n, PXD_DELIVERY_RETRY, 1,
				     PXD_RETRY_UNSENT PLATFORM ": HTTP 401 with an older token");
		return;
	}
	if (g->retried_401) {
		pxd_payload_outcomes(out, b->n, PXD_DELIVERY_PERMANENT, 0,
				     PLATFORM ": HTTP 401 again with a fresh token; check "
					      "developer_token, login_customer_id and the OAuth "
					      "client's access to customer_id");
		return;
	}
	g->retried_401 = true;
	pxd_google_oauth_invalidate(&g->oauth);
	pxd_payload_outcomes(out, b->n, PXD_DELIVERY_RETRY, 1,
			     PXD_RETRY_UNSENT PLATFORM
			     ": HTTP 401; refreshing the access token once");
}

static void gads_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			  const struct pxd_response *resp, struct pxd_outcome *out)
{
	struct gads *g = dest->priv;
	struct inflight f = untrack(g, b);
	json_t *body;

	if (f.refresh) {
		classify_refresh(g, b, resp, out);
		return;
	}
	if (resp->status == 401) {
		classify_401(g, b, f, out);
		return;
	}
	body = resp->status ? pxd_payload_parse_body(resp) : NULL;
	if (resp->status == 200 && json_is_object(body)) {
		g->retried_401 = false;
		classify_rows(b, body, out);
	} else if (!json_is_object(body) || !classify_envelope(b, resp, body, out)) {
		pxd_payload_classify_http(PLATFORM, resp, out, b->n);
	}
	json_decref(body);
}

const struct pxd_adapter pxd_adapter_google_ads = {
	.type = "google_ads",
	.max_events = 2000,
	/* §1 gives no byte limit [U]; 2,000 conversions of ~800 bytes. */
	.max_bytes = 2 * 1000 * 1000,
	.flags = PXD_ADAPTER_AD | PXD_ADAPTER_READS_LINE,
	.init = gads_init,
	.fini = gads_fini,
	.validate = pxd_payload_validate_tree,
	.validate_line = gads_validate,
	.build = gads_build,
	.classify = gads_classify,
};
