// SPDX-License-Identifier: MIT
/*
 * segment.c - forwarding to any Segment-compatible HTTP Tracking API
 * (specs/ad-apis.md §9.9): POST {api_base}/v1/batch with up to 2,500
 * messages, the write key as HTTP Basic user. Each canonical event becomes
 * one track, page, identify, group or alias message (analytics.h) with the
 * e-commerce v2 names; messageId is the event_id, so Segment's dedup and a
 * receiving pixeld's see the same key. Segment answers 200 to nearly
 * everything (§2); a batch over its limits is dropped with a 200, so the
 * limits are enforced here, before batching.
 */
#include "adapter.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "analytics.h"
#include "payload.h"

#define PLATFORM "segment"
/* §7: historical timestamps are accepted; ten years is a sanity bound. */
#define MAX_AGE_MS (3650 * PXD_PAYLOAD_DAY_MS)
/* §9.9 limits. */
#define MAX_EVENT_BYTES (32 * 1000)
#define MAX_MESSAGE_ID 99

/* Segment e-commerce v2 and spec names (§9.9); the others pass unchanged. */
static const struct pxd_payload_name names[] = {
	{ "Search", "Products Searched" },
	{ "ViewContent", "Product Viewed" },
	{ "AddToCart", "Product Added" },
	{ "AddToWishlist", "Product Added to Wishlist" },
	{ "InitiateCheckout", "Checkout Started" },
	{ "AddPaymentInfo", "Payment Info Entered" },
	{ "Purchase", "Order Completed" },
	{ "CompleteRegistration", "Signed Up" },
	{ "StartTrial", "Trial Started" },
	{ "EmailOpen", "Email Opened" },
};

static const char *const conf_keys[] = { "api_base", "write_key", NULL };

static int segment_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	static const struct pxd_analytics_init in = {
		.keys = conf_keys,
		.api_base = "https://api.segment.io",
		.path = "/v1/batch",
		.secret_key = "write_key",
		.map_chars = " ",
	};

	return pxd_analytics_keyed_init(dest, sizeof(struct pxd_analytics_keyed), conf_path, &in,
					err, errlen);
}

/*
 * Segment's traits hold the address as one object, address{city, state,
 * postalCode, country} (the spec's common traits); the analytics helpers
 * give it flat, as Amplitude, Mixpanel and PostHog take it. A pixeld that
 * ingests these messages reads the object form like any Segment client's.
 */
static int nest_address(json_t *traits)
{
	static const char *const flat[][2] = { { "city", "city" },
					       { "state", "state" },
					       { "zip", "postalCode" },
					       { "country", "country" } };
	json_t *addr = json_object();
	int rc = !addr;

	for (size_t i = 0; !rc && i < ARRAY_SIZE(flat); i++) {
		json_t *v = json_object_get(traits, flat[i][0]);

		if (v)
			rc |= json_object_set(addr, flat[i][1], v) ||
			      json_object_del(traits, flat[i][0]);
	}
	if (!rc && json_object_size(addr))
		rc |= json_object_set(traits, "address", addr);
	json_decref(addr);
	return rc;
}

/* context (§9.9): ip, userAgent, page and, outside identify, the traits. */
static json_t *context(const json_t *ev, enum pxd_analytics_kind k)
{
	json_t *c = json_object();
	json_t *page = json_object();
	json_t *traits =
	    k == PXD_ANALYTICS_IDENTIFY_CALL ? json_object() : pxd_analytics_traits(ev);
	int rc = !c || !page || !traits;

	if (!rc)
		rc |= nest_address(traits);
	if (!rc)
		rc |= pxd_analytics_copy_str(c, "ip", ev, NULL, "ip");
	if (!rc)
		rc |= pxd_analytics_copy_str(c, "userAgent", ev, NULL, "ua");
	if (!rc)
		rc |= pxd_analytics_copy_str(page, "url", ev, NULL, "url");
	if (!rc)
		rc |= pxd_analytics_copy_str(page, "referrer", ev, NULL, "referrer");
	if (!rc && json_object_size(page))
		rc |= json_object_set(c, "page", page);
	if (!rc && json_object_size(traits))
		rc |= json_object_set(c, "traits", traits);
	json_decref(page);
	json_decref(traits);
	if (rc) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/* e-commerce v2 products[] from props.contents, else from props.content_ids. */
static int products(json_t *p)
{
	json_t *contents = json_object_get(p, "contents");
	json_t *ids = json_object_get(p, "content_ids");
	json_t *out = json_array();
	json_t *c;
	size_t i;
	int rc = !out;

	json_array_foreach(json_is_array(contents) ? contents : ids, i, c)
	{
		json_t *prod = json_object();
		json_t *id = json_is_string(c) ? c : json_object_get(c, "id");

		rc |= !prod || json_array_append_new(out, prod);
		if (rc)
			break;
		if (json_is_string(id))
			rc |= json_object_set(prod, "product_id", id);
		if (json_is_number(json_object_get(c, "quantity")))
			rc |= json_object_set(prod, "quantity", json_object_get(c, "quantity"));
		if (json_is_number(json_object_get(c, "price")))
			rc |= json_object_set(prod, "price", json_object_get(c, "price"));
	}
	if (!rc && json_array_size(out)) {
		rc |= json_object_set(p, "products", out);
		json_object_del(p, "contents");
		json_object_del(p, "content_ids");
	}
	json_decref(out);
	return rc;
}

/* track and page properties: the props with Segment's product and revenue
 * fields; the page's url and referrer repeat on page calls, as Segment's
 * own libraries send them. */
static json_t *properties(const json_t *ev, enum pxd_analytics_kind k)
{
	json_t *p = pxd_analytics_props(ev);
	json_t *value = json_object_get(p, "value");
	int rc = !p;

	if (!rc)
		rc |= products(p);
	/* Order Completed counts revenue (e-commerce v2); value elsewhere. */
	if (!rc && value && strcmp(pxd_payload_str(ev, NULL, "event"), "Purchase") == 0) {
		rc |= json_object_set(p, "revenue", value);
		json_object_del(p, "value");
	}
	if (!rc && k == PXD_ANALYTICS_PAGE)
		rc |= pxd_analytics_copy_str(p, "url", ev, NULL, "url");
	if (!rc && k == PXD_ANALYTICS_PAGE)
		rc |= pxd_analytics_copy_str(p, "referrer", ev, NULL, "referrer");
	if (rc) {
		json_decref(p);
		return NULL;
	}
	return p;
}

/* The message's own part: event/properties, traits, groupId or previousId. */
static int body_fields(struct pxd_dest *dest, json_t *m, const json_t *ev,
		       enum pxd_analytics_kind k)
{
	json_t *traits;
	int rc;

	switch (k) {
	case PXD_ANALYTICS_TRACK:
		rc = json_object_set_new(
		    m, "event",
		    json_string(pxd_payload_event_name(dest, pxd_payload_str(ev, NULL, "event"),
						       names, ARRAY_SIZE(names), true)));
		return rc | json_object_set_new(m, "properties", properties(ev, k));
	case PXD_ANALYTICS_PAGE:
		return json_object_set_new(m, "properties", properties(ev, k));
	case PXD_ANALYTICS_IDENTIFY_CALL:
		traits = pxd_analytics_identify_traits(ev);
		rc = !traits || nest_address(traits);
		return rc | json_object_set_new(m, "traits", traits);
	case PXD_ANALYTICS_GROUP_CALL:
		rc = pxd_analytics_copy_str(m, "groupId", ev, "props", "group_id");
		return rc | json_object_set_new(m, "traits", pxd_analytics_props(ev));
	case PXD_ANALYTICS_ALIAS_CALL:
	case PXD_ANALYTICS_KIND_COUNT:
		break;
	}
	return pxd_analytics_copy_str(m, "previousId", ev, "props", "previous_id");
}

static json_t *message(struct pxd_dest *dest, const json_t *ev)
{
	static const char *const types[PXD_ANALYTICS_KIND_COUNT] = {
		[PXD_ANALYTICS_TRACK] = "track",
		[PXD_ANALYTICS_PAGE] = "page",
		[PXD_ANALYTICS_IDENTIFY_CALL] = "identify",
		[PXD_ANALYTICS_GROUP_CALL] = "group",
		[PXD_ANALYTICS_ALIAS_CALL] = "alias",
	};
	enum pxd_analytics_kind k = pxd_analytics_kind(ev);
	const char *anon = pxd_analytics_anon_id(ev);
	char ts[PXD_ANALYTICS_ISO_LEN];
	json_t *m, *ctx = context(ev, k);
	int rc;

	pxd_analytics_iso8601(pxd_payload_ts_ms(ev), ts);
	m = json_pack("{s:s, s:s, s:s}", "type", types[k], "messageId",
		      pxd_payload_str(ev, NULL, "event_id"), "timestamp", ts);
	rc = !m || !ctx;
	if (!rc)
		rc |= pxd_analytics_copy_str(m, "userId", ev, "user", "id");
	if (!rc && anon)
		rc |= json_object_set_new(m, "anonymousId", json_string(anon));
	if (!rc)
		rc |= body_fields(dest, m, ev, k);
	if (!rc)
		rc |= json_object_set(m, "context", ctx);
	json_decref(ctx);
	if (rc) {
		json_decref(m);
		return NULL;
	}
	return m;
}

static int segment_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct pxd_analytics_keyed *s = dest->priv;
	json_t *root = json_pack("{s:[]}", "batch");
	int rc = pxd_analytics_basic_auth(req, s->key, "");

	if (!rc)
		rc = pxd_analytics_build(dest, b, root, "batch", message, s->url, req);
	json_decref(root);
	return rc;
}

static enum pxd_delivery segment_validate(struct pxd_dest *dest, const json_t *ev, char *reason,
					  size_t reason_len)
{
	enum pxd_delivery d;

	(void)dest;
	/* Segment drops messages over 32 KB (§9.9). */
	d = pxd_analytics_check(ev, PLATFORM, ~0u, MAX_AGE_MS, MAX_EVENT_BYTES, reason, reason_len);
	if (d == PXD_DELIVERY_OK &&
	    strlen(pxd_payload_str(ev, NULL, "event_id")) > MAX_MESSAGE_ID) {
		snprintf(reason, reason_len,
			 PLATFORM ": event_id is longer than %d characters (messageId limit)",
			 MAX_MESSAGE_ID);
		d = PXD_DELIVERY_PERMANENT;
	}
	return d;
}

const struct pxd_adapter pxd_adapter_segment = {
	.type = "segment",
	.max_events = 2500,
	/* §9.9: 500 KB per batch, filled to 80% (§10.1). */
	.max_bytes = 400 * 1000,
	.flags = PXD_ADAPTER_ANALYTICS,
	.init = segment_init,
	.fini = pxd_analytics_keyed_fini,
	.validate = segment_validate,
	.build = segment_build,
	/* §2: 200 for nearly everything; a 400 (size, bad JSON) can be one
	 * message's doing, so it is bisected; 429 waits for Retry-After. */
	.classify = pxd_analytics_classify_batch,
};
