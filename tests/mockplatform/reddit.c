// SPDX-License-Identifier: MIT
/*
 * reddit.c - the mock's Reddit Conversions API v3 (specs/ad-apis.md §9.8):
 * POST /api/v3/pixels/{id}/conversion_events with a bearer token and
 * {"data":{"events":[...]}} of at most 1,000. A malformed event fails the
 * whole batch with a 400 (§2); an event carrying the reject marker is
 * answered in the 200's invalid_events[] instead, the others accepted.
 */
#include "mock_platform.h"

#include <stdio.h>
#include <string.h>

#include "compiler.h"

#define MAX_EVENTS 1000
/* §7: event_at at most 168 h old and 5 min ahead. */
#define MAX_AGE_MS (7 * PXD_MOCK_DAY_MS)
#define MAX_FUTURE_MS (5 * 60 * 1000LL)

static const char *const tracking_types[] = {
	"PAGE_VISIT", "VIEW_CONTENT", "SEARCH",	 "ADD_TO_CART", "ADD_TO_WISHLIST",
	"PURCHASE",   "LEAD",	      "SIGN_UP", "CUSTOM",	NULL,
};

static void rd_reply(struct pxd_mock_resp *r, int status, const char *msg)
{
	pxd_mock_reply(r, status, json_pack("{s:s}", "message", msg));
}

static bool event_ok(const struct pxd_mock *m, const json_t *ev, int64_t now_ms, char *why,
		     size_t whylen)
{
	static const char *const sources[] = { "WEBSITE", "APP", "PHYSICAL_STORE", "OTHER", NULL };
	static const char *const hashed[] = { "email", "external_id", "ip_address",
					      "phone_number" };
	const json_t *t = json_object_get(ev, "event_at");
	const json_t *type = json_object_get(ev, "type");
	const char *tt = json_string_value(json_object_get(type, "tracking_type"));
	const json_t *u = json_object_get(ev, "user");
	const json_t *md = json_object_get(ev, "metadata");

	(void)m;
	if (!json_is_integer(t) || json_integer_value(t) < now_ms - MAX_AGE_MS ||
	    json_integer_value(t) > now_ms + MAX_FUTURE_MS) {
		snprintf(why, whylen, "event_at must be Unix ms within the last 168 hours");
		return false;
	}
	if (!pxd_mock_one_of(json_string_value(json_object_get(ev, "action_source")), sources)) {
		snprintf(why, whylen, "action_source is not WEBSITE, APP, PHYSICAL_STORE or OTHER");
		return false;
	}
	if (!pxd_mock_one_of(tt, tracking_types) ||
	    (strcmp(tt, "CUSTOM") == 0 &&
	     !json_is_string(json_object_get(type, "custom_event_name")))) {
		snprintf(why, whylen, "type.tracking_type is unknown, or CUSTOM without a name");
		return false;
	}
	if (!json_is_string(json_object_get(md, "conversion_id"))) {
		snprintf(why, whylen, "metadata.conversion_id is required");
		return false;
	}
	if (json_object_get(md, "value") &&
	    !pxd_mock_currency_ok(json_string_value(json_object_get(md, "currency")))) {
		snprintf(why, whylen, "metadata.value needs a currency");
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(hashed); i++) {
		const json_t *v = json_object_get(u, hashed[i]);

		if (v && !pxd_mock_hex64(v)) {
			snprintf(why, whylen, "user.%s must be SHA-256 hashed", hashed[i]);
			return false;
		}
	}
	return true;
}

static void reddit(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		   struct pxd_mock_resp *r)
{
	json_t *body = pxd_mock_parse_body(req);
	const json_t *events = json_object_get(json_object_get(body, "data"), "events");
	char msg[200];
	json_t *invalid;
	const json_t *ev;
	size_t i;

	if (!pxd_mock_bearer_ok(m, PXD_MOCK_REDDIT, req)) {
		rd_reply(r, 401, "UNAUTHORIZED");
	} else if (!json_is_array(events) || !json_array_size(events) ||
		   json_array_size(events) > MAX_EVENTS) {
		rd_reply(r, 400, "data.events must hold 1 to 1000 events");
	} else if (!pxd_mock_items_ok(m, events, now_ms, event_ok, "data.events", msg,
				      sizeof(msg))) {
		rd_reply(r, 400, msg);
	} else {
		invalid = json_array();
		json_array_foreach(events, i, ev)
		{
			const char *id = json_string_value(
			    json_object_get(json_object_get(ev, "metadata"), "conversion_id"));

			if (pxd_mock_marked(m, id, NULL, 0))
				json_array_append_new(invalid,
						      json_pack("{s:s, s:O}", "error_message",
								"event carries the reject marker",
								"event", ev));
			else
				pxd_mock_record(r, PXD_MOCK_REDDIT, id, ev);
		}
		r->refused |= json_array_size(invalid) > 0;
		pxd_mock_reply(r, 200,
			       json_pack("{s:s, s:o}", "message", "Successfully processed",
					 "invalid_events", invalid));
	}
	json_decref(body);
}

/* /api/v3/pixels/{id}/conversion_events */
static bool reddit_route(struct pxd_sv path)
{
	return pxd_mock_path_id(path, "/api/v3/pixels", "abcdefghijklmnopqrstuvwxyz0123456789_",
				"/conversion_events");
}

const struct pxd_mock_platform_def pxd_mock_reddit = {
	.name = "reddit",
	.route = reddit_route,
	.handle = reddit,
};
