// SPDX-License-Identifier: MIT
/*
 * tiktok.c - the mock's TikTok Events API 2.0 (specs/ad-apis.md §9.4):
 * POST /open_api/v1.3/event/track/ with an Access-Token header, at most
 * 1,000 events, and every error reported as a code inside an HTTP 200.
 */
#include "mock_platform.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"

static void tiktok_reply(struct pxd_mock *m, struct pxd_mock_resp *r, long code, const char *msg)
{
	char rid[32];

	snprintf(rid, sizeof(rid), "mock%06" PRIu64, ++m->ids);
	r->refused |= code != 0;
	pxd_mock_reply(r, 200,
		       json_pack("{s:i, s:s, s:s, s:{}}", "code", (int)code, "message", msg,
				 "request_id", rid, "data"));
}

static bool tiktok_event_ok(const json_t *ev, int64_t now_ms, char *why, size_t whylen)
{
	static const char *const hashed[] = { "email", "phone", "external_id" };
	const json_t *u = json_object_get(ev, "user");
	const json_t *t = json_object_get(ev, "event_time");

	if (!json_is_string(json_object_get(ev, "event")) || !json_is_integer(t) ||
	    !json_is_string(json_object_get(ev, "event_id"))) {
		snprintf(why, whylen, "event, event_time and event_id are required");
		return false;
	}
	if (json_integer_value(t) * 1000 < now_ms - 7 * PXD_MOCK_DAY_MS) {
		snprintf(why, whylen, "event_time is more than 7 days in the past");
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(hashed); i++) {
		const json_t *v = json_object_get(u, hashed[i]);

		if (v && !pxd_mock_hashed_ok(v)) {
			snprintf(why, whylen, "user.%s must be SHA-256 hashed", hashed[i]);
			return false;
		}
	}
	return true;
}

static void tiktok(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		   struct pxd_mock_resp *r)
{
	static const char *const sources[] = { "web", "app", "offline", "crm" };
	json_t *body = pxd_mock_parse_body(req);
	json_t *data = json_object_get(body, "data");
	const char *src = json_string_value(json_object_get(body, "event_source"));
	char tok[512], why[128], msg[192];
	bool src_ok = false;
	const json_t *ev;
	size_t i;

	for (i = 0; src && i < ARRAY_SIZE(sources); i++)
		src_ok |= strcmp(src, sources[i]) == 0;
	/* §2: TikTok reports errors inside an HTTP 200. */
	if (!pxd_mock_header(req, "access-token", tok, sizeof(tok)) ||
	    !pxd_mock_cred_ok(m->conf.tiktok_token, tok)) {
		tiktok_reply(m, r, 40105, "Access token is incorrect or has been revoked.");
	} else if (!src_ok || !json_is_string(json_object_get(body, "event_source_id"))) {
		tiktok_reply(m, r, 40002, "event_source and event_source_id are required.");
	} else if (!json_is_array(data) || !json_array_size(data) || json_array_size(data) > 1000) {
		tiktok_reply(m, r, 40002, "data must hold 1 to 1000 events.");
	} else {
		json_array_foreach(data, i, ev)
		{
			if (tiktok_event_ok(ev, now_ms, why, sizeof(why)))
				continue;
			snprintf(msg, sizeof(msg), "data[%zu]: %s", i, why);
			tiktok_reply(m, r, 40002, msg);
			json_decref(body);
			return;
		}
		json_array_foreach(data, i, ev) pxd_mock_record(
		    r, PXD_MOCK_TIKTOK, json_string_value(json_object_get(ev, "event_id")), ev);
		tiktok_reply(m, r, 0, "OK");
	}
	json_decref(body);
}

static void tiktok_fault(struct pxd_mock *m, int status, long code, long subcode,
			 struct pxd_mock_resp *r)
{
	(void)subcode;
	if (code || !status) {
		tiktok_reply(m, r, code ? code : 50000, "(mock) injected");
		return;
	}
	r->status = status;
	snprintf(r->content_type, sizeof(r->content_type), "text/html");
	pxd_buf_printf(&r->body, "<html><body><h1>%d</h1>(mock) injected</body></html>", status);
}

static bool tiktok_route(struct pxd_sv path)
{
	return pxd_sv_eq_lit(path, "/open_api/v1.3/event/track/");
}

const struct pxd_mock_platform_def pxd_mock_tiktok = {
	.name = "tiktok",
	.route = tiktok_route,
	.handle = tiktok,
	.fault = tiktok_fault,
};
