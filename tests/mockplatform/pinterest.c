// SPDX-License-Identifier: MIT
/*
 * pinterest.c - the mock's Pinterest Conversions API v5 (specs/ad-apis.md
 * §9.7): POST /v5/ad_accounts/{id}/events with a bearer token, 1 to 1,000
 * events, an answer per event in request order (events[].status), 422 when
 * not all were processed, and ?test=true recording nothing.
 */
#include "mock_platform.h"

#include <stdio.h>
#include <string.h>

#include "compiler.h"

#define MAX_EVENTS 1000

static const char *const names[] = {
	"add_to_cart",
	"checkout",
	"custom",
	"lead",
	"page_visit",
	"search",
	"signup",
	"view_category",
	"watch_video",
	"view_content",
	"initiate_checkout",
	"subscribe",
	"add_to_wishlist",
	"add_payment_info",
	"contact",
	NULL,
};

static void pin_error(struct pxd_mock_resp *r, int status, int code, const char *msg)
{
	pxd_mock_reply(r, status, json_pack("{s:i, s:s}", "code", code, "message", msg));
}

static bool user_ok(const json_t *u, char *why, size_t whylen)
{
	static const char *const hashed[] = { "em", "ph",      "fn",	      "ln",
					      "ge", "db",      "ct",	      "st",
					      "zp", "country", "external_id", "hashed_maids" };

	for (size_t i = 0; i < ARRAY_SIZE(hashed); i++) {
		const json_t *v = json_object_get(u, hashed[i]);

		if (v && (!json_is_array(v) || !pxd_mock_hashed_ok(v))) {
			snprintf(why, whylen, "user_data.%s must be an array of SHA-256 hashes",
				 hashed[i]);
			return false;
		}
	}
	if (json_object_get(u, "click_id") && !json_is_string(json_object_get(u, "click_id"))) {
		snprintf(why, whylen, "user_data.click_id must be a string");
		return false;
	}
	if (json_object_get(u, "em") || json_object_get(u, "hashed_maids") ||
	    (json_is_string(json_object_get(u, "client_ip_address")) &&
	     json_is_string(json_object_get(u, "client_user_agent"))))
		return true;
	snprintf(why, whylen,
		 "user_data needs em, hashed_maids, or client_ip_address with client_user_agent");
	return false;
}

static bool event_ok(const struct pxd_mock *m, const json_t *ev, char *why, size_t whylen)
{
	static const char *const sources[] = { "app_android", "app_ios", "web", "offline", NULL };
	const json_t *c = json_object_get(ev, "custom_data");
	const json_t *value = json_object_get(c, "value");
	const char *id = json_string_value(json_object_get(ev, "event_id"));

	if (!pxd_mock_one_of(json_string_value(json_object_get(ev, "event_name")), names) ||
	    !pxd_mock_one_of(json_string_value(json_object_get(ev, "action_source")), sources) ||
	    !json_is_integer(json_object_get(ev, "event_time")) || !id ||
	    !json_is_object(json_object_get(ev, "user_data"))) {
		snprintf(why, whylen,
			 "event_name, action_source, event_time, event_id and "
			 "user_data are required");
		return false;
	}
	if (value && (!json_is_string(value) ||
		      !pxd_mock_currency_ok(json_string_value(json_object_get(c, "currency"))))) {
		snprintf(why, whylen, "custom_data.value must be a string, with a currency");
		return false;
	}
	return user_ok(json_object_get(ev, "user_data"), why, whylen) &&
	       !pxd_mock_marked(m, id, why, whylen);
}

static void pinterest(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		      struct pxd_mock_resp *r)
{
	char test[8];
	bool dry =
	    pxd_mock_query_get(req->query, "test", test, sizeof(test)) && strcmp(test, "true") == 0;
	json_t *body = pxd_mock_parse_body(req);
	const json_t *data = json_object_get(body, "data");
	json_t *events;
	const json_t *ev;
	char why[160];
	size_t i, processed = 0;

	(void)now_ms;
	if (!pxd_mock_bearer_ok(m, PXD_MOCK_PINTEREST, req)) {
		pin_error(r, 401, 2, "Authentication failed.");
	} else if (!json_is_array(data) || !json_array_size(data) ||
		   json_array_size(data) > MAX_EVENTS) {
		pin_error(r, 400, 4196, "data must hold 1 to 1000 events.");
	} else {
		events = json_array();
		json_array_foreach(data, i, ev)
		{
			bool ok = event_ok(m, ev, why, sizeof(why));

			json_array_append_new(events, json_pack("{s:s, s:s?, s:n}", "status",
								ok ? "processed" : "failed",
								"error_message", ok ? NULL : why,
								"warning_message"));
			processed += ok;
			if (ok && !dry)
				pxd_mock_record(r, PXD_MOCK_PINTEREST,
						json_string_value(json_object_get(ev, "event_id")),
						ev);
		}
		pxd_mock_reply(r, processed == json_array_size(data) ? 200 : 422,
			       json_pack("{s:I, s:I, s:o}", "num_events_received",
					 (json_int_t)json_array_size(data), "num_events_processed",
					 (json_int_t)processed, "events", events));
	}
	json_decref(body);
}

static void pinterest_fault(struct pxd_mock *m, int status, long code, long subcode,
			    struct pxd_mock_resp *r)
{
	(void)m;
	(void)subcode;
	if (!status)
		status = 500;
	/* §2: Pinterest's codes for the statuses it documents. */
	if (!code)
		code = status == 429   ? 8
		       : status == 503 ? 4197
		       : status == 401 ? 2
		       : status == 403 ? 29
		       : status == 400 ? 4196
				       : 1;
	pin_error(r, status, (int)code, "(mock) injected");
}

/* /v5/ad_accounts/{id}/events */
static bool pinterest_route(struct pxd_sv path)
{
	return pxd_mock_path_id(path, "/v5/ad_accounts", "0123456789", "/events");
}

const struct pxd_mock_platform_def pxd_mock_pinterest = {
	.name = "pinterest",
	.route = pinterest_route,
	.handle = pinterest,
	.fault = pinterest_fault,
};
