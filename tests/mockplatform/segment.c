// SPDX-License-Identifier: MIT
/*
 * segment.c - the mock's Segment HTTP Tracking API (specs/ad-apis.md §9.9):
 * POST /v1/batch with the write key as HTTP Basic user (or writeKey in the
 * body), at most 2,500 messages and 500 KB per batch, 32 KB per message. A
 * batch over 2,500 is answered 200 and dropped, as Segment does; a message
 * it cannot take refuses the batch with 400.
 */
#include "mock_platform.h"

#include <stdio.h>
#include <string.h>

#include "compiler.h"

#define MAX_MESSAGES 2500
#define MAX_BATCH_BYTES (500 * 1000)
#define MAX_MESSAGE_BYTES (32 * 1000)

/* What each message type needs beside userId or anonymousId (§9.9). */
static bool message_ok(const struct pxd_mock *m, const json_t *msg, int64_t now_ms, char *why,
		       size_t whylen)
{
	static const struct {
		const char *type;
		const char *field;
	} need[] = { { "track", "event" }, { "page", NULL },	   { "screen", NULL },
		     { "identify", NULL }, { "group", "groupId" }, { "alias", "previousId" } };
	const char *type = json_string_value(json_object_get(msg, "type"));
	const char *id = json_string_value(json_object_get(msg, "messageId"));
	size_t i;

	(void)now_ms;
	for (i = 0; type && i < ARRAY_SIZE(need); i++)
		if (strcmp(type, need[i].type) == 0)
			break;
	if (!type || i == ARRAY_SIZE(need)) {
		snprintf(why, whylen, "type must be track, page, screen, identify, group or alias");
		return false;
	}
	if (need[i].field && !json_is_string(json_object_get(msg, need[i].field))) {
		snprintf(why, whylen, "a %s message needs %s", type, need[i].field);
		return false;
	}
	if (!json_is_string(json_object_get(msg, "userId")) &&
	    !json_is_string(json_object_get(msg, "anonymousId"))) {
		snprintf(why, whylen, "userId or anonymousId is required");
		return false;
	}
	if (!id || strlen(id) >= 100 ||
	    !pxd_mock_iso8601_ok(json_string_value(json_object_get(msg, "timestamp")))) {
		snprintf(why, whylen, "messageId (under 100) and an ISO-8601 timestamp are needed");
		return false;
	}
	if (json_dumpb(msg, NULL, 0, JSON_COMPACT) > MAX_MESSAGE_BYTES) {
		snprintf(why, whylen, "message over 32 KB");
		return false;
	}
	if (m->conf.reject_marker[0] && strstr(id, m->conf.reject_marker)) {
		snprintf(why, whylen, "message %.64s carries the reject marker", id);
		return false;
	}
	return true;
}

static void segment(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		    struct pxd_mock_resp *r)
{
	json_t *body = pxd_mock_parse_body(req);
	json_t *batch = json_object_get(body, "batch");
	const char *wk = json_string_value(json_object_get(body, "writeKey"));
	char user[300], pass[8], msg[200];

	if (!wk && pxd_mock_basic(req, user, sizeof(user), pass, sizeof(pass)))
		wk = user;
	if (!pxd_mock_cred_ok(m->conf.credential[PXD_MOCK_SEGMENT], wk)) {
		pxd_mock_reply(r, 401, json_pack("{s:s}", "error", "invalid write key"));
	} else if (req->body.n > MAX_BATCH_BYTES || !json_is_array(batch)) {
		pxd_mock_reply(r, 400,
			       json_pack("{s:s}", "error", "batch must be an array under 500 KB"));
	} else if (json_array_size(batch) > MAX_MESSAGES) {
		/* §2: Segment answers 200 and drops the batch. */
		r->refused = true;
		pxd_mock_reply(r, 200, json_pack("{s:b}", "success", true));
	} else if (!pxd_mock_items_ok(m, batch, now_ms, message_ok, "batch", msg, sizeof(msg))) {
		pxd_mock_reply(r, 400, json_pack("{s:s}", "error", msg));
	} else {
		pxd_mock_record_each(r, PXD_MOCK_SEGMENT, batch, "messageId");
		pxd_mock_reply(r, 200, json_pack("{s:b}", "success", true));
	}
	json_decref(body);
}

static bool segment_route(struct pxd_sv path)
{
	return pxd_sv_eq_lit(path, "/v1/batch");
}

const struct pxd_mock_platform_def pxd_mock_segment = {
	.name = "segment",
	.route = segment_route,
	.handle = segment,
};
