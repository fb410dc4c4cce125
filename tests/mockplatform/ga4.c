// SPDX-License-Identifier: MIT
/*
 * ga4.c - the mock's GA4 Measurement Protocol (specs/ad-apis.md §9.2):
 * /mp/collect answers 204 to everything and silently drops what it cannot
 * use; /debug/mp/collect explains in validationMessages.
 */
#include "mock_platform.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"

static bool ga4_name_ok(const char *s)
{
	static const char *const prefixes[] = { "google_", "ga_", "firebase_" };
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 40 || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return false;
	return true;
}

static void ga4_message(json_t *msgs, const char *path, const char *desc, const char *code)
{
	json_array_append_new(msgs, json_pack("{s:s, s:s, s:s}", "fieldPath", path, "description",
					      desc, "validationCode", code));
}

/* Appends what GA4 would drop to <msgs>; returns false when the whole body goes. */
static bool ga4_check(const json_t *body, json_t *msgs, bool *event_ok, size_t max)
{
	const json_t *events = json_object_get(body, "events");
	const json_t *ud = json_object_get(body, "user_data");
	const json_t *ev;
	const char *k;
	json_t *v;
	char path[64];
	size_t i;
	bool ok = true;

	if (!json_is_string(json_object_get(body, "client_id"))) {
		ga4_message(msgs, "client_id", "client_id is required for web streams",
			    "VALUE_REQUIRED");
		ok = false;
	}
	if (!json_is_array(events) || !json_array_size(events) || json_array_size(events) > 25) {
		ga4_message(msgs, "events", "events must hold 1 to 25 events",
			    "VALUE_OUT_OF_BOUNDS");
		ok = false;
	}
	json_object_foreach((json_t *)ud, k, v)
	{
		if (strncmp(k, "sha256_", 7) == 0 && !pxd_mock_hashed_ok(v)) {
			snprintf(path, sizeof(path), "user_data.%s", k);
			ga4_message(msgs, path, "not a SHA-256 in lowercase hex", "VALUE_INVALID");
			ok = false;
		}
	}
	json_array_foreach(events, i, ev)
	{
		const json_t *params = json_object_get(ev, "params");

		if (i >= max)
			break;
		event_ok[i] = ga4_name_ok(json_string_value(json_object_get(ev, "name")));
		if (!event_ok[i]) {
			snprintf(path, sizeof(path), "events[%zu].name", i);
			ga4_message(msgs, path, "invalid or reserved event name", "NAME_INVALID");
		}
		if (json_object_size(params) > 25) {
			snprintf(path, sizeof(path), "events[%zu].params", i);
			ga4_message(msgs, path, "more than 25 params", "VALUE_OUT_OF_BOUNDS");
			event_ok[i] = false;
		}
		json_object_foreach((json_t *)params, k, v)
		{
			if (json_is_string(v) && json_string_length(v) > 100) {
				snprintf(path, sizeof(path), "events[%zu].params.%.32s", i, k);
				ga4_message(msgs, path, "value longer than 100 characters",
					    "VALUE_OUT_OF_BOUNDS");
				event_ok[i] = false;
			}
		}
	}
	return ok;
}

static void ga4(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		struct pxd_mock_resp *r)
{
	bool debug = pxd_sv_starts_with(req->path, "/debug/");
	json_t *body = pxd_mock_parse_body(req);
	json_t *msgs = json_array();
	bool event_ok[25] = { false };
	char mid[64], secret[256];
	const json_t *ev;
	size_t i;
	bool ok;

	(void)now_ms;
	if (!pxd_mock_query_get(req->query, "measurement_id", mid, sizeof(mid)) ||
	    strncmp(mid, "G-", 2))
		ga4_message(msgs, "measurement_id", "measurement_id G-... is required",
			    "VALUE_REQUIRED");
	ok = json_is_object(body) && ga4_check(body, msgs, event_ok, ARRAY_SIZE(event_ok));
	if (!json_is_object(body))
		ga4_message(msgs, "", "the body is not JSON", "VALUE_INVALID");
	/* §9.2: the debug endpoint does not check api_secret. */
	if (debug) {
		pxd_mock_reply(r, 200, json_pack("{s:o}", "validationMessages", msgs));
		json_decref(body);
		return;
	}
	/* §2: /mp/collect answers 2xx to everything and drops what it cannot use. */
	if (!pxd_mock_query_get(req->query, "api_secret", secret, sizeof(secret)) ||
	    !pxd_mock_cred_ok(m->conf.ga4_secret, secret) || strncmp(mid, "G-", 2) != 0)
		ok = false;
	json_array_foreach(ok ? json_object_get(body, "events") : NULL, i, ev)
	{
		if (i < ARRAY_SIZE(event_ok) && event_ok[i])
			pxd_mock_record(r, PXD_MOCK_GA4,
					json_string_value(json_object_get(
					    json_object_get(ev, "params"), "event_id")),
					ev);
	}
	r->status = 204;
	r->refused |= json_array_size(msgs) > 0 || !ok;
	json_decref(msgs);
	json_decref(body);
}

static bool ga4_route(struct pxd_sv path)
{
	return pxd_sv_eq_lit(path, "/mp/collect") || pxd_sv_eq_lit(path, "/debug/mp/collect");
}

const struct pxd_mock_platform_def pxd_mock_ga4 = {
	.name = "ga4",
	.route = ga4_route,
	.handle = ga4,
};
