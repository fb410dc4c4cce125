// SPDX-License-Identifier: MIT
/*
 * pinterest.c - Pinterest Conversions API v5 (specs/ad-apis.md §9.7): POST
 * {api_base}/v5/ad_accounts/{ad_account_id}/events (?test=true in test mode)
 * with data[] of up to 1,000 events and the conversion token as a bearer
 * header. Every user_data field is an array of SHA-256s except ip, user
 * agent and click_id (§3). Pinterest answers each event in request order
 * (events[].status, with 200 or 422), so one bad event fails alone.
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

#define PLATFORM "pinterest"
#define FIX_AUTH "check access_token and ad_account_id, then replay the dead letters"
#define DIGITS "0123456789"
/* §7: no hard limit is documented [U]; events after an hour count as
 * offline [C]. Meta's 7 days, less a margin, keeps them useful. */
#define MAX_AGE_MS (7 * PXD_PAYLOAD_DAY_MS - 3600 * 1000LL)

/* §8: the v5 names, with the newer ones from Pinterest's conversion guide
 * [C]; anything else goes as "custom". */
static const struct pxd_payload_name names[] = {
	{ "PageView", "page_visit" },
	{ "ViewContent", "view_content" },
	{ "Search", "search" },
	{ "AddToCart", "add_to_cart" },
	{ "AddToWishlist", "add_to_wishlist" },
	{ "InitiateCheckout", "initiate_checkout" },
	{ "AddPaymentInfo", "add_payment_info" },
	{ "Purchase", "checkout" },
	{ "Lead", "lead" },
	{ "CompleteRegistration", "signup" },
	{ "Subscribe", "subscribe" },
	{ "Contact", "contact" },
};

/* §9.7 action_source: the web, the app (app_ios or app_android, from the
 * user agent: app_os()), or offline for everything else. */
static const char *const sources[PXD_AD_SOURCE_COUNT] = {
	[PXD_AD_SOURCE_WEBSITE] = "web",
	[PXD_AD_SOURCE_APP] = NULL,
	[PXD_AD_SOURCE_PHONE_CALL] = "offline",
	[PXD_AD_SOURCE_PHYSICAL_STORE] = "offline",
	[PXD_AD_SOURCE_SYSTEM_GENERATED] = "offline",
	[PXD_AD_SOURCE_EMAIL] = "offline",
	[PXD_AD_SOURCE_CHAT] = "offline",
	[PXD_AD_SOURCE_OTHER] = "offline",
};

/* §3 Pinterest column: email lowercase and phone digits-only (country code,
 * no '+') come hashed from ingest; address hashed here; user.id hashed as
 * external_id. */
static const struct pxd_payload_field user_fields[] = {
	{ PXD_USER(EMAIL_SHA256), "em", PXD_FIELD_HASHED, true },
	{ PXD_USER(PHONE_SHA256), "ph", PXD_FIELD_HASHED, true },
	{ PXD_USER(FIRST_NAME_SHA256), "fn", PXD_FIELD_HASHED, true },
	{ PXD_USER(LAST_NAME_SHA256), "ln", PXD_FIELD_HASHED, true },
	{ PXD_USER(GENDER_SHA256), "ge", PXD_FIELD_HASHED, true },
	{ PXD_USER(DOB_SHA256), "db", PXD_FIELD_HASHED, true },
	{ PXD_USER(CITY), "ct", PXD_FIELD_ADDRESS, true },
	{ PXD_USER(STATE), "st", PXD_FIELD_ADDRESS, true },
	{ PXD_USER(ZIP), "zp", PXD_FIELD_ADDRESS, true },
	{ PXD_USER(COUNTRY), "country", PXD_FIELD_ADDRESS, true },
	{ PXD_USER(ID), "external_id", PXD_FIELD_HASH, true },
	{ PXD_TOP(IP), "client_ip_address", PXD_FIELD_PLAIN, false },
	{ PXD_TOP(UA), "client_user_agent", PXD_FIELD_PLAIN, false },
	{ PXD_CLICK(EPIK), "click_id", PXD_FIELD_PLAIN, false },
};

static const char *const conf_keys[] = { "api_base", "ad_account_id", "access_token", "test_mode",
					 NULL };

static const struct pxd_ad_init init_keys = {
	.keys = conf_keys,
	.api_base = "https://api.pinterest.com",
	.id_key = "ad_account_id",
	.id_chars = DIGITS,
	.id_what = "a Pinterest ad account id (digits)",
	.url_before = "/v5/ad_accounts/",
	.url_after = "/events",
	.test_suffix = "?test=true",
};

static int pinterest_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	return pxd_ad_init(dest, sizeof(struct pxd_payload_bearer), conf_path, &init_keys, err,
			   errlen);
}

/* custom_data (§9.7): value and item_price as decimal strings. */
static const struct pxd_payload_prop props[] = {
	{ "value", "value", PXD_PROP_AMOUNT },
	{ "currency", "currency", PXD_PROP_COPY },
	{ "order_id", "order_id", PXD_PROP_COPY },
	{ "num_items", "num_items", PXD_PROP_COPY },
	{ "content_ids", "content_ids", PXD_PROP_COPY },
	{ "query", "search_string", PXD_PROP_COPY },
};
static const struct pxd_payload_prop items[] = {
	{ "id", "id", PXD_PROP_COPY },
	{ "quantity", "quantity", PXD_PROP_COPY },
	{ "price", "item_price", PXD_PROP_AMOUNT },
};

static const struct pxd_ad_event shape = {
	.user = user_fields,
	.nuser = ARRAY_SIZE(user_fields),
	.props = props,
	.nprops = ARRAY_SIZE(props),
	.items = items,
	.nitems = ARRAY_SIZE(items),
};

/* An app event's platform from its user agent: app_ios or app_android, or
 * NULL when the agent names neither. */
static const char *app_os(const struct pxd_event_line *el, struct pxd_buf *scratch)
{
	const char *ua = pxd_payload_jv_text(&el->top[PXD_LINE_UA], scratch);

	if (ua && (strstr(ua, "iPhone") || strstr(ua, "iPad") || strstr(ua, "iOS") ||
		   strstr(ua, "CFNetwork")))
		return "app_ios";
	return ua && strstr(ua, "Android") ? "app_android" : NULL;
}

static const char *source(const struct pxd_event_line *el, struct pxd_buf *scratch)
{
	enum pxd_ad_source s = pxd_ad_source(el);

	return s == PXD_AD_SOURCE_APP ? app_os(el, scratch) : sources[s];
}

static int event(struct pxd_dest *dest, struct pxd_payload_out *o, const struct pxd_event_line *el)
{
	struct pxd_payload_bearer *h = dest->priv;
	const char *text = pxd_payload_jv_text(&el->top[PXD_LINE_EVENT], &h->text);
	const char *name =
	    text ? pxd_payload_event_name(dest, text, names, ARRAY_SIZE(names), false) : NULL;
	/* The source last: the user agent's text takes the scratch buffer. */
	const char *src = text ? source(el, &h->text) : NULL;

	if (!src || !pxd_jv_is_str(&el->top[PXD_LINE_EVENT_ID]))
		return -EINVAL;
	pxd_payload_out_open(o, '{');
	pxd_payload_out_key(o, "event_name");
	pxd_payload_out_str(o, name ? name : "custom", strlen(name ? name : "custom"));
	pxd_payload_out_key(o, "action_source");
	pxd_payload_out_str(o, src, strlen(src));
	pxd_payload_out_key(o, "event_time");
	pxd_payload_out_int(o, pxd_event_line_ts(el) / 1000);
	pxd_payload_out_member(o, "event_id", &el->top[PXD_LINE_EVENT_ID]);
	pxd_ad_event_body(o, el, &shape, &h->text);
	pxd_payload_out_close(o, '}');
	return 0;
}

static int pinterest_build(struct pxd_dest *dest, const struct pxd_batch *b,
			   struct pxd_request *req)
{
	return pxd_ad_build_data(dest, b, event, req);
}

static enum pxd_delivery pinterest_validate(struct pxd_dest *dest, const struct pxd_event_line *el,
					    char *reason, size_t reason_len)
{
	struct pxd_payload_bearer *h = dest->priv;
	enum pxd_delivery d;

	d = pxd_ad_check(el, PLATFORM, MAX_AGE_MS, user_fields, ARRAY_SIZE(user_fields), &h->text,
			 reason, reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	if (!source(el, &h->text)) {
		snprintf(reason, reason_len,
			 PLATFORM ": an app event needs a user agent naming iOS or Android "
				  "(action_source app_ios or app_android)");
		return PXD_DELIVERY_PERMANENT;
	}
	/* §9.7: em, hashed_maids, or ip and user agent together. */
	if (!pxd_payload_has_any(el, user_fields, 1, &h->text) &&
	    !(pxd_jv_is_str(&el->top[PXD_LINE_IP]) && pxd_jv_is_str(&el->top[PXD_LINE_UA]))) {
		snprintf(reason, reason_len,
			 PLATFORM ": user_data needs an email, or ip and user agent together");
		return PXD_DELIVERY_PERMANENT;
	}
	return PXD_DELIVERY_OK;
}

/* events[i] answers data[i] (§2): "processed", or "failed" with its message. */
static void classify_events(const struct pxd_batch *b, const json_t *events,
			    struct pxd_outcome *out)
{
	for (size_t i = 0; i < b->n; i++) {
		const json_t *e = json_array_get(events, i);
		const char *st = json_string_value(json_object_get(e, "status"));
		const char *msg = json_string_value(json_object_get(e, "error_message"));

		if (st && strcmp(st, "failed") == 0)
			pxd_payload_outcomes(&out[i], 1, PXD_DELIVERY_PERMANENT, 0,
					     PLATFORM ": event %zu failed: %.140s", i,
					     msg ? msg : "no error_message");
		else
			pxd_payload_outcomes(&out[i], 1, PXD_DELIVERY_OK, 0, PLATFORM ": %s",
					     st ? st : "received");
	}
}

/* Pinterest's codes (§2): 8 (429) and 4197 (503, ramped down) retry; 2
 * (401), 29 (403) and 4196 (400) are the destination's or the batch's. */
static void classify_code(const struct pxd_batch *b, const struct pxd_response *resp,
			  const json_t *body, struct pxd_outcome *out)
{
	long code = (long)json_integer_value(json_object_get(body, "code"));
	const char *msg = json_string_value(json_object_get(body, "message"));
	long s = resp->status;

	if (s == 401 || s == 403)
		pxd_payload_outcomes(out, b->n, PXD_DELIVERY_PERMANENT, 0,
				     PLATFORM ": HTTP %ld code %ld: " FIX_AUTH "; it said: %.80s",
				     s, code, msg ? msg : "");
	else if (code == 8 || code == 4197 || s == 429 || s >= 500)
		pxd_payload_outcomes(out, b->n, PXD_DELIVERY_RETRY, resp->retry_after_ms,
				     PLATFORM ": HTTP %ld code %ld: %.100s", s, code,
				     msg ? msg : "");
	else
		pxd_payload_outcomes(out, b->n, PXD_DELIVERY_PERMANENT, 0,
				     "%s" PLATFORM ": HTTP %ld code %ld: %.100s",
				     b->n > 1 && s == 400 ? PXD_BISECT_REASON : "", s, code,
				     msg ? msg : "");
}

static void pinterest_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			       const struct pxd_response *resp, struct pxd_outcome *out)
{
	json_t *body = resp->status ? pxd_payload_parse_body(resp) : NULL;
	const json_t *events = json_object_get(body, "events");
	long s = resp->status;

	(void)dest;
	if ((s == 200 || s == 422) && json_array_size(events) == b->n)
		classify_events(b, events, out);
	else if (s >= 400 && json_is_integer(json_object_get(body, "code")))
		classify_code(b, resp, body, out);
	else
		pxd_payload_classify_whole(PLATFORM, resp, out, b->n, FIX_AUTH);
	json_decref(body);
}

const struct pxd_adapter pxd_adapter_pinterest = {
	.type = "pinterest",
	.max_events = 1000,
	/* §1 gives no byte limit [U]; Meta's ~1 MB at 80% is the working cap. */
	.max_bytes = 800 * 1000,
	.flags = PXD_ADAPTER_AD | PXD_ADAPTER_READS_LINE,
	.init = pinterest_init,
	.fini = pxd_payload_bearer_fini,
	.validate = pxd_payload_validate_tree,
	.validate_line = pinterest_validate,
	.build = pinterest_build,
	.classify = pinterest_classify,
};
