// SPDX-License-Identifier: MIT
/*
 * snapchat.c - Snapchat Conversions API v3 (specs/ad-apis.md §9.6): POST
 * {api_base}/v3/{pixel_id}/events (or .../events/validate in test mode) with
 * data[] of up to 2,000 web events and the token as a bearer header. Event
 * names are Snap's enum (§8); an event with no Snap name is refused before
 * batching. Snap answers a batch as a whole (§2 [U]): a 400 over several
 * events comes back as "batch:" reasons that the dispatcher bisects.
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

#define PLATFORM "snapchat"
#define FIX_AUTH "check access_token and pixel_id, then replay the dead letters"
/* §7: Snap's docs take events up to 37 days old [V] (rudder enforces 7 [C]);
 * a day less for the time an event spends queued. */
#define MAX_AGE_MS (36 * PXD_PAYLOAD_DAY_MS)

/* §8. Snap has no LEAD [U]: Lead goes as SIGN_UP unless map.Lead says
 * otherwise; Contact and custom events need a map.<Event> (e.g. CUSTOM_EVENT_1). */
static const struct pxd_payload_name names[] = {
	{ "PageView", "PAGE_VIEW" },
	{ "ViewContent", "VIEW_CONTENT" },
	{ "Search", "SEARCH" },
	{ "AddToCart", "ADD_CART" },
	{ "AddToWishlist", "ADD_TO_WISHLIST" },
	{ "InitiateCheckout", "START_CHECKOUT" },
	{ "AddPaymentInfo", "ADD_BILLING" },
	{ "Purchase", "PURCHASE" },
	{ "Lead", "SIGN_UP" },
	{ "CompleteRegistration", "SIGN_UP" },
	{ "Subscribe", "SUBSCRIBE" },
	{ "StartTrial", "START_TRIAL" },
};

/* §9.6 action_source. App events go to a Snap App ID, not to a pixel, so
 * a pixel destination refuses them (NULL); everything off the web is
 * OFFLINE. */
static const char *const sources[PXD_AD_SOURCE_COUNT] = {
	[PXD_AD_SOURCE_WEBSITE] = "WEB",
	[PXD_AD_SOURCE_APP] = NULL,
	[PXD_AD_SOURCE_PHONE_CALL] = "OFFLINE",
	[PXD_AD_SOURCE_PHYSICAL_STORE] = "OFFLINE",
	[PXD_AD_SOURCE_SYSTEM_GENERATED] = "OFFLINE",
	[PXD_AD_SOURCE_EMAIL] = "OFFLINE",
	[PXD_AD_SOURCE_CHAT] = "OFFLINE",
	[PXD_AD_SOURCE_OTHER] = "OFFLINE",
};

/* §3 Snapchat column: email trimmed+lowercased and phone digits-only (no
 * '+', country code) come hashed from ingest; names, gender and dob too;
 * the address is hashed here; ip, user agent and the click id plain. */
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
	{ PXD_USER(ID), "external_id", PXD_FIELD_HASH, true },
	{ PXD_TOP(IP), "client_ip_address", PXD_FIELD_PLAIN, false },
	{ PXD_TOP(UA), "client_user_agent", PXD_FIELD_PLAIN, false },
	{ PXD_CLICK(SCCID), "sc_click_id", PXD_FIELD_PLAIN, false },
};

/* §9.6: at least one of these, or ip and user agent together. */
static const struct pxd_payload_field match_ids[] = {
	{ PXD_USER(EMAIL_SHA256), "em", PXD_FIELD_HASHED, true },
	{ PXD_USER(PHONE_SHA256), "ph", PXD_FIELD_HASHED, true },
	{ PXD_CLICK(SCCID), "sc_click_id", PXD_FIELD_PLAIN, false },
};

static const char *const conf_keys[] = { "api_base", "pixel_id", "access_token", "test_mode",
					 NULL };

static const struct pxd_ad_init init_keys = {
	.keys = conf_keys,
	.api_base = "https://tr.snapchat.com",
	.id_key = "pixel_id",
	.id_chars = "0123456789abcdefABCDEF-",
	.id_what = "a Snap pixel id (a UUID such as 1a2b3c4d-0000-4000-8000-123456789abc)",
	.url_before = "/v3/",
	.url_after = "/events",
	.test_suffix = "/validate",
};

static int snapchat_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	return pxd_ad_init(dest, sizeof(struct pxd_payload_bearer), conf_path, &init_keys, err,
			   errlen);
}

/* custom_data (§9.6): value as a number, contents items {id, quantity, item_price}. */
static const struct pxd_payload_prop props[] = {
	{ "value", "value", PXD_PROP_REAL },
	{ "currency", "currency", PXD_PROP_COPY },
	{ "order_id", "order_id", PXD_PROP_COPY },
	{ "num_items", "num_items", PXD_PROP_COPY },
};
static const struct pxd_payload_prop items[] = {
	{ "id", "id", PXD_PROP_COPY },
	{ "quantity", "quantity", PXD_PROP_COPY },
	{ "price", "item_price", PXD_PROP_COPY },
};

static const struct pxd_ad_event shape = {
	.user = user_fields,
	.nuser = ARRAY_SIZE(user_fields),
	.props = props,
	.nprops = ARRAY_SIZE(props),
	.items = items,
	.nitems = ARRAY_SIZE(items),
};

static int event(struct pxd_dest *dest, struct pxd_payload_out *o, const struct pxd_event_line *el)
{
	struct pxd_payload_bearer *h = dest->priv;
	const char *text = pxd_payload_jv_text(&el->top[PXD_LINE_EVENT], &h->text);
	const char *name =
	    text ? pxd_payload_event_name(dest, text, names, ARRAY_SIZE(names), false) : NULL;
	const char *source = sources[pxd_ad_source(el)];

	if (!name || !source || !pxd_jv_is_str(&el->top[PXD_LINE_EVENT_ID]))
		return -EINVAL;
	pxd_ad_event_head(o, name, el);
	pxd_payload_out_key(o, "action_source");
	pxd_payload_out_str(o, source, strlen(source));
	pxd_ad_event_body(o, el, &shape, &h->text);
	pxd_payload_out_close(o, '}');
	return 0;
}

/* The token as a header rather than ?access_token=: URLs end up in
 * delivery logs. */
static int snapchat_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	return pxd_ad_build_data(dest, b, event, req);
}

static enum pxd_delivery snapchat_validate(struct pxd_dest *dest, const struct pxd_event_line *el,
					   char *reason, size_t reason_len)
{
	struct pxd_payload_bearer *h = dest->priv;
	const char *name;
	enum pxd_delivery d;

	d = pxd_ad_check(el, PLATFORM, MAX_AGE_MS, user_fields, ARRAY_SIZE(user_fields), &h->text,
			 reason, reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	if (!sources[pxd_ad_source(el)]) {
		snprintf(reason, reason_len,
			 PLATFORM ": app events go to a Snap App ID, not to pixel_id; this "
				  "destination takes web and offline events only");
		return PXD_DELIVERY_PERMANENT;
	}
	/* check_common made sure there is a name. */
	name = pxd_payload_jv_text(&el->top[PXD_LINE_EVENT], &h->text);
	if (name && !pxd_payload_event_name(dest, name, names, ARRAY_SIZE(names), false)) {
		snprintf(reason, reason_len,
			 PLATFORM ": %.40s has no Snap event name; set map.%.40s (e.g. "
				  "CUSTOM_EVENT_1) or leave it out of events =",
			 name, name);
		return PXD_DELIVERY_PERMANENT;
	}
	if (!pxd_payload_has_any(el, match_ids, ARRAY_SIZE(match_ids), &h->text) &&
	    !(pxd_jv_is_str(&el->top[PXD_LINE_IP]) && pxd_jv_is_str(&el->top[PXD_LINE_UA]))) {
		snprintf(reason, reason_len,
			 PLATFORM ": user_data needs an email, phone, click.sccid, or ip and user "
				  "agent together");
		return PXD_DELIVERY_PERMANENT;
	}
	return PXD_DELIVERY_OK;
}

/* §2 [U]: a 2xx may still say {"status":"FAILED"|"INVALID","reason":...}. */
static void snapchat_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			      const struct pxd_response *resp, struct pxd_outcome *out)
{
	json_t *body = resp->status ? pxd_payload_parse_body(resp) : NULL;
	const char *status = json_string_value(json_object_get(body, "status"));
	const char *why = json_string_value(json_object_get(body, "reason"));

	(void)dest;
	if (resp->status >= 200 && resp->status < 300 && status &&
	    (strcmp(status, "FAILED") == 0 || strcmp(status, "INVALID") == 0))
		pxd_payload_outcomes(out, b->n, PXD_DELIVERY_PERMANENT, 0,
				     "%s" PLATFORM ": %s: %.120s",
				     b->n > 1 ? PXD_BISECT_REASON : "", status, why ? why : "");
	else
		pxd_payload_classify_whole(PLATFORM, resp, out, b->n, FIX_AUTH);
	json_decref(body);
}

const struct pxd_adapter pxd_adapter_snapchat = {
	.type = "snapchat",
	.max_events = 2000,
	/* §1: 2 MB per request [C], filled to 80%. */
	.max_bytes = 1600 * 1000,
	.flags = PXD_ADAPTER_AD | PXD_ADAPTER_READS_LINE,
	.init = snapchat_init,
	.fini = pxd_payload_bearer_fini,
	.validate = pxd_payload_validate_tree,
	.validate_line = snapchat_validate,
	.build = snapchat_build,
	.classify = snapchat_classify,
};
