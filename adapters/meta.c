// SPDX-License-Identifier: MIT
/*
 * meta.c - Meta Conversions API (specs/ad-apis.md §9.1): POST
 * {api_base}/{api_version}/{pixel_id}/events with data[] of up to 1,000
 * server events. Identifiers arrive hashed from ingest; the address fields
 * arrive as normalized plain text and are hashed here, as Meta wants them
 * (§3). Meta refuses a whole batch for one bad event (§2), so such refusals
 * come back as "batch:" reasons that the dispatcher bisects (bisect.h).
 */
#include "adapter.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/ad_event.h"
#include "adapters/payload_fields.h"
#include "adapters/payload_json.h"
#include "adapters/payload_line.h"
#include "bisect.h"
#include "daemon.h"
#include "event_line.h"
#include "payload.h"

#define PLATFORM "meta"
#define DIGITS "0123456789"
/* §7: 7 days, less a margin for the time an event spends queued. */
#define MAX_AGE_MS (7 * PXD_PAYLOAD_DAY_MS - 3600 * 1000LL)

struct meta {
	char base[256];
	char version[16];
	char pixel_id[32];
	char token[1024];
	char test_code[64];
	struct pxd_buf text; /* field text unescaped (pxd_payload_jv_text()), reused */
};

/* §8; the other canonical names (Search, AddToWishlist, AddPaymentInfo,
 * Contact) are Meta standard events under the same name, and custom events
 * keep theirs. */
static const struct pxd_payload_name names[] = {
	{ "PageView", "PageView" },
	{ "ViewContent", "ViewContent" },
	{ "AddToCart", "AddToCart" },
	{ "InitiateCheckout", "InitiateCheckout" },
	{ "Purchase", "Purchase" },
	{ "Lead", "Lead" },
	{ "CompleteRegistration", "CompleteRegistration" },
	{ "Subscribe", "Subscribe" },
	{ "StartTrial", "StartTrial" },
};

/* user_data (§3): identifiers hashed at ingest; the address arrives as
 * normalized plain text and is hashed here, as Meta wants it; user.id
 * hashed as external_id; ip, user agent and the click ids plain. */
static const struct pxd_payload_field user_fields[] = {
	{ PXD_USER(EMAIL_SHA256), "em", PXD_FIELD_HASHED, true },
	{ PXD_USER(PHONE_SHA256), "ph", PXD_FIELD_HASHED, true },
	{ PXD_USER(FIRST_NAME_SHA256), "fn", PXD_FIELD_HASHED, false },
	{ PXD_USER(LAST_NAME_SHA256), "ln", PXD_FIELD_HASHED, false },
	{ PXD_USER(GENDER_SHA256), "ge", PXD_FIELD_HASHED, false },
	{ PXD_USER(DOB_SHA256), "db", PXD_FIELD_HASHED, false },
	{ PXD_USER(CITY), "ct", PXD_FIELD_ADDRESS, false },
	{ PXD_USER(STATE), "st", PXD_FIELD_ADDRESS, false },
	{ PXD_USER(ZIP), "zp", PXD_FIELD_ADDRESS, false },
	{ PXD_USER(COUNTRY), "country", PXD_FIELD_ADDRESS, false },
	{ PXD_USER(ID), "external_id", PXD_FIELD_HASH, false },
	{ PXD_TOP(IP), "client_ip_address", PXD_FIELD_PLAIN, false },
	{ PXD_TOP(UA), "client_user_agent", PXD_FIELD_PLAIN, false },
	{ PXD_CLICK(FBC), "fbc", PXD_FIELD_PLAIN, false },
	{ PXD_CLICK(FBP), "fbp", PXD_FIELD_PLAIN, false },
};

/* At least one of these, or ip, fbc or fbp (meta_validate_line()). */
static const struct pxd_payload_field match_ids[] = {
	{ PXD_USER(EMAIL_SHA256), "em", PXD_FIELD_PLAIN, false },
	{ PXD_USER(PHONE_SHA256), "ph", PXD_FIELD_PLAIN, false },
	{ PXD_USER(ID), "external_id", PXD_FIELD_PLAIN, false },
	{ PXD_TOP(IP), "client_ip_address", PXD_FIELD_PLAIN, false },
	{ PXD_CLICK(FBC), "fbc", PXD_FIELD_PLAIN, false },
	{ PXD_CLICK(FBP), "fbp", PXD_FIELD_PLAIN, false },
};

/* Graph error codes that ask for a retry (§2). */
static const int transient_codes[] = { 1, 2, 4, 17, 341, 368, 21009, 80003 };

static const char *const conf_keys[] = { "api_base",	 "pixel_id",	    "api_version",
					 "access_token", "test_event_code", NULL };

static int meta_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	struct meta *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	dest->priv = m;
	rc = pxd_payload_check_keys(dest, conf_path, conf_keys, true, err, errlen);
	if (!rc)
		rc = pxd_payload_api_base(dest, conf_path, "https://graph.facebook.com", m->base,
					  sizeof(m->base), err, errlen);
	if (!rc)
		rc = pxd_payload_key_shape(dest, conf_path, "pixel_id", "", DIGITS,
					   "a Meta pixel/dataset id (digits)", m->pixel_id,
					   sizeof(m->pixel_id), err, errlen);
	if (!rc)
		rc = pxd_payload_key_shape(dest, conf_path, "api_version", "v", DIGITS ".",
					   "a Graph version such as v25.0", m->version,
					   sizeof(m->version), err, errlen);
	if (!rc)
		rc = pxd_payload_secret(dest, conf_path, "access_token", m->token, sizeof(m->token),
					err, errlen);
	if (!rc)
		rc = pxd_payload_key(dest, conf_path, "test_event_code", "", m->test_code,
				     sizeof(m->test_code), err, errlen);
	if (!rc)
		rc = pxd_payload_check_map(dest, conf_path, "", err, errlen);
	return rc;
}

static void meta_fini(struct pxd_dest *dest)
{
	struct meta *m = dest->priv;

	if (m) {
		OPENSSL_cleanse(m->token, sizeof(m->token));
		pxd_buf_free(&m->text);
	}
	free(m);
	dest->priv = NULL;
}

static bool is_standard_prop(const struct pxd_jv *k)
{
	static const struct pxd_sv std[] = { PXD_SV("value"),	    PXD_SV("currency"),
					     PXD_SV("order_id"),    PXD_SV("contents"),
					     PXD_SV("content_ids"), PXD_SV("num_items") };

	for (size_t i = 0; i < ARRAY_SIZE(std); i++)
		if (pxd_jv_eq_sv(k, std[i]))
			return true;
	return false;
}

/* Strings, numbers and booleans: what Meta keeps of custom properties. */
static bool is_scalar(const struct pxd_jv *v)
{
	return v->type == PXD_JV_STRING || pxd_jv_is_number(v) || v->type == PXD_JV_TRUE ||
	       v->type == PXD_JV_FALSE;
}

static void contents(struct pxd_payload_out *o, const struct pxd_jv *list)
{
	static const char *const from[] = { "id", "quantity", "price" };
	static const char *const to[] = { "id", "quantity", "item_price" };
	struct pxd_jv_iter it;
	struct pxd_jv item;

	pxd_payload_out_key(o, "contents");
	pxd_payload_out_open(o, '[');
	pxd_jv_iter_init(&it, list);
	while (pxd_jv_next(&it, NULL, &item)) {
		pxd_payload_out_open(o, '{');
		for (size_t f = 0; f < ARRAY_SIZE(from); f++) {
			struct pxd_jv v = pxd_jv_get(&item, from[f]);

			if (v.type)
				pxd_payload_out_member(o, to[f], &v);
		}
		pxd_payload_out_close(o, '}');
	}
	pxd_payload_out_close(o, ']');
}

/*
 * custom_data's members, in the order the tree-built body had: the standard
 * ones, then custom properties in the line's order. A custom
 * "content_type" takes the place of "product" when both are there, as
 * setting a tree's member again kept its place.
 */
static void custom_data(struct pxd_payload_out *o, const struct pxd_event_line *el)
{
	enum { VALUE = 0, CURRENCY, IDS, CONTENTS, ORDER_ID, NUM_ITEMS, TYPE, NKEYS };
	static const char *const keys[NKEYS] = { "value",    "currency",  "content_ids", "contents",
						 "order_id", "num_items", "content_type" };
	struct pxd_jv s[NKEYS];
	const struct pxd_jv *value = &s[VALUE], *currency = &s[CURRENCY], *ids = &s[IDS],
			    *list = &s[CONTENTS], *order_id = &s[ORDER_ID],
			    *num_items = &s[NUM_ITEMS], *type = &s[TYPE];
	bool product;
	struct pxd_jv_iter it;
	struct pxd_jv k, v;

	pxd_line_props_members(el, keys, NKEYS, s);
	product = ids->type == PXD_JV_ARRAY || list->type == PXD_JV_ARRAY;
	if (pxd_jv_is_number(value)) {
		pxd_payload_out_key(o, "value");
		pxd_payload_out_jv_real(o, value);
	}
	if (currency->type == PXD_JV_STRING)
		pxd_payload_out_member(o, "currency", currency);
	if (ids->type == PXD_JV_ARRAY)
		pxd_payload_out_member(o, "content_ids", ids);
	if (list->type == PXD_JV_ARRAY)
		contents(o, list);
	if (product && is_scalar(type)) {
		pxd_payload_out_member(o, "content_type", type);
	} else if (product) {
		pxd_payload_out_key(o, "content_type");
		pxd_payload_out_str(o, "product", 7);
	}
	if (order_id->type == PXD_JV_STRING)
		pxd_payload_out_member(o, "order_id", order_id);
	if (num_items->type == PXD_JV_INTEGER)
		pxd_payload_out_member(o, "num_items", num_items);
	/* Custom properties travel as they are: Meta keeps them for custom
	 * audiences and rules. */
	pxd_jv_iter_props(&it, el);
	while (pxd_jv_next(&it, &k, &v)) {
		if (is_standard_prop(&k) || !is_scalar(&v) ||
		    (product && pxd_jv_eq(&k, "content_type")))
			continue;
		pxd_payload_out_jv_key(o, &k);
		pxd_payload_out_jv(o, &v);
	}
}

static const struct pxd_ad_event shape = {
	.user = user_fields,
	.nuser = ARRAY_SIZE(user_fields),
	.referrer = true,
	.custom = custom_data,
};

/* One server event of data[]: -EINVAL for a line without an event name. */
static int server_event(struct pxd_dest *dest, struct pxd_payload_out *o,
			const struct pxd_event_line *el)
{
	struct meta *m = dest->priv;
	const struct pxd_jv *source;
	const char *name;

	if (!pxd_jv_is_str(&el->top[PXD_LINE_EVENT]) || !pxd_jv_is_str(&el->top[PXD_LINE_EVENT_ID]))
		return -EINVAL;
	name = pxd_payload_event_name(dest, pxd_payload_jv_text(&el->top[PXD_LINE_EVENT], &m->text),
				      names, ARRAY_SIZE(names), true);
	if (!name)
		return -ENOMEM;
	pxd_ad_event_head(o, name, el);
	/* A server's action_source (s2s, event.h) uses Meta's own words. */
	source = &el->top[PXD_LINE_ACTION_SOURCE];
	pxd_payload_out_key(o, "action_source");
	if (pxd_jv_is_str(source))
		pxd_payload_out_jv_str(o, source);
	else
		pxd_payload_out_str(o, "website", 7);
	pxd_ad_event_body(o, el, &shape, &m->text);
	pxd_payload_out_close(o, '}');
	return o->err;
}

/*
 * The body is written straight into <req>'s reusable buffer from each
 * event's line: no tree, and nothing allocated per event once the buffers
 * have grown to the largest batch.
 */
static int meta_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct meta *m = dest->priv;
	struct pxd_payload_out o;
	int rc;

	pxd_payload_out_init(&o, &req->body);
	pxd_payload_out_open(&o, '{');
	pxd_payload_out_key(&o, "data");
	pxd_payload_out_open(&o, '[');
	rc = pxd_payload_events(dest, b, &o, server_event);
	pxd_payload_out_close(&o, ']');
	if (m->test_code[0]) {
		pxd_payload_out_key(&o, "test_event_code");
		pxd_payload_out_str(&o, m->test_code, strlen(m->test_code));
	}
	/* In the body rather than the query string: URLs end up in delivery
	 * logs and proxies' access logs, bodies do not. */
	pxd_payload_out_key(&o, "access_token");
	pxd_payload_out_str(&o, m->token, strlen(m->token));
	pxd_payload_out_close(&o, '}');
	if (!rc)
		rc = o.err;
	if (!rc)
		rc = pxd_payload_url(req, "%s/%s/%s/events", m->base, m->version, m->pixel_id);
	if (!rc)
		rc = pxd_payload_header(req, "Content-Type: application/json");
	return rc;
}

/* An event with no action_source is a website event (the pixel, the beacon);
 * a server's other sources (s2s) need no page URL. */
static bool is_website(const struct pxd_event_line *el)
{
	const struct pxd_jv *source = &el->top[PXD_LINE_ACTION_SOURCE];

	return !pxd_jv_is_str(source) || pxd_jv_eq(source, "website");
}

static bool is_http_url(const struct pxd_jv *url)
{
	return pxd_jv_is_str(url) && ((url->n >= 8 && !memcmp(url->p, "https://", 8)) ||
				      (url->n >= 7 && !memcmp(url->p, "http://", 7)));
}

static enum pxd_delivery meta_validate_line(struct pxd_dest *dest, const struct pxd_event_line *el,
					    char *reason, size_t reason_len)
{
	struct meta *m = dest->priv;
	enum pxd_delivery d;

	d = pxd_payload_check_common_line(el, PLATFORM, pxd_now_ms(), MAX_AGE_MS, &m->text, reason,
					  reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	if (is_website(el) && !is_http_url(&el->top[PXD_LINE_URL])) {
		snprintf(reason, reason_len,
			 PLATFORM ": website events need url (event_source_url) as http(s)");
		return PXD_DELIVERY_PERMANENT;
	}
	if (!pxd_jv_is_str(&el->top[PXD_LINE_UA])) {
		snprintf(reason, reason_len,
			 PLATFORM ": website events need ua (client_user_agent)");
		return PXD_DELIVERY_PERMANENT;
	}
	d = pxd_payload_check_hashed(el, user_fields, ARRAY_SIZE(user_fields), PLATFORM, reason,
				     reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	if (!pxd_payload_has_any(el, match_ids, ARRAY_SIZE(match_ids), &m->text)) {
		snprintf(reason, reason_len,
			 PLATFORM ": user_data needs an identifier (email, phone, user id, ip, "
				  "fbc or fbp)");
		return PXD_DELIVERY_PERMANENT;
	}
	return PXD_DELIVERY_OK;
}
static bool is_transient(int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(transient_codes); i++)
		if (transient_codes[i] == code)
			return true;
	return false;
}

/* Graph's rate-limit codes: application (4), user (17), page (32), custom
 * (613) and the business use case ones (80000-80014). No Retry-After comes
 * with them: the destination waits its throttle_backoff. */
static bool is_throttle(int code)
{
	return code == 4 || code == 17 || code == 32 || code == 613 ||
	       (code >= 80000 && code <= 80014);
}

/* Fills <out> from a Graph error envelope (§9.1); codes beat the HTTP status,
 * which Meta does not keep meaningful (190 and 17 arrive with 500). */
static void classify_error(const struct pxd_batch *b, const struct pxd_response *resp,
			   const json_t *err, struct pxd_outcome *out)
{
	int code = (int)json_integer_value(json_object_get(err, "code"));
	int sub = (int)json_integer_value(json_object_get(err, "error_subcode"));
	const char *msg = json_string_value(json_object_get(err, "error_user_msg"));
	const char *trace = json_string_value(json_object_get(err, "fbtrace_id"));
	enum pxd_delivery d;
	const char *batch = "";

	if (!msg)
		msg = json_string_value(json_object_get(err, "message"));
	if (json_is_true(json_object_get(err, "is_transient")) || is_transient(code) ||
	    is_throttle(code)) {
		d = PXD_DELIVERY_RETRY;
	} else {
		d = PXD_DELIVERY_PERMANENT;
		/* Code 100 is an invalid parameter in some event; with more
		 * than one event Meta does not say which, so the batch is
		 * bisected. Token and permission codes (190, 200, 10, ...)
		 * are the destination's, and bisecting would not help. */
		if (code == 100 && b->n > 1)
			batch = PXD_BISECT_REASON;
	}
	pxd_payload_outcomes(out, b->n, d, resp->retry_after_ms,
			     "%s" PLATFORM ": code %d/%d: %.96s (fbtrace_id %.24s)", batch, code,
			     sub, msg ? msg : "no message", trace ? trace : "-");
	for (size_t i = 0; i < b->n; i++)
		out[i].throttled = is_throttle(code);
}

static void meta_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			  const struct pxd_response *resp, struct pxd_outcome *out)
{
	json_t *body = resp->status ? pxd_payload_parse_body(resp) : NULL;
	json_t *err = json_object_get(body, "error");

	(void)dest;
	if (json_is_object(err) && json_is_integer(json_object_get(err, "code")))
		classify_error(b, resp, err, out);
	else
		pxd_payload_classify_http(PLATFORM, resp, out, b->n);
	json_decref(body);
}

const struct pxd_adapter pxd_adapter_meta = {
	.type = "meta",
	.max_events = 1000,
	/* §10.1: ~1 MB per request, filled to 80%. */
	.max_bytes = 800 * 1000,
	.flags = PXD_ADAPTER_AD | PXD_ADAPTER_READS_LINE,
	.init = meta_init,
	.fini = meta_fini,
	.validate = pxd_payload_validate_tree,
	.validate_line = meta_validate_line,
	.build = meta_build,
	.classify = meta_classify,
};
