// SPDX-License-Identifier: MIT
/*
 * meta.c - the mock's Meta Conversions API (specs/ad-apis.md §9.1):
 * POST /{version}/{pixel}/events, access token in the body, the query or a
 * bearer header, at most 1,000 events, and one bad event refusing the whole
 * batch with Graph's error envelope.
 */
#include "mock_platform.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"

/* Graph's messages for the codes the mock sends (§9.1 error envelope). */
static const char *meta_message(long code)
{
	switch (code) {
	case 1:
		return "An unknown error occurred";
	case 2:
		return "An unexpected error has occurred. Please retry your request later.";
	case 4:
		return "(#4) Application request limit reached";
	case 17:
		return "(#17) User request limit reached";
	case 190:
		return "Invalid OAuth access token.";
	case 200:
		return "(#200) Permissions error";
	default:
		return "Invalid parameter";
	}
}

static void meta_error(struct pxd_mock *m, struct pxd_mock_resp *r, int status, long code,
		       long subcode, bool transient, const char *msg)
{
	char trace[32];

	snprintf(trace, sizeof(trace), "mock%06" PRIu64, ++m->ids);
	pxd_mock_reply(r, status,
		       json_pack("{s:{s:s, s:s, s:i, s:i, s:b, s:s, s:s}}", "error", "message",
				 meta_message(code), "type", "OAuthException", "code", (int)code,
				 "error_subcode", (int)subcode, "is_transient", transient,
				 "error_user_msg", msg, "fbtrace_id", trace));
}

/* Checks one server event; writes why it is refused to <why>. */
static bool meta_event_ok(const struct pxd_mock *m, const json_t *ev, int64_t now_ms, long *subcode,
			  char *why, size_t whylen)
{
	static const char *const hashed[] = { "em", "ph", "fn", "ln",	   "ge",	 "db",
					      "ct", "st", "zp", "country", "external_id" };
	static const char *const ids[] = { "em",  "ph", "external_id", "client_ip_address",
					   "fbc", "fbp" };
	const json_t *u = json_object_get(ev, "user_data");
	const json_t *t = json_object_get(ev, "event_time");
	const char *src = json_string_value(json_object_get(ev, "action_source"));
	const char *url = json_string_value(json_object_get(ev, "event_source_url"));
	const char *id = json_string_value(json_object_get(ev, "event_id"));
	bool ident = false;

	*subcode = 2804050;
	if (!json_is_string(json_object_get(ev, "event_name")) || !json_is_integer(t) || !src ||
	    !json_is_object(u)) {
		snprintf(why, whylen,
			 "event_name, event_time, action_source and user_data are required");
		return false;
	}
	if (json_integer_value(t) * 1000 < now_ms - 7 * PXD_MOCK_DAY_MS) {
		*subcode = 2804003;
		snprintf(why, whylen, "event_time is more than 7 days in the past");
		return false;
	}
	if (strcmp(src, "website") == 0 &&
	    (!url || !json_is_string(json_object_get(u, "client_user_agent")))) {
		snprintf(why, whylen, "website events need event_source_url and client_user_agent");
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(hashed); i++) {
		const json_t *v = json_object_get(u, hashed[i]);

		if (v && !pxd_mock_hashed_ok(v)) {
			snprintf(why, whylen, "user_data.%s is not a SHA-256 in lowercase hex",
				 hashed[i]);
			return false;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		ident |= json_object_get(u, ids[i]) != NULL;
	if (!ident) {
		snprintf(why, whylen, "user_data has no customer information parameter");
		return false;
	}
	if (m->conf.meta_reject_marker[0] && id && strstr(id, m->conf.meta_reject_marker)) {
		snprintf(why, whylen, "event %.64s carries the reject marker", id);
		return false;
	}
	return true;
}

static void meta(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		 struct pxd_mock_resp *r)
{
	json_t *body = pxd_mock_parse_body(req);
	json_t *data = json_object_get(body, "data");
	const char *tok = json_string_value(json_object_get(body, "access_token"));
	char qtok[512], hdr[600], why[160], msg[200], trace[32];
	const json_t *ev;
	long subcode;
	size_t i;

	if (!tok && pxd_mock_query_get(req->query, "access_token", qtok, sizeof(qtok)))
		tok = qtok;
	if (!tok && pxd_mock_bearer(req, hdr, sizeof(hdr)))
		tok = hdr;
	if (!pxd_mock_cred_ok(m->conf.meta_token, tok)) {
		meta_error(m, r, 400, 190, 0, false, "The access token could not be decrypted");
	} else if (!json_is_array(data) || !json_array_size(data)) {
		meta_error(m, r, 400, 100, 0, false, "The parameter data is required");
	} else if (json_array_size(data) > 1000) {
		meta_error(m, r, 400, 100, 0, false, "data may hold at most 1000 events");
	} else {
		json_array_foreach(data, i, ev)
		{
			if (meta_event_ok(m, ev, now_ms, &subcode, why, sizeof(why)))
				continue;
			/* §2: one bad event refuses the whole batch. */
			snprintf(msg, sizeof(msg), "data[%zu]: %s", i, why);
			meta_error(m, r, 400, 100, subcode, false, msg);
			json_decref(body);
			return;
		}
		json_array_foreach(data, i, ev) pxd_mock_record(
		    r, PXD_MOCK_META, json_string_value(json_object_get(ev, "event_id")), ev);
		snprintf(trace, sizeof(trace), "mock%06" PRIu64, ++m->ids);
		pxd_mock_reply(r, 200,
			       json_pack("{s:I, s:[], s:s}", "events_received",
					 (json_int_t)json_array_size(data), "messages",
					 "fbtrace_id", trace));
	}
	json_decref(body);
}

/* Graph codes that Meta marks transient (§2). */
static bool meta_transient(long code)
{
	return code == 1 || code == 2 || code == 4 || code == 17 || code == 341 || code == 368 ||
	       code == 21009 || code == 80003;
}

static void meta_fault(struct pxd_mock *m, int status, long code, long subcode,
		       struct pxd_mock_resp *r)
{
	/* §9.1: the status is not reliable; the code tells. */
	if (!code)
		code = status == 429 ? 4 : status >= 500 ? 2 : 100;
	if (!status)
		status = meta_transient(code) && code != 4 && code != 17 ? 500 : 400;
	meta_error(m, r, status, code, subcode, meta_transient(code), "(mock) injected");
}

/* /{version}/{pixel}/events */
static bool meta_route(struct pxd_sv path)
{
	const char *p = path.p, *end = path.p + path.n;

	return pxd_mock_path_segment(&p, end, "v0123456789.") &&
	       pxd_mock_path_segment(&p, end, "0123456789") &&
	       pxd_sv_eq_lit(pxd_sv_make(p, (size_t)(end - p)), "/events");
}

const struct pxd_mock_platform_def pxd_mock_meta = {
	.name = "meta",
	.route = meta_route,
	.handle = meta,
	.fault = meta_fault,
};
