// SPDX-License-Identifier: MIT
/*
 * mixpanel.c - the mock's Mixpanel /import (specs/ad-apis.md §9.11): HTTP
 * Basic auth (a service account needs project_id in the query; a project
 * token or API secret comes as the user with no password), a JSON array of
 * at most 2,000 events. With strict=1 the valid events are imported and the
 * others listed in a 400's failed_records, as Mixpanel does. /engage and
 * /groups take profile updates ($set) with the project token as $token,
 * answered {"status":1,"error":null} with verbose=1, {"status":0,...} and a
 * 400 when an update is malformed.
 */
#include "mock_platform.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_EVENTS 2000
#define MAX_PROPERTIES 255
/* §7: up to 1 h in the future; nothing before 1971. */
#define MAX_FUTURE_MS (3600 * 1000LL)
#define MIN_TIME_MS (365 * PXD_MOCK_DAY_MS)

static const char *const placeholders[] = {
	"null", "undefined", "anonymous",
	"nil",	"none",	     "unknown",
	"0",	"-1",	     "00000000-0000-0000-0000-000000000000"
};

/* The failing field and why, or NULL when Mixpanel takes the event. */
static const char *event_fault(const struct pxd_mock *m, const json_t *e, int64_t now_ms,
			       const char **why)
{
	const json_t *p = json_object_get(e, "properties");
	const json_t *t = json_object_get(p, "time");
	const char *id = json_string_value(json_object_get(p, "distinct_id"));
	const char *iid = json_string_value(json_object_get(p, "$insert_id"));

	if (!json_is_string(json_object_get(e, "event")) || !json_is_object(p)) {
		*why = "event and properties are required";
		return "event";
	}
	if (!json_is_integer(t) || json_integer_value(t) < MIN_TIME_MS ||
	    json_integer_value(t) > now_ms + MAX_FUTURE_MS) {
		*why = "'properties.time' is invalid: must be ms since epoch, at most 1 h ahead";
		return "properties.time";
	}
	for (size_t i = 0; id && i < sizeof(placeholders) / sizeof(placeholders[0]); i++)
		if (strcasecmp(id, placeholders[i]) == 0)
			id = NULL;
	if (!id || !*id) {
		*why = "'properties.distinct_id' is missing or a placeholder";
		return "properties.distinct_id";
	}
	if (!iid || !*iid || strlen(iid) > 36 ||
	    strspn(iid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") !=
		strlen(iid)) {
		*why = "'properties.$insert_id' must be 1 to 36 letters, digits or '-'";
		return "properties.$insert_id";
	}
	if (json_object_size(p) > MAX_PROPERTIES) {
		*why = "more than 255 properties";
		return "properties";
	}
	if (m->conf.reject_marker[0] && strstr(iid, m->conf.reject_marker)) {
		*why = "(mock) the event carries the reject marker";
		return "properties";
	}
	return NULL;
}

static void mixpanel_error(struct pxd_mock_resp *r, int status, const char *msg)
{
	pxd_mock_reply(r, status, json_pack("{s:s, s:i}", "error", msg, "status", 0));
}

/* A service account "user:secret", or a token or API secret as the user
 * with no password; <pass> gets the password. */
static bool auth_ok(const struct pxd_mock *m, const struct pxd_http_req *req, char *pass,
		    size_t passlen)
{
	char user[300], cred[604];

	if (!pxd_mock_basic(req, user, sizeof(user), pass, passlen) || !user[0])
		return false;
	snprintf(cred, sizeof(cred), "%s%s%s", user, pass[0] ? ":" : "", pass);
	return pxd_mock_cred_ok(m->conf.credential[PXD_MOCK_MIXPANEL], cred);
}

static void mixpanel(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		     struct pxd_mock_resp *r)
{
	json_t *body = pxd_mock_parse_body(req);
	json_t *failed = json_array();
	char pass[300], project[32];
	const json_t *e;
	size_t i;

	if (!auth_ok(m, req, pass, sizeof(pass))) {
		mixpanel_error(r, 401, "Invalid credentials");
	} else if (pass[0] &&
		   !pxd_mock_query_get(req->query, "project_id", project, sizeof(project))) {
		mixpanel_error(r, 400, "project_id is required with a service account");
	} else if (!json_is_array(body) || !json_array_size(body) ||
		   json_array_size(body) > MAX_EVENTS) {
		mixpanel_error(r, 400, "the body must be a JSON array of 1 to 2000 events");
	} else {
		json_array_foreach(body, i, e)
		{
			const char *why;
			const char *field = event_fault(m, e, now_ms, &why);
			const json_t *p = json_object_get(e, "properties");

			if (field) {
				json_array_append_new(failed,
						      json_pack("{s:I, s:O?, s:s, s:s}", "index",
								(json_int_t)i, "$insert_id",
								json_object_get(p, "$insert_id"),
								"field", field, "message", why));
				continue;
			}
			pxd_mock_record(r, PXD_MOCK_MIXPANEL,
					json_string_value(json_object_get(p, "$insert_id")), e);
		}
		if (json_array_size(failed))
			pxd_mock_reply(
			    r, 400,
			    json_pack("{s:i, s:s, s:O, s:I, s:s}", "code", 400, "error",
				      "some data points in the request failed validation",
				      "failed_records", failed, "num_records_imported",
				      (json_int_t)(json_array_size(body) - json_array_size(failed)),
				      "status", "Bad Request"));
		else
			pxd_mock_reply(
			    r, 200,
			    json_pack("{s:i, s:I, s:s}", "code", 200, "num_records_imported",
				      (json_int_t)json_array_size(body), "status", "OK"));
	}
	json_decref(failed);
	json_decref(body);
}

/* One profile update: $token, the profile's id ($distinct_id, or
 * $group_key with $group_id on /groups) and a $set object. */
static bool update_ok(const struct pxd_mock *m, const json_t *u, int64_t now_ms, char *why,
		      size_t whylen)
{
	const char *token = json_string_value(json_object_get(u, "$token"));
	const char *id = json_string_value(json_object_get(u, "$distinct_id"));
	bool group = json_object_get(u, "$group_key") != NULL;

	(void)m;
	(void)now_ms;
	if (!token || !*token) {
		snprintf(why, whylen, "$token is required");
		return false;
	}
	if (group ? !json_is_string(json_object_get(u, "$group_key")) ||
			!json_is_string(json_object_get(u, "$group_id"))
		  : !id || !*id) {
		snprintf(why, whylen, "%s is required",
			 group ? "$group_key and $group_id" : "$distinct_id");
		return false;
	}
	if (!json_is_object(json_object_get(u, "$set"))) {
		snprintf(why, whylen, "$set must be an object");
		return false;
	}
	return true;
}

static void profiles(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		     struct pxd_mock_resp *r)
{
	bool groups = pxd_sv_eq_lit(req->path, "/groups");
	json_t *body = pxd_mock_parse_body(req);
	char pass[300], msg[200];
	const json_t *u;
	size_t i;

	if (!auth_ok(m, req, pass, sizeof(pass))) {
		mixpanel_error(r, 401, "Invalid credentials");
	} else if (!json_is_array(body) || !json_array_size(body) ||
		   json_array_size(body) > MAX_EVENTS) {
		mixpanel_error(r, 400, "the body must be a JSON array of 1 to 2000 updates");
	} else if (!pxd_mock_items_ok(m, body, now_ms, update_ok, "updates", msg, sizeof(msg))) {
		mixpanel_error(r, 400, msg);
	} else {
		json_array_foreach(body, i, u)
		{
			if (groups != (json_object_get(u, "$group_key") != NULL)) {
				mixpanel_error(r, 400,
					       "a user update on /groups or a group one "
					       "on /engage");
				json_decref(body);
				return;
			}
		}
		pxd_mock_record_each(r, PXD_MOCK_MIXPANEL, body, "$insert_id");
		pxd_mock_reply(r, 200, json_pack("{s:i, s:n}", "status", 1, "error"));
	}
	json_decref(body);
}

static void mixpanel_any(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
			 struct pxd_mock_resp *r)
{
	if (pxd_sv_eq_lit(req->path, "/import"))
		mixpanel(m, req, now_ms, r);
	else
		profiles(m, req, now_ms, r);
}

static bool mixpanel_route(struct pxd_sv path)
{
	return pxd_sv_eq_lit(path, "/import") || pxd_sv_eq_lit(path, "/engage") ||
	       pxd_sv_eq_lit(path, "/groups");
}

static void mixpanel_fault(struct pxd_mock *m, int status, long code, long subcode,
			   struct pxd_mock_resp *r)
{
	(void)m;
	(void)code;
	(void)subcode;
	mixpanel_error(r, status ? status : 503, "(mock) injected");
}

const struct pxd_mock_platform_def pxd_mock_mixpanel = {
	.name = "mixpanel",
	.route = mixpanel_route,
	.handle = mixpanel_any,
	.fault = mixpanel_fault,
};
