// SPDX-License-Identifier: MIT
/*
 * linkedin.c - the mock's LinkedIn Conversions API (specs/ad-apis.md §9.5):
 * POST /rest/conversionEvents with a bearer token, a LinkedIn-Version of
 * YYYYMM, Rest.li 2.0.0 and X-RestLi-Method BATCH_CREATE, at most 5,000
 * elements. Elements it cannot use get a 422 naming their indices, and then
 * nothing of the batch is ingested (§2); otherwise 200 with a status per
 * element.
 */
#include "mock_platform.h"

#include <stdio.h>
#include <string.h>

#include "payload.h"

#define URN_PREFIX "urn:lla:llaPartnerConversion:"
#define MAX_ELEMENTS 5000
/* §7: conversionHappenedAt at most 90 days old. */
#define MAX_AGE_MS (90 * PXD_MOCK_DAY_MS)

static void li_error(struct pxd_mock_resp *r, int status, const char *code, const char *msg)
{
	pxd_mock_reply(
	    r, status,
	    json_pack("{s:i, s:s, s:s}", "status", status, "code", code, "message", msg));
}

static bool user_ok(const json_t *u, char *why, size_t whylen)
{
	static const char *const types[] = { "SHA256_EMAIL",
					     "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID", "ACXIOM_ID",
					     "ORACLE_MOAT_ID", NULL };
	const json_t *ids = json_object_get(u, "userIds");
	const json_t *info = json_object_get(u, "userInfo");
	const json_t *id;
	size_t i;

	json_array_foreach(ids, i, id)
	{
		const char *type = json_string_value(json_object_get(id, "idType"));
		const json_t *v = json_object_get(id, "idValue");

		if (!pxd_mock_one_of(type, types) || !json_is_string(v)) {
			snprintf(why, whylen, "/user/userIds/%zu :: unknown idType or no idValue",
				 i);
			return false;
		}
		if (strcmp(type, "SHA256_EMAIL") == 0 && !pxd_mock_hex64(v)) {
			snprintf(why, whylen, "/user/userIds/%zu :: SHA256_EMAIL is not a SHA-256",
				 i);
			return false;
		}
	}
	if (json_array_size(ids) || (json_is_string(json_object_get(info, "firstName")) &&
				     json_is_string(json_object_get(info, "lastName"))))
		return true;
	snprintf(why, whylen, "/user :: needs userIds or userInfo with firstName and lastName");
	return false;
}

/* Checks one element; writes why it is refused to <why>. */
static bool element_ok(const struct pxd_mock *m, const json_t *e, int64_t now_ms, char *why,
		       size_t whylen)
{
	const char *conv = json_string_value(json_object_get(e, "conversion"));
	const json_t *t = json_object_get(e, "conversionHappenedAt");
	const json_t *val = json_object_get(e, "conversionValue");
	const char *id = json_string_value(json_object_get(e, "eventId"));

	if (!conv || strncmp(conv, URN_PREFIX, strlen(URN_PREFIX)) != 0 ||
	    !conv[strlen(URN_PREFIX)] ||
	    conv[strlen(URN_PREFIX) + strspn(conv + strlen(URN_PREFIX), "0123456789")]) {
		snprintf(why, whylen, "/conversion :: not a " URN_PREFIX "<id>");
		return false;
	}
	if (!json_is_integer(t) || json_integer_value(t) < now_ms - MAX_AGE_MS ||
	    json_integer_value(t) > now_ms + 10 * 60 * 1000) {
		snprintf(why, whylen, "/conversionHappenedAt :: not ms within the last 90 days");
		return false;
	}
	if (val &&
	    (!json_is_string(json_object_get(val, "amount")) ||
	     !pxd_mock_currency_ok(json_string_value(json_object_get(val, "currencyCode"))))) {
		snprintf(why, whylen,
			 "/conversionValue :: amount (string) and currencyCode needed");
		return false;
	}
	return user_ok(json_object_get(e, "user"), why, whylen) &&
	       !pxd_mock_marked(m, id, why, whylen);
}

static void linkedin(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		     struct pxd_mock_resp *r)
{
	json_t *body = pxd_mock_parse_body(req);
	const json_t *elements = json_object_get(body, "elements");
	char ver[32], method[32], proto[16], why[160];
	struct pxd_buf msg = { 0 };
	json_t *statuses;
	const json_t *e;
	size_t i;

	if (!pxd_mock_bearer_ok(m, PXD_MOCK_LINKEDIN, req)) {
		li_error(r, 401, "INVALID_ACCESS_TOKEN", "Invalid access token");
	} else if (!pxd_mock_header(req, "linkedin-version", ver, sizeof(ver)) ||
		   strlen(ver) != 6 || strspn(ver, "0123456789") != 6) {
		li_error(r, 426, "NONEXISTENT_VERSION", "Requested version is not active");
	} else if (!pxd_mock_header(req, "x-restli-method", method, sizeof(method)) ||
		   strcmp(method, "BATCH_CREATE") != 0 ||
		   !pxd_mock_header(req, "x-restli-protocol-version", proto, sizeof(proto)) ||
		   strcmp(proto, "2.0.0") != 0) {
		li_error(r, 400, "ILLEGAL_ARGUMENT",
			 "X-RestLi-Method BATCH_CREATE and protocol 2.0.0 are required");
	} else if (!json_is_array(elements) || !json_array_size(elements) ||
		   json_array_size(elements) > MAX_ELEMENTS) {
		li_error(r, 400, "ILLEGAL_ARGUMENT", "elements must hold 1 to 5000 conversions");
	} else {
		json_array_foreach(elements, i, e)
		{
			if (element_ok(m, e, now_ms, why, sizeof(why)))
				continue;
			pxd_buf_printf(&msg, "%sIndex: %zu, ERROR :: %s", msg.len ? "\n" : "", i,
				       why);
		}
		if (msg.len) {
			pxd_buf_append(&msg, "", 1);
			li_error(r, 422, "UNPROCESSABLE_ENTITY", msg.p);
		} else {
			statuses = json_array();
			json_array_foreach(elements, i, e)
			{
				json_array_append_new(statuses, json_pack("{s:i}", "status", 201));
				pxd_mock_record(r, PXD_MOCK_LINKEDIN,
						json_string_value(json_object_get(e, "eventId")),
						e);
			}
			pxd_mock_reply(r, 200, json_pack("{s:o}", "elements", statuses));
		}
	}
	pxd_buf_free(&msg);
	json_decref(body);
}

static void linkedin_fault(struct pxd_mock *m, int status, long code, long subcode,
			   struct pxd_mock_resp *r)
{
	(void)m;
	(void)code;
	(void)subcode;
	if (!status)
		status = 500;
	li_error(r, status,
		 status == 401	 ? "REVOKED_ACCESS_TOKEN"
		 : status == 429 ? "TOO_MANY_REQUESTS"
				 : "INTERNAL_SERVER_ERROR",
		 "(mock) injected");
}

static bool linkedin_route(struct pxd_sv path)
{
	return pxd_sv_eq_lit(path, "/rest/conversionEvents");
}

const struct pxd_mock_platform_def pxd_mock_linkedin = {
	.name = "linkedin",
	.route = linkedin_route,
	.handle = linkedin,
	.fault = linkedin_fault,
};
