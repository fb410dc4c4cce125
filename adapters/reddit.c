// SPDX-License-Identifier: MIT
/*
 * reddit.c - Reddit Conversions API v3 (specs/ad-apis.md §9.8, all [C]):
 * POST {api_base}/api/v3/pixels/{ad_account_id}/conversion_events with
 * {"data":{"events":[...]}} of up to 1,000 events and the conversion access
 * token as a bearer header. metadata.conversion_id (the event_id) pairs a
 * server event with the pixel's. A 200 may list invalid_events; a 400
 * fails the whole batch (§2), which comes back as "batch:" reasons that the
 * dispatcher bisects.
 */
#include "adapter.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "adapters/ad_event.h"
#include "adapters/payload_fields.h"
#include "adapters/payload_line.h"
#include "event_line.h"
#include "bisect.h"
#include "daemon.h"
#include "payload.h"

#define PLATFORM "reddit"
/* A conversion access token does not expire (§10.5): a 401/403 means it was
 * revoked or belongs to another account. */
#define FIX_AUTH "check access_token and ad_account_id, then replay the dead letters"
/* §7: event_at at most 168 h old [C], less a margin for queueing, and at
 * most 5 min ahead. */
#define MAX_AGE_MS (7 * PXD_PAYLOAD_DAY_MS - 3600 * 1000LL)
#define MAX_FUTURE_MS (5 * 60 * 1000LL)

struct reddit {
	struct pxd_payload_bearer http; /* first: pxd_payload_bearer_fini() */
	char test_id[64];
};

/* §8 tracking_type; everything else is CUSTOM with custom_event_name. */
static const struct pxd_payload_name names[] = {
	{ "PageView", "PAGE_VISIT" },
	{ "ViewContent", "VIEW_CONTENT" },
	{ "Search", "SEARCH" },
	{ "AddToCart", "ADD_TO_CART" },
	{ "AddToWishlist", "ADD_TO_WISHLIST" },
	{ "Purchase", "PURCHASE" },
	{ "Lead", "LEAD" },
	{ "CompleteRegistration", "SIGN_UP" },
};

/* §9.8 action_source [C]: Reddit's four words; calls, email, chat and
 * system events are OTHER. */
static const char *const sources[PXD_AD_SOURCE_COUNT] = {
	[PXD_AD_SOURCE_WEBSITE] = "WEBSITE",
	[PXD_AD_SOURCE_APP] = "APP",
	[PXD_AD_SOURCE_PHONE_CALL] = "OTHER",
	[PXD_AD_SOURCE_PHYSICAL_STORE] = "PHYSICAL_STORE",
	[PXD_AD_SOURCE_SYSTEM_GENERATED] = "OTHER",
	[PXD_AD_SOURCE_EMAIL] = "OTHER",
	[PXD_AD_SOURCE_CHAT] = "OTHER",
	[PXD_AD_SOURCE_OTHER] = "OTHER",
};

/* §3 Reddit column [C]: email and external id hashed, ip_address hashed as
 * rudder does, phone as E.164 [U]; the user agent plain. */
static const struct pxd_payload_field user_fields[] = {
	{ PXD_USER(EMAIL_SHA256), "email", PXD_FIELD_HASHED, false },
	{ PXD_USER(PHONE_E164_SHA256), "phone_number", PXD_FIELD_HASHED, false },
	{ PXD_USER(ID), "external_id", PXD_FIELD_HASH, false },
	{ PXD_TOP(IP), "ip_address", PXD_FIELD_HASH, false },
	{ PXD_TOP(UA), "user_agent", PXD_FIELD_PLAIN, false },
};

static const struct pxd_payload_field match_ids[] = {
	{ PXD_USER(EMAIL_SHA256), "email", PXD_FIELD_HASHED, false },
	{ PXD_USER(PHONE_E164_SHA256), "phone_number", PXD_FIELD_HASHED, false },
	{ PXD_USER(ID), "external_id", PXD_FIELD_HASH, false },
	{ PXD_TOP(IP), "ip_address", PXD_FIELD_HASH, false },
	{ PXD_CLICK(RDT_CID), "click_id", PXD_FIELD_PLAIN, false },
};

static const char *const conf_keys[] = { "api_base", "ad_account_id", "access_token", "test_id",
					 NULL };

static const struct pxd_ad_init init_keys = {
	.keys = conf_keys,
	.api_base = "https://ads-api.reddit.com",
	.id_key = "ad_account_id",
	.id_chars = "abcdefghijklmnopqrstuvwxyz0123456789_",
	.id_what = "a Reddit ad account / pixel id such as a2_abc123",
	.url_before = "/api/v3/pixels/",
	.url_after = "/conversion_events",
};

static int reddit_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	struct reddit *r;
	int rc = pxd_ad_init(dest, sizeof(*r), conf_path, &init_keys, err, errlen);

	r = dest->priv;
	if (!rc)
		rc = pxd_payload_key(dest, conf_path, "test_id", "", r->test_id, sizeof(r->test_id),
				     err, errlen);
	return rc;
}

/* metadata (§9.8): value as a number, products {id, quantity, item_price}. */
static const struct pxd_payload_prop props[] = {
	{ "value", "value", PXD_PROP_REAL },
	{ "currency", "currency", PXD_PROP_COPY },
	{ "num_items", "item_count", PXD_PROP_COPY },
};
static const struct pxd_payload_prop items[] = {
	{ "id", "id", PXD_PROP_COPY },
	{ "quantity", "quantity", PXD_PROP_COPY },
	{ "price", "item_price", PXD_PROP_COPY },
};

static int event(struct pxd_dest *dest, struct pxd_payload_out *o, const struct pxd_event_line *el)
{
	struct reddit *r = dest->priv;
	const struct pxd_jv *canonical = &el->top[PXD_LINE_EVENT];
	const struct pxd_jv *click = &el->click[PXD_CLICK_FIELD_RDT_CID];
	const char *text = pxd_payload_jv_text(canonical, &r->http.text);
	const char *name =
	    text ? pxd_payload_event_name(dest, text, names, ARRAY_SIZE(names), false) : NULL;
	const char *source = sources[pxd_ad_source(el)];
	struct pxd_jv_iter from;

	if (!text || !pxd_jv_is_str(&el->top[PXD_LINE_EVENT_ID]))
		return -EINVAL;
	pxd_payload_out_open(o, '{');
	pxd_payload_out_key(o, "event_at");
	pxd_payload_out_int(o, pxd_event_line_ts(el));
	pxd_payload_out_key(o, "action_source");
	pxd_payload_out_str(o, source, strlen(source));
	if (pxd_jv_is_str(click))
		pxd_payload_out_member(o, "click_id", click);
	if (pxd_jv_is_str(&el->top[PXD_LINE_URL]))
		pxd_payload_out_member(o, "event_source_url", &el->top[PXD_LINE_URL]);
	pxd_payload_out_key(o, "type");
	pxd_payload_out_open(o, '{');
	pxd_payload_out_key(o, "tracking_type");
	if (name) {
		pxd_payload_out_str(o, name, strlen(name));
	} else {
		pxd_payload_out_str(o, "CUSTOM", 6);
		pxd_payload_out_member(o, "custom_event_name", canonical);
	}
	pxd_payload_out_close(o, '}');
	pxd_payload_out_key(o, "user");
	pxd_payload_out_open(o, '{');
	pxd_payload_fields(o, el, user_fields, ARRAY_SIZE(user_fields), &r->http.text);
	pxd_payload_out_close(o, '}');
	pxd_payload_out_key(o, "metadata");
	pxd_payload_out_open(o, '{');
	pxd_payload_out_member(o, "conversion_id", &el->top[PXD_LINE_EVENT_ID]);
	pxd_jv_iter_props(&from, el);
	pxd_payload_props(o, &from, props, ARRAY_SIZE(props));
	pxd_payload_contents(o, "products", el, items, ARRAY_SIZE(items));
	pxd_payload_out_close(o, '}');
	pxd_payload_out_close(o, '}');
	return 0;
}

static int reddit_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct reddit *r = dest->priv;
	struct pxd_payload_out o;
	int rc;

	pxd_payload_out_init(&o, &req->body);
	pxd_payload_out_open(&o, '{');
	pxd_payload_out_key(&o, "data");
	pxd_payload_out_open(&o, '{');
	pxd_payload_out_key(&o, "events");
	pxd_payload_out_open(&o, '[');
	rc = pxd_payload_events(dest, b, &o, event);
	pxd_payload_out_close(&o, ']');
	if (r->test_id[0]) {
		pxd_payload_out_key(&o, "test_id");
		pxd_payload_out_str(&o, r->test_id, strlen(r->test_id));
	}
	pxd_payload_out_close(&o, '}');
	pxd_payload_out_close(&o, '}');
	if (!rc)
		rc = o.err;
	if (!rc)
		rc = pxd_payload_bearer_request(req, r->http.url, r->http.token);
	return rc;
}

static enum pxd_delivery reddit_validate(struct pxd_dest *dest, const struct pxd_event_line *el,
					 char *reason, size_t reason_len)
{
	struct reddit *r = dest->priv;
	int64_t now = pxd_now_ms();
	enum pxd_delivery d;

	d = pxd_ad_check(el, PLATFORM, MAX_AGE_MS, user_fields, ARRAY_SIZE(user_fields),
			 &r->http.text, reason, reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	if (pxd_event_line_ts(el) - now > MAX_FUTURE_MS) {
		snprintf(reason, reason_len,
			 PLATFORM ": event_at is more than 5 minutes in the future; fix the "
				  "sender's clock");
		return PXD_DELIVERY_PERMANENT;
	}
	if (!pxd_payload_has_any(el, match_ids, ARRAY_SIZE(match_ids), &r->http.text)) {
		snprintf(reason, reason_len,
			 PLATFORM ": user needs an email, phone, user id, ip or click.rdt_cid");
		return PXD_DELIVERY_PERMANENT;
	}
	return PXD_DELIVERY_OK;
}

/* The index in <b> of the event whose conversion_id is <id>, or b->n. */
static size_t find_event(const struct pxd_batch *b, const char *id)
{
	struct pxd_event_line tmp;

	for (size_t i = 0; id && i < b->n; i++) {
		const struct pxd_event_line *el = pxd_payload_item_line(&b->items[i], &tmp);

		if (el && pxd_jv_eq(&el->top[PXD_LINE_EVENT_ID], id))
			return i;
	}
	return b->n;
}

/* A 200 may name invalid_events[]{error_message, event}; those are refused,
 * the rest delivered. */
static void classify_200(const struct pxd_batch *b, const json_t *invalid, struct pxd_outcome *out)
{
	const json_t *inv;
	size_t k;

	pxd_payload_outcomes(out, b->n, PXD_DELIVERY_OK, 0, PLATFORM ": HTTP 200");
	json_array_foreach(invalid, k, inv)
	{
		const json_t *meta = json_object_get(json_object_get(inv, "event"), "metadata");
		size_t i = find_event(b, json_string_value(json_object_get(meta, "conversion_id")));
		const char *msg = json_string_value(json_object_get(inv, "error_message"));

		if (i < b->n)
			pxd_payload_outcomes(&out[i], 1, PXD_DELIVERY_PERMANENT, 0,
					     PLATFORM ": invalid event: %.150s",
					     msg ? msg : "no error_message");
	}
}

static void reddit_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			    const struct pxd_response *resp, struct pxd_outcome *out)
{
	json_t *body = resp->status ? pxd_payload_parse_body(resp) : NULL;

	(void)dest;
	if (resp->status >= 200 && resp->status < 300)
		classify_200(b, json_object_get(body, "invalid_events"), out);
	else
		pxd_payload_classify_whole(PLATFORM, resp, out, b->n, FIX_AUTH);
	json_decref(body);
}

const struct pxd_adapter pxd_adapter_reddit = {
	.type = "reddit",
	.max_events = 1000,
	/* §1: ~1 MB per request [C], filled to 80%. */
	.max_bytes = 800 * 1000,
	.flags = PXD_ADAPTER_AD | PXD_ADAPTER_READS_LINE,
	.init = reddit_init,
	.fini = pxd_payload_bearer_fini,
	.validate = pxd_payload_validate_tree,
	.validate_line = reddit_validate,
	.build = reddit_build,
	.classify = reddit_classify,
};
