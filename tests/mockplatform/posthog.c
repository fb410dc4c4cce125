// SPDX-License-Identifier: MIT
/*
 * posthog.c - the mock's PostHog capture /batch (specs/ad-apis.md §9.12):
 * POST /batch/ with a phc_ project api_key in the body; each event needs
 * a name, a distinct_id, an ISO-8601 timestamp and, when it has one, a
 * UUID. One bad event refuses the batch with 400, as PostHog's capture
 * validation does [U].
 */
#include "mock_platform.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool uuid_ok(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-'
							    : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool event_ok(const struct pxd_mock *m, const json_t *e, int64_t now_ms, char *why,
		     size_t whylen)
{
	const char *uuid = json_string_value(json_object_get(e, "uuid"));
	const char *id = json_string_value(json_object_get(e, "distinct_id"));

	(void)now_ms;
	if (!json_is_string(json_object_get(e, "event")) || !id || !*id ||
	    !json_is_object(json_object_get(e, "properties"))) {
		snprintf(why, whylen, "event, distinct_id and properties are required");
		return false;
	}
	if ((json_object_get(e, "uuid") && (!uuid || !uuid_ok(uuid))) ||
	    !pxd_mock_iso8601_ok(json_string_value(json_object_get(e, "timestamp")))) {
		snprintf(why, whylen, "uuid must be a UUID and timestamp ISO-8601");
		return false;
	}
	if (m->conf.reject_marker[0] && uuid && strstr(uuid, m->conf.reject_marker)) {
		snprintf(why, whylen, "event %.40s carries the reject marker", uuid);
		return false;
	}
	return true;
}

static void posthog(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		    struct pxd_mock_resp *r)
{
	json_t *body = pxd_mock_parse_body(req);
	json_t *batch = json_object_get(body, "batch");
	const char *key = json_string_value(json_object_get(body, "api_key"));
	char msg[200];

	if (!key || strncmp(key, "phc_", 4) != 0 ||
	    !pxd_mock_cred_ok(m->conf.credential[PXD_MOCK_POSTHOG], key)) {
		pxd_mock_reply(r, 401,
			       json_pack("{s:s, s:s, s:s}", "type", "authentication_error", "code",
					 "invalid_api_key", "detail",
					 "Project API key invalid. You can find your project API "
					 "key in PostHog project settings."));
	} else if (!json_is_array(batch) || !json_array_size(batch)) {
		pxd_mock_reply(r, 400,
			       json_pack("{s:s, s:s, s:s}", "type", "validation_error", "code",
					 "invalid_payload", "detail",
					 "batch must be a non-empty array"));
	} else if (!pxd_mock_items_ok(m, batch, now_ms, event_ok, "batch", msg, sizeof(msg))) {
		pxd_mock_reply(r, 400,
			       json_pack("{s:s, s:s, s:s}", "type", "validation_error", "code",
					 "invalid_payload", "detail", msg));
	} else {
		pxd_mock_record_each(r, PXD_MOCK_POSTHOG, batch, "uuid");
		pxd_mock_reply(r, 200, json_pack("{s:i}", "status", 1));
	}
	json_decref(body);
}

static bool posthog_route(struct pxd_sv path)
{
	/* Amplitude has /batch; PostHog's path keeps its slash. */
	return pxd_sv_eq_lit(path, "/batch/");
}

const struct pxd_mock_platform_def pxd_mock_posthog = {
	.name = "posthog",
	.route = posthog_route,
	.handle = posthog,
};
