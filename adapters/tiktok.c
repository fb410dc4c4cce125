// SPDX-License-Identifier: MIT
/*
 * tiktok.c - TikTok Events API 2.0 (specs/ad-apis.md §9.4): POST
 * {api_base}/open_api/v1.3/event/track/ with data[] of up to 1,000 events
 * and the token in the Access-Token header. event_source is per request:
 * "web" (the pixel_code) for website events, "offline" (the
 * offline_event_set_id) for a server's store, phone, email, chat and other
 * events (action_source); a batch of both is sent one source at a time
 * (batch_split.h). TikTok answers
 * errors inside an HTTP 200 (§2), so its body code decides; one bad event
 * fails the whole batch (40002), which comes back as "batch:" reasons that
 * the dispatcher bisects (bisect.h).
 */
#include "adapter.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/ad_event.h"
#include "adapters/batch_split.h"
#include "adapters/payload_fields.h"
#include "adapters/payload_json.h"
#include "adapters/payload_line.h"
#include "event_line.h"
#include "bisect.h"
#include "daemon.h"
#include "payload.h"

#define PLATFORM "tiktok"
/* §7: no published window [U]; 7 days is the safe limit, less queueing. */
#define MAX_AGE_MS (7 * PXD_PAYLOAD_DAY_MS - 3600 * 1000LL)

/* Which event source an event goes to (batch_split.h keys). */
enum source {
	SOURCE_WEB = 0,
	SOURCE_OFFLINE,
};

struct tiktok {
	char url[512];
	char pixel_code[64];
	char offline_id[64]; /* offline_event_set_id; "" when not set */
	char token[512];
	char test_code[64];
	struct pxd_buf text; /* field text unescaped (pxd_payload_jv_text()), reused */
};

/* §8 (standard events page, Sept 2025). PageView is not an Events API
 * standard event [U]: it keeps its canonical name unless mapped. */
static const struct pxd_payload_name names[] = {
	{ "ViewContent", "ViewContent" },
	{ "Search", "Search" },
	{ "AddToCart", "AddToCart" },
	{ "AddToWishlist", "AddToWishlist" },
	{ "InitiateCheckout", "InitiateCheckout" },
	{ "AddPaymentInfo", "AddPaymentInfo" },
	{ "Purchase", "Purchase" },
	{ "Lead", "Lead" },
	{ "CompleteRegistration", "CompleteRegistration" },
	{ "Subscribe", "Subscribe" },
	{ "StartTrial", "StartTrial" },
	{ "Contact", "Contact" },
};

static const char *const conf_keys[] = { "api_base",	    "pixel_code",	    "access_token",
					 "test_event_code", "offline_event_set_id", NULL };

static int tiktok_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	struct tiktok *t = calloc(1, sizeof(*t));
	char base[256];
	int rc;

	if (!t)
		return -ENOMEM;
	dest->priv = t;
	rc = pxd_payload_check_keys(dest, conf_path, conf_keys, true, err, errlen);
	if (!rc)
		rc = pxd_payload_api_base(dest, conf_path, "https://business-api.tiktok.com", base,
					  sizeof(base), err, errlen);
	if (!rc)
		snprintf(t->url, sizeof(t->url), "%s/open_api/v1.3/event/track/", base);
	if (!rc)
		rc = pxd_payload_key_shape(dest, conf_path, "pixel_code", "",
					   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
					   "a TikTok pixel code (capital letters and digits)",
					   t->pixel_code, sizeof(t->pixel_code), err, errlen);
	if (!rc)
		rc = pxd_payload_secret(dest, conf_path, "access_token", t->token, sizeof(t->token),
					err, errlen);
	if (!rc)
		rc = pxd_payload_key(dest, conf_path, "test_event_code", "", t->test_code,
				     sizeof(t->test_code), err, errlen);
	if (!rc && pxd_conf_dest_get(dest->conf, "offline_event_set_id", NULL))
		rc = pxd_payload_key_shape(dest, conf_path, "offline_event_set_id", "",
					   "0123456789", "a TikTok offline event set id (digits)",
					   t->offline_id, sizeof(t->offline_id), err, errlen);
	if (!rc)
		rc = pxd_payload_check_map(dest, conf_path, "", err, errlen);
	return rc;
}

static void tiktok_fini(struct pxd_dest *dest)
{
	struct tiktok *t = dest->priv;

	if (t) {
		OPENSSL_cleanse(t->token, sizeof(t->token));
		pxd_buf_free(&t->text);
	}
	free(t);
	dest->priv = NULL;
}

/* §3: email trimmed and lowercased, phone E.164 with '+', external_id hashed. */
static const struct pxd_payload_field user_fields[] = {
	{ PXD_USER(EMAIL_SHA256), "email", PXD_FIELD_HASHED, false },
	{ PXD_USER(PHONE_E164_SHA256), "phone", PXD_FIELD_HASHED, false },
	{ PXD_USER(ID), "external_id", PXD_FIELD_HASH, false },
	{ PXD_CLICK(TTCLID), "ttclid", PXD_FIELD_PLAIN, false },
	{ PXD_CLICK(TTP), "ttp", PXD_FIELD_PLAIN, false },
	{ PXD_TOP(IP), "ip", PXD_FIELD_PLAIN, false },
	{ PXD_TOP(UA), "user_agent", PXD_FIELD_PLAIN, false },
};

/* The member <key>: <v> when <v> is a string of at least one byte. */
static void str_member(struct pxd_payload_out *o, const char *key, const struct pxd_jv *v)
{
	if (pxd_jv_is_str(v))
		pxd_payload_out_member(o, key, v);
}

static void properties(struct pxd_payload_out *o, const struct pxd_event_line *el)
{
	enum { CONTENTS = 0, VALUE, CURRENCY, ORDER_ID, QUERY, NKEYS };
	static const char *const keys[NKEYS] = { "contents", "value", "currency", "order_id",
						 "query" };
	struct pxd_payload_mark empty = pxd_payload_out_mark(o);
	struct pxd_jv v[NKEYS];

	pxd_line_props_members(el, keys, NKEYS, v);
	pxd_payload_out_key(o, "properties");
	pxd_payload_out_open(o, '{');
	if (v[CONTENTS].type == PXD_JV_ARRAY) {
		pxd_payload_out_key(o, "contents");
		pxd_payload_out_items(o, &v[CONTENTS], "content_id");
		pxd_payload_out_key(o, "content_type");
		pxd_payload_out_str(o, "product", 7);
	}
	if (pxd_jv_is_number(&v[VALUE])) {
		pxd_payload_out_key(o, "value");
		pxd_payload_out_jv_real(o, &v[VALUE]);
	}
	str_member(o, "currency", &v[CURRENCY]);
	str_member(o, "order_id", &v[ORDER_ID]);
	str_member(o, "query", &v[QUERY]);
	pxd_payload_out_close(o, '}');
	pxd_payload_out_drop_empty(o, &empty);
}

static int event(struct pxd_dest *dest, struct pxd_payload_out *o, const struct pxd_event_line *el)
{
	struct tiktok *t = dest->priv;
	const char *text = pxd_payload_jv_text(&el->top[PXD_LINE_EVENT], &t->text);
	const char *name =
	    text ? pxd_payload_event_name(dest, text, names, ARRAY_SIZE(names), true) : NULL;
	struct pxd_payload_mark empty;

	if (!name || !pxd_jv_is_str(&el->top[PXD_LINE_EVENT_ID]))
		return -EINVAL;
	pxd_payload_out_open(o, '{');
	pxd_payload_out_key(o, "event");
	pxd_payload_out_str(o, name, strlen(name));
	pxd_payload_out_key(o, "event_time");
	pxd_payload_out_int(o, pxd_event_line_ts(el) / 1000);
	pxd_payload_out_member(o, "event_id", &el->top[PXD_LINE_EVENT_ID]);
	pxd_payload_out_key(o, "user");
	pxd_payload_out_open(o, '{');
	pxd_payload_fields(o, el, user_fields, ARRAY_SIZE(user_fields), &t->text);
	pxd_payload_out_close(o, '}');
	empty = pxd_payload_out_mark(o);
	pxd_payload_out_key(o, "page");
	pxd_payload_out_open(o, '{');
	str_member(o, "url", &el->top[PXD_LINE_URL]);
	str_member(o, "referrer", &el->top[PXD_LINE_REFERRER]);
	pxd_payload_out_close(o, '}');
	pxd_payload_out_drop_empty(o, &empty);
	properties(o, el);
	pxd_payload_out_close(o, '}');
	return 0;
}

/* A website event (or one without action_source) is the pixel's; the
 * others go to the offline event set (validate refuses app events). A line
 * that does not read is left with the first (build refuses it). */
static int source(const struct pxd_dest *dest, const struct pxd_batch_item *it)
{
	struct pxd_event_line tmp;
	const struct pxd_event_line *el = pxd_payload_item_line(it, &tmp);

	(void)dest;
	if (!el)
		return SOURCE_WEB;
	return pxd_ad_source(el) == PXD_AD_SOURCE_WEBSITE ? SOURCE_WEB : SOURCE_OFFLINE;
}

/* One event source's request: pxd_split_build() hands over one source. */
static int build_one(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct tiktok *t = dest->priv;
	bool web = !b->n || source(dest, &b->items[0]) == SOURCE_WEB;
	const char *id = web ? t->pixel_code : t->offline_id;
	struct pxd_payload_out o;
	int rc;

	pxd_payload_out_init(&o, &req->body);
	pxd_payload_out_open(&o, '{');
	pxd_payload_out_key(&o, "event_source");
	pxd_payload_out_str(&o, web ? "web" : "offline", web ? 3 : 7);
	pxd_payload_out_key(&o, "event_source_id");
	pxd_payload_out_str(&o, id, strlen(id));
	if (t->test_code[0]) {
		pxd_payload_out_key(&o, "test_event_code");
		pxd_payload_out_str(&o, t->test_code, strlen(t->test_code));
	}
	pxd_payload_out_key(&o, "data");
	pxd_payload_out_open(&o, '[');
	rc = pxd_payload_events(dest, b, &o, event);
	pxd_payload_out_close(&o, ']');
	pxd_payload_out_close(&o, '}');
	if (!rc)
		rc = o.err;
	if (!rc)
		rc = pxd_payload_url(req, "%s", t->url);
	if (!rc)
		rc = pxd_payload_header(req, "Content-Type: application/json");
	if (!rc)
		rc = pxd_payload_header(req, "Access-Token: %s", t->token);
	return rc;
}

static int tiktok_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	return pxd_split_build(dest, b, req, source, build_one);
}

static enum pxd_delivery tiktok_validate(struct pxd_dest *dest, const struct pxd_event_line *el,
					 char *reason, size_t reason_len)
{
	/* Any of these identifies the user; the hashed ones must be SHA-256. */
	static const struct pxd_payload_field ids[] = {
		{ PXD_USER(EMAIL_SHA256), "email", PXD_FIELD_HASHED, false },
		{ PXD_USER(PHONE_E164_SHA256), "phone", PXD_FIELD_HASHED, false },
		{ PXD_USER(ID), "external_id", PXD_FIELD_PLAIN, false },
		{ PXD_CLICK(TTCLID), "ttclid", PXD_FIELD_PLAIN, false },
		{ PXD_CLICK(TTP), "ttp", PXD_FIELD_PLAIN, false },
		{ PXD_TOP(IP), "ip", PXD_FIELD_PLAIN, false },
	};
	struct tiktok *t = dest->priv;
	enum pxd_ad_source src = pxd_ad_source(el);
	enum pxd_delivery d;

	d = pxd_payload_check_common_line(el, PLATFORM, pxd_now_ms(), MAX_AGE_MS, &t->text, reason,
					  reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	if (src == PXD_AD_SOURCE_APP) {
		snprintf(reason, reason_len,
			 PLATFORM ": app events go to TikTok's app event source (a TikTok App "
				  "ID), which this destination does not send");
		return PXD_DELIVERY_PERMANENT;
	}
	if (src != PXD_AD_SOURCE_WEBSITE && !t->offline_id[0]) {
		snprintf(reason, reason_len,
			 PLATFORM ": a %s event goes to an offline event set; set "
				  "offline_event_set_id for this destination",
			 pxd_ad_source_name(src));
		return PXD_DELIVERY_PERMANENT;
	}
	d = pxd_payload_check_hashed(el, ids, ARRAY_SIZE(ids), PLATFORM, reason, reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	/* Present is enough here, SHA-256 or not (the check above refused the
	 * others), so every row counts as plain. */
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		if (pxd_jv_is_str(pxd_payload_field_src(el, &ids[i])))
			return PXD_DELIVERY_OK;
	snprintf(reason, reason_len,
		 PLATFORM ": user needs an identifier (email, E.164 phone, user id, ttclid, ttp "
			  "or ip)");
	return PXD_DELIVERY_PERMANENT;
}

/* TikTok's body codes (§2): 0 and 20001 (partial) delivered, 40100 and the
 * 5xxxx internal codes throttling or transient, the other 4xxxx refusals.
 * 40100 ("Too many requests") and 51021 (an app over its QPS) are the
 * quota's: the destination waits its throttle_backoff. */
static void classify_code(const struct pxd_batch *b, const struct pxd_response *resp, long code,
			  const json_t *body, struct pxd_outcome *out)
{
	const char *msg = json_string_value(json_object_get(body, "message"));
	const char *rid = json_string_value(json_object_get(body, "request_id"));
	enum pxd_delivery d;
	const char *batch = "";

	if (code == 0 || code == 20001)
		d = PXD_DELIVERY_OK;
	else if (code == 40100 || (code >= 50000 && code < 60000))
		d = PXD_DELIVERY_RETRY;
	else
		d = PXD_DELIVERY_PERMANENT;
	/* 40002 (invalid parameters) names no event; other refusals (40001
	 * permission, 40105 token) are the destination's and bisecting would
	 * not help. */
	if (code == 40002 && b->n > 1)
		batch = PXD_BISECT_REASON;
	pxd_payload_outcomes(out, b->n, d, resp->retry_after_ms,
			     "%s" PLATFORM ": code %ld: %.96s (request_id %.40s)", batch, code,
			     msg ? msg : "", rid ? rid : "-");
	for (size_t i = 0; i < b->n; i++)
		out[i].throttled = code == 40100 || code == 51021;
}

static void classify_one(struct pxd_dest *dest, const struct pxd_batch *b,
			 const struct pxd_response *resp, struct pxd_outcome *out)
{
	json_t *body = resp->status ? pxd_payload_parse_body(resp) : NULL;
	json_t *code = json_object_get(body, "code");

	(void)dest;
	if (json_is_integer(code))
		classify_code(b, resp, (long)json_integer_value(code), body, out);
	else
		pxd_payload_classify_http(PLATFORM, resp, out, b->n);
	json_decref(body);
}

static void tiktok_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			    const struct pxd_response *resp, struct pxd_outcome *out)
{
	pxd_split_classify(dest, b, resp, out, source, classify_one, PLATFORM);
}

const struct pxd_adapter pxd_adapter_tiktok = {
	.type = "tiktok",
	.max_events = 1000,
	/* §1 gives no byte limit [U]; Meta's ~1 MB at 80% is the working cap. */
	.max_bytes = 800 * 1000,
	.flags = PXD_ADAPTER_AD | PXD_ADAPTER_READS_LINE,
	.init = tiktok_init,
	.fini = tiktok_fini,
	.validate = pxd_payload_validate_tree,
	.validate_line = tiktok_validate,
	.build = tiktok_build,
	.classify = tiktok_classify,
};
