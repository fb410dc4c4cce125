// SPDX-License-Identifier: MIT
/*
 * amplitude.c - the mock's Amplitude HTTP V2 (/2/httpapi) and Batch
 * (/batch) APIs (specs/ad-apis.md §9.10): api_key in the body, at most
 * 2,000 events, 1 MB on HTTP V2 (413 above). An event without its fields
 * gets the request refused with 400 and the event's index in
 * events_with_missing_fields or events_with_invalid_fields; nothing of such
 * a request is ingested. Each user and device may send 30 events a second
 * on HTTP V2 and 1,000 on Batch: events over it get a 429 that lists them
 * in throttled_events, with Retry-After: 1 so tests need not wait the 30 s a
 * client pauses without one. /identify and /groupidentify take a form
 * (api_key, identification: a JSON list of user or group updates) and
 * answer "success", or a 400 naming what is missing.
 */
#include "mock_platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 2000
#define HTTP_V2_MAX_BYTES (1000 * 1000)
#define HTTP_V2_EPS 30
#define BATCH_EPS 1000
#define ZERO_IDFA "00000000-0000-0000-0000-000000000000"

/* The field an event lacks or gets wrong, or NULL; <missing> says which. */
static const char *event_fault(const struct pxd_mock *m, const json_t *e, size_t min_id,
			       bool *missing)
{
	static const char *const ids[] = { "user_id", "device_id" };
	const json_t *t = json_object_get(e, "time");
	const char *iid = json_string_value(json_object_get(e, "insert_id"));
	bool id = false;

	*missing = true;
	if (!json_is_string(json_object_get(e, "event_type")))
		return "event_type";
	for (size_t i = 0; i < 2; i++) {
		const char *v = json_string_value(json_object_get(e, ids[i]));

		if (v && (strlen(v) < min_id || strcmp(v, ZERO_IDFA) == 0)) {
			*missing = false;
			return ids[i];
		}
		id |= v != NULL;
	}
	if (!id)
		return "user_id";
	*missing = false;
	/* §7: time is Unix ms; seconds would land in 1970. */
	if (t && (!json_is_integer(t) || json_integer_value(t) < 100000000000LL))
		return "time";
	if (m->conf.reject_marker[0] && iid && strstr(iid, m->conf.reject_marker))
		return "event_properties";
	return NULL;
}

/* 400 with the events refused: {"<field>": [index, ...]} per list. */
static bool check_fields(const struct pxd_mock *m, const json_t *events, size_t min_id,
			 struct pxd_mock_resp *r)
{
	json_t *missing = json_object(), *invalid = json_object();
	const json_t *e;
	size_t i;

	json_array_foreach(events, i, e)
	{
		bool miss;
		const char *f = event_fault(m, e, min_id, &miss);
		json_t *list = f ? json_object_get(miss ? missing : invalid, f) : NULL;

		if (!f)
			continue;
		if (!list)
			json_object_set_new(miss ? missing : invalid, f, list = json_array());
		json_array_append_new(list, json_integer((json_int_t)i));
	}
	if (!json_object_size(missing) && !json_object_size(invalid)) {
		json_decref(missing);
		json_decref(invalid);
		return true;
	}
	pxd_mock_reply(r, 400,
		       json_pack("{s:i, s:s, s:o, s:o}", "code", 400, "error",
				 "Request missing required field", "events_with_missing_fields",
				 missing, "events_with_invalid_fields", invalid));
	return false;
}

/* 429 for the events over their id's events/s in this second, counted per
 * user_id and device_id in m->amplitude_eps. */
static bool check_throttle(struct pxd_mock *m, const json_t *events, int eps, int64_t now_ms,
			   struct pxd_mock_resp *r)
{
	json_t *counts, *throttled = json_array(), *devices = json_object();
	const json_t *e;
	size_t i;

	if (!m->amplitude_eps || m->amplitude_second != now_ms / 1000) {
		json_decref(m->amplitude_eps);
		m->amplitude_eps = json_object();
		m->amplitude_second = now_ms / 1000;
	}
	counts = json_deep_copy(m->amplitude_eps);
	json_array_foreach(events, i, e)
	{
		const char *id = json_string_value(json_object_get(e, "device_id"));
		json_int_t n;

		if (!id)
			id = json_string_value(json_object_get(e, "user_id"));
		n = json_integer_value(json_object_get(counts, id)) + 1;
		json_object_set_new(counts, id, json_integer(n));
		if (n <= eps)
			continue;
		json_array_append_new(throttled, json_integer((json_int_t)i));
		json_object_set_new(devices, id, json_integer(n));
	}
	if (!json_array_size(throttled)) {
		json_decref(m->amplitude_eps);
		m->amplitude_eps = counts;
		json_decref(throttled);
		json_decref(devices);
		return true;
	}
	json_decref(counts);
	r->retry_after_s = 1;
	pxd_mock_reply(r, 429,
		       json_pack("{s:i, s:s, s:i, s:o, s:o, s:{}}", "code", 429, "error",
				 "Too many requests for some devices and users", "eps_threshold",
				 eps, "throttled_devices", devices, "throttled_events", throttled,
				 "throttled_users"));
	return false;
}

static void amplitude(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		      struct pxd_mock_resp *r)
{
	json_t *body = pxd_mock_parse_body(req);
	json_t *events = json_object_get(body, "events");
	const char *key = json_string_value(json_object_get(body, "api_key"));
	const json_t *min = json_object_get(json_object_get(body, "options"), "min_id_length");
	bool v2 = pxd_sv_eq_lit(req->path, "/2/httpapi");
	size_t min_id = json_is_integer(min) ? (size_t)json_integer_value(min) : 5;
	const json_t *e;
	size_t i;

	if (v2 && req->body.n > HTTP_V2_MAX_BYTES) {
		pxd_mock_reply(r, 413,
			       json_pack("{s:i, s:s}", "code", 413, "error", "Payload too large"));
	} else if (!pxd_mock_cred_ok(m->conf.credential[PXD_MOCK_AMPLITUDE], key)) {
		pxd_mock_reply(r, 400,
			       json_pack("{s:i, s:s}", "code", 400, "error", "Invalid API key"));
	} else if (!json_is_array(events) || !json_array_size(events) ||
		   json_array_size(events) > MAX_EVENTS) {
		pxd_mock_reply(r, 400,
			       json_pack("{s:i, s:s}", "code", 400, "error",
					 "events must hold 1 to 2000 events"));
	} else if (check_fields(m, events, min_id, r) &&
		   check_throttle(m, events, v2 ? HTTP_V2_EPS : BATCH_EPS, now_ms, r)) {
		json_array_foreach(events, i, e) pxd_mock_record(
		    r, PXD_MOCK_AMPLITUDE, json_string_value(json_object_get(e, "insert_id")), e);
		pxd_mock_reply(r, 200,
			       json_pack("{s:i, s:I, s:I, s:I}", "code", 200, "events_ingested",
					 (json_int_t)json_array_size(events), "payload_size_bytes",
					 (json_int_t)req->body.n, "server_upload_time",
					 (json_int_t)now_ms));
	}
	json_decref(body);
}

/* One update of /identify (user_id or device_id, user_properties) or
 * /groupidentify (group_type, group_value, group_properties). */
static bool identification_ok(const struct pxd_mock *m, const json_t *u, int64_t now_ms, char *why,
			      size_t whylen)
{
	bool group = json_object_get(u, "group_type") != NULL;

	(void)m;
	(void)now_ms;
	if (group ? !json_is_string(json_object_get(u, "group_type")) ||
			!json_is_string(json_object_get(u, "group_value")) ||
			!json_is_object(json_object_get(u, "group_properties"))
		  : (!json_is_string(json_object_get(u, "user_id")) &&
		     !json_is_string(json_object_get(u, "device_id"))) ||
			!json_is_object(json_object_get(u, "user_properties"))) {
		snprintf(why, whylen, "%s",
			 group ? "group_type, group_value and group_properties are required"
			       : "user_id or device_id, and user_properties, are required");
		return false;
	}
	return true;
}

static void identify(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		     struct pxd_mock_resp *r)
{
	bool group = pxd_sv_eq_lit(req->path, "/groupidentify");
	struct pxd_sv form = req->body;
	char key[300], msg[200];
	char *text = malloc(form.n + 1);
	json_t *list = NULL;
	const json_t *u;
	size_t i;

	if (text && pxd_mock_query_get(form, "identification", text, form.n + 1))
		list = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (!pxd_mock_query_get(form, "api_key", key, sizeof(key)) ||
	    !pxd_mock_cred_ok(m->conf.credential[PXD_MOCK_AMPLITUDE], key)) {
		pxd_mock_reply(r, 400,
			       json_pack("{s:i, s:s}", "code", 400, "error", "Invalid API key"));
	} else if (!json_is_array(list) || !json_array_size(list)) {
		pxd_mock_reply(r, 400,
			       json_pack("{s:i, s:s}", "code", 400, "error",
					 "identification must be a JSON list"));
	} else if (!pxd_mock_items_ok(m, list, now_ms, identification_ok, "identification", msg,
				      sizeof(msg))) {
		pxd_mock_reply(r, 400, json_pack("{s:i, s:s}", "code", 400, "error", msg));
	} else {
		json_array_foreach(list, i, u)
		{
			if (group == (json_object_get(u, "group_type") != NULL))
				continue;
			pxd_mock_reply(r, 400,
				       json_pack("{s:i, s:s}", "code", 400, "error",
						 "a group update on /identify or a user one on "
						 "/groupidentify"));
			goto out;
		}
		pxd_mock_record_each(r, PXD_MOCK_AMPLITUDE, list, "insert_id");
		r->status = 200;
		snprintf(r->content_type, sizeof(r->content_type), "text/plain");
		pxd_buf_puts(&r->body, "success");
	}
out:
	json_decref(list);
	free(text);
}

static void amplitude_any(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
			  struct pxd_mock_resp *r)
{
	if (pxd_sv_eq_lit(req->path, "/identify") || pxd_sv_eq_lit(req->path, "/groupidentify"))
		identify(m, req, now_ms, r);
	else
		amplitude(m, req, now_ms, r);
}

static bool amplitude_route(struct pxd_sv path)
{
	return pxd_sv_eq_lit(path, "/2/httpapi") || pxd_sv_eq_lit(path, "/batch") ||
	       pxd_sv_eq_lit(path, "/identify") || pxd_sv_eq_lit(path, "/groupidentify");
}

static void amplitude_fault(struct pxd_mock *m, int status, long code, long subcode,
			    struct pxd_mock_resp *r)
{
	(void)m;
	(void)code;
	(void)subcode;
	status = status ? status : 503;
	pxd_mock_reply(r, status,
		       json_pack("{s:i, s:s}", "code", status, "error", "(mock) injected"));
}

const struct pxd_mock_platform_def pxd_mock_amplitude = {
	.name = "amplitude",
	.route = amplitude_route,
	.handle = amplitude_any,
	.fault = amplitude_fault,
};
