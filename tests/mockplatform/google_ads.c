// SPDX-License-Identifier: MIT
/*
 * google_ads.c - the mock's Google Ads uploadClickConversions (specs/ad-apis.md
 * §9.3): a bearer token from oauth.c and a developer-token, at most 2,000
 * conversions, partial_failure required, and per-row ConversionUploadErrors
 * (duplicates included) in partialFailureError.
 */
#include "mock_platform.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"

/* The dedup set is a test tool's memory, not Google's: start over past this. */
#define GADS_SEEN_MAX 1000000

static void gads_error(struct pxd_mock_resp *r, int status, const char *rpc, const char *kind,
		       const char *code, const char *msg)
{
	pxd_mock_reply(
	    r, status,
	    json_pack("{s:{s:i, s:s, s:s, s:[{s:s, s:[{s:{s:s}, s:s}]}]}}", "error", "code", status,
		      "message", msg, "status", rpc, "details", "@type",
		      "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure",
		      "errors", "errorCode", kind, code, "message", msg));
}

/* "yyyy-mm-dd hh:mm:ss+hh:mm" (§7). */
static bool date_time_ok(const char *s)
{
	static const char shape[] = "dddd-dd-dd dd:dd:ds+dd:dd";

	if (!s || strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'd' && !isdigit((unsigned char)s[i]))
			return false;
		if (shape[i] == 's' && !isdigit((unsigned char)s[i]))
			return false;
		if (shape[i] == '+' && s[i] != '+' && s[i] != '-')
			return false;
		if (shape[i] != 'd' && shape[i] != 's' && shape[i] != '+' && s[i] != shape[i])
			return false;
	}
	return true;
}

/* Checks one ClickConversion: the ConversionUploadError it earns, or NULL. */
static const char *gads_row_error(struct pxd_mock *m, const char *cid, const json_t *c, char *key,
				  size_t keylen)
{
	static const char *const clicks[] = { "gclid", "gbraid", "wbraid" };
	const char *action = json_string_value(json_object_get(c, "conversionAction"));
	const char *when = json_string_value(json_object_get(c, "conversionDateTime"));
	const json_t *ids = json_object_get(c, "userIdentifiers");
	const char *click = NULL;
	char prefix[64];
	unsigned nclicks = 0;
	const json_t *id;
	size_t i;

	snprintf(prefix, sizeof(prefix), "customers/%s/conversionActions/", cid);
	if (!action || strncmp(action, prefix, strlen(prefix)) != 0 || !action[strlen(prefix)] ||
	    action[strlen(prefix) + strspn(action + strlen(prefix), "0123456789")])
		return "INVALID_CONVERSION_ACTION";
	if (!date_time_ok(when))
		return "INVALID_CONVERSION_DATE_TIME";
	for (i = 0; i < ARRAY_SIZE(clicks); i++) {
		if (json_object_get(c, clicks[i])) {
			nclicks++;
			click = json_string_value(json_object_get(c, clicks[i]));
		}
	}
	if (nclicks > 1)
		return "GBRAID_WBRAID_BOTH_SET";
	if (click &&
	    (!*click || click[strspn(click, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
					    "vwxyz0123456789-_")]))
		return "UNPARSEABLE_GCLID";
	json_array_foreach(ids, i, id)
	{
		const json_t *em = json_object_get(id, "hashedEmail");
		const json_t *ph = json_object_get(id, "hashedPhoneNumber");

		if ((em && !pxd_mock_hex64(em)) || (ph && !pxd_mock_hex64(ph)) || (!em && !ph))
			return "INVALID_USER_IDENTIFIER";
	}
	if (!click && !json_array_size(ids))
		return "MISSING_CLICK_ID_OR_USER_IDENTIFIER";
	if (json_object_get(c, "conversionValue") && !json_object_get(c, "currencyCode"))
		return "INVALID_CURRENCY_CODE";
	if (m->conf.gads_row_error[0])
		return m->conf.gads_row_error;
	snprintf(key, keylen, "%s|%s|%s|%s", action, when, click ? click : "",
		 json_is_string(json_object_get(c, "orderId"))
		     ? json_string_value(json_object_get(c, "orderId"))
		     : "");
	if (json_object_get(m->gads_seen, key))
		return click ? "CLICK_CONVERSION_ALREADY_EXISTS" : "DUPLICATE_ORDER_ID";
	return NULL;
}

/* 200 with results[] and, when rows failed, partialFailureError (§2). */
static void gads_reply(struct pxd_mock_resp *r, json_t *results, json_t *errors)
{
	json_t *out = json_pack("{s:O}", "results", results);

	r->refused |= json_array_size(errors) > 0;
	if (out && json_array_size(errors))
		json_object_set_new(out, "partialFailureError",
				    json_pack("{s:i, s:s, s:[{s:s, s:O}]}", "code", 3, "message",
					      "Some conversions failed; see details.", "details",
					      "@type",
					      "type.googleapis.com/google.ads.googleads.v21.errors."
					      "GoogleAdsFailure",
					      "errors", errors));
	pxd_mock_reply(r, 200, out);
}

static void gads_upload(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
			struct pxd_mock_resp *r)
{
	json_t *body = pxd_mock_parse_body(req);
	json_t *convs = json_object_get(body, "conversions");
	json_t *results = json_array(), *errors = json_array();
	bool validate_only = json_is_true(json_object_get(body, "validateOnly"));
	char auth[2100], dev[300], cid[16], key[512];
	const char *p = req->path.p + req->path.n;
	const json_t *c;
	size_t i;

	/* The customer id sits between "/customers/" and ':'. */
	while (p > req->path.p && p[-1] != '/')
		p--;
	snprintf(cid, sizeof(cid), "%.*s", (int)strcspn(p, ":"), p);
	snprintf(r->extra_header, sizeof(r->extra_header), "request-id: mock%06" PRIu64, ++m->ids);
	if (!pxd_mock_bearer(req, auth, sizeof(auth)) ||
	    !pxd_mock_oauth_token_ok(m, auth, now_ms)) {
		gads_error(r, 401, "UNAUTHENTICATED", "authenticationError", "OAUTH_TOKEN_INVALID",
			   "Request had invalid authentication credentials.");
	} else if (!pxd_mock_header(req, "developer-token", dev, sizeof(dev)) ||
		   !pxd_mock_cred_ok(m->conf.gads_developer_token, dev)) {
		gads_error(r, 403, "PERMISSION_DENIED", "authorizationError",
			   "DEVELOPER_TOKEN_NOT_APPROVED", "The developer token is not approved.");
	} else if (!json_is_array(convs) || !json_array_size(convs)) {
		gads_error(r, 400, "INVALID_ARGUMENT", "requestError", "REQUIRED_FIELD_MISSING",
			   "conversions is required.");
	} else if (json_array_size(convs) > 2000) {
		gads_error(r, 400, "INVALID_ARGUMENT", "conversionUploadError",
			   "TOO_MANY_CONVERSIONS_IN_REQUEST", "At most 2000 conversions.");
	} else if (!json_is_true(json_object_get(body, "partialFailure"))) {
		gads_error(r, 400, "INVALID_ARGUMENT", "requestError", "INVALID_INPUT",
			   "partial_failure must be true.");
	} else {
		json_array_foreach(convs, i, c)
		{
			const char *err = gads_row_error(m, cid, c, key, sizeof(key));

			if (err) {
				json_array_append_new(results, json_object());
				json_array_append_new(
				    errors,
				    json_pack("{s:{s:s}, s:s, s:{s:[{s:s, s:I}]}}", "errorCode",
					      "conversionUploadError", err, "message", err,
					      "location", "fieldPathElements", "fieldName",
					      "conversions", "index", (json_int_t)i));
				continue;
			}
			json_array_append_new(
			    results,
			    json_pack("{s:O*, s:O, s:O}", "gclid", json_object_get(c, "gclid"),
				      "conversionAction", json_object_get(c, "conversionAction"),
				      "conversionDateTime",
				      json_object_get(c, "conversionDateTime")));
			if (validate_only)
				continue;
			if (json_object_size(m->gads_seen) >= GADS_SEEN_MAX)
				json_object_clear(m->gads_seen);
			json_object_set_new(m->gads_seen, key, json_true());
			pxd_mock_record(r, PXD_MOCK_GOOGLE_ADS,
					json_string_value(json_object_get(c, "orderId")), c);
		}
		gads_reply(r, results, errors);
	}
	json_decref(results);
	json_decref(errors);
	json_decref(body);
}

static const char *google_status(int status)
{
	switch (status) {
	case 400:
		return "INVALID_ARGUMENT";
	case 401:
		return "UNAUTHENTICATED";
	case 403:
		return "PERMISSION_DENIED";
	case 429:
		return "RESOURCE_EXHAUSTED";
	case 503:
		return "UNAVAILABLE";
	case 504:
		return "DEADLINE_EXCEEDED";
	default:
		return "INTERNAL";
	}
}

static void gads_fault(struct pxd_mock *m, int status, long code, long subcode,
		       struct pxd_mock_resp *r)
{
	(void)code;
	(void)subcode;
	if (!status)
		status = 500;
	snprintf(r->extra_header, sizeof(r->extra_header), "request-id: mock%06" PRIu64, ++m->ids);
	gads_error(r, status, google_status(status), "internalError",
		   status >= 500 || status == 429 ? "TRANSIENT_ERROR" : "INTERNAL_ERROR",
		   "(mock) injected");
}

/* /{version}/customers/{cid}:uploadClickConversions */
static bool gads_route(struct pxd_sv path)
{
	const char *p = path.p, *end = path.p + path.n;

	if (!pxd_mock_path_segment(&p, end, "v0123456789.") || end - p <= 11 ||
	    memcmp(p, "/customers/", 11) != 0)
		return false;
	p += 10;
	return pxd_mock_path_segment(&p, end, "0123456789") &&
	       pxd_sv_eq_lit(pxd_sv_make(p, (size_t)(end - p)), ":uploadClickConversions");
}

const struct pxd_mock_platform_def pxd_mock_google_ads = {
	.name = "google_ads",
	.route = gads_route,
	.handle = gads_upload,
	.fault = gads_fault,
};
