// SPDX-License-Identifier: MIT
/*
 * snapchat.c - the mock's Snapchat Conversions API v3 (specs/ad-apis.md
 * §9.6): POST /v3/{pixel_id}/events and /v3/{pixel_id}/events/validate with
 * the token as ?access_token= or a bearer header, at most 2,000 events. One
 * event it cannot use refuses the whole batch with a 400 (§2 [U]); the
 * validate endpoint answers VALID and records nothing.
 */
#include "mock_platform.h"

#include <stdio.h>
#include <string.h>

#include "compiler.h"

#define MAX_EVENTS 2000
/* §7: events up to 37 days old. */
#define MAX_AGE_MS (37 * PXD_MOCK_DAY_MS)
#define PIXEL_CHARS "0123456789abcdefABCDEF-"

static const char *const names[] = {
	"PAGE_VIEW",
	"VIEW_CONTENT",
	"SEARCH",
	"ADD_CART",
	"ADD_TO_WISHLIST",
	"START_CHECKOUT",
	"ADD_BILLING",
	"PURCHASE",
	"SIGN_UP",
	"SUBSCRIBE",
	"START_TRIAL",
	"SAVE",
	"LOGIN",
	"SHARE",
	"RESERVE",
	"LIST_VIEW",
	"APP_OPEN",
	"CUSTOM_EVENT_1",
	"CUSTOM_EVENT_2",
	"CUSTOM_EVENT_3",
	"CUSTOM_EVENT_4",
	"CUSTOM_EVENT_5",
	NULL,
};

static void snap_reply(struct pxd_mock_resp *r, int status, const char *st, const char *reason)
{
	pxd_mock_reply(r, status, json_pack("{s:s, s:s}", "status", st, "reason", reason));
}

static bool user_ok(const json_t *u, char *why, size_t whylen)
{
	static const char *const hashed[] = { "em", "ph", "fn", "ln",	   "ge",	 "db",
					      "ct", "st", "zp", "country", "external_id" };

	if (!json_is_object(u)) {
		snprintf(why, whylen, "user_data is required");
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(hashed); i++) {
		const json_t *v = json_object_get(u, hashed[i]);

		if (v && !pxd_mock_hashed_ok(v)) {
			snprintf(why, whylen, "user_data.%s must be SHA-256 hashed", hashed[i]);
			return false;
		}
	}
	if (json_object_get(u, "em") || json_object_get(u, "ph") || json_object_get(u, "madid") ||
	    json_object_get(u, "sc_click_id") ||
	    (json_is_string(json_object_get(u, "client_ip_address")) &&
	     json_is_string(json_object_get(u, "client_user_agent"))))
		return true;
	snprintf(why, whylen,
		 "user_data needs em, ph, madid, or client_ip_address with "
		 "client_user_agent");
	return false;
}

static bool event_ok(const struct pxd_mock *m, const json_t *ev, int64_t now_ms, char *why,
		     size_t whylen)
{
	static const char *const sources[] = { "WEB", "MOBILE_APP", "OFFLINE", NULL };
	const json_t *t = json_object_get(ev, "event_time");
	const json_t *c = json_object_get(ev, "custom_data");
	const char *id = json_string_value(json_object_get(ev, "event_id"));

	if (!pxd_mock_one_of(json_string_value(json_object_get(ev, "event_name")), names)) {
		snprintf(why, whylen, "event_name is not a Snap standard event");
		return false;
	}
	if (!json_is_integer(t) || json_integer_value(t) * 1000 < now_ms - MAX_AGE_MS) {
		snprintf(why, whylen, "event_time must be Unix seconds within the last 37 days");
		return false;
	}
	if (!pxd_mock_one_of(json_string_value(json_object_get(ev, "action_source")), sources)) {
		snprintf(why, whylen, "action_source must be WEB, MOBILE_APP or OFFLINE");
		return false;
	}
	if (json_object_get(c, "value") &&
	    !pxd_mock_currency_ok(json_string_value(json_object_get(c, "currency")))) {
		snprintf(why, whylen, "custom_data.value needs a currency");
		return false;
	}
	return user_ok(json_object_get(ev, "user_data"), why, whylen) &&
	       !pxd_mock_marked(m, id, why, whylen);
}

static void snapchat(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		     struct pxd_mock_resp *r)
{
	bool validate =
	    req->path.n > 9 && memcmp(req->path.p + req->path.n - 9, "/validate", 9) == 0;
	json_t *body = pxd_mock_parse_body(req);
	const json_t *data = json_object_get(body, "data");
	char tok[1100], msg[200];

	if (!pxd_mock_query_get(req->query, "access_token", tok, sizeof(tok)) &&
	    !pxd_mock_bearer(req, tok, sizeof(tok)))
		tok[0] = '\0';
	if (!pxd_mock_cred_ok(m->conf.credential[PXD_MOCK_SNAPCHAT], tok)) {
		snap_reply(r, 401, "FAILED", "Unauthorized: the access token is invalid");
	} else if (!json_is_array(data) || !json_array_size(data) ||
		   json_array_size(data) > MAX_EVENTS) {
		snap_reply(r, 400, "FAILED", "data must hold 1 to 2000 events");
	} else if (!pxd_mock_items_ok(m, data, now_ms, event_ok, "data", msg, sizeof(msg))) {
		snap_reply(r, 400, "FAILED", msg);
	} else {
		pxd_mock_record_each(r, PXD_MOCK_SNAPCHAT, validate ? NULL : data, "event_id");
		snap_reply(r, 200, validate ? "VALID" : "SUCCESS", "");
	}
	json_decref(body);
}

static void snapchat_fault(struct pxd_mock *m, int status, long code, long subcode,
			   struct pxd_mock_resp *r)
{
	(void)m;
	(void)code;
	(void)subcode;
	snap_reply(r, status ? status : 500, "FAILED", "(mock) injected");
}

/* /v3/{pixel_id}/events[/validate] */
static bool snapchat_route(struct pxd_sv path)
{
	return pxd_mock_path_id(path, "/v3", PIXEL_CHARS, "/events") ||
	       pxd_mock_path_id(path, "/v3", PIXEL_CHARS, "/events/validate");
}

const struct pxd_mock_platform_def pxd_mock_snapchat = {
	.name = "snapchat",
	.route = snapchat_route,
	.handle = snapchat,
	.fault = snapchat_fault,
};
