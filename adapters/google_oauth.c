// SPDX-License-Identifier: MIT
/*
 * The Google Ads OAuth2 token: builds the refresh request as a form body,
 * accepts the token answer (lifetime and generation), wipes secrets. No I/O;
 * the destination's dispatcher thread.
 */
#include "google_oauth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "payload.h"

static int copy(char *dst, size_t cap, const char *src)
{
	if (!src || !*src)
		return -EINVAL;
	if (strlen(src) >= cap)
		return -ENAMETOOLONG;
	strcpy(dst, src);
	return 0;
}

int pxd_google_oauth_init(struct pxd_google_oauth *o, const char *token_url, const char *client_id,
			  const char *client_secret, const char *refresh_token)
{
	int rc;

	memset(o, 0, sizeof(*o));
	if (!token_url ||
	    (strncmp(token_url, "https://", 8) != 0 && strncmp(token_url, "http://", 7) != 0))
		return -EINVAL;
	rc = copy(o->_token_url, sizeof(o->_token_url), token_url);
	if (!rc)
		rc = copy(o->_client_id, sizeof(o->_client_id), client_id);
	if (!rc)
		rc = copy(o->_client_secret, sizeof(o->_client_secret), client_secret);
	if (!rc)
		rc = copy(o->_refresh_token, sizeof(o->_refresh_token), refresh_token);
	if (rc)
		pxd_google_oauth_wipe(o);
	return rc;
}

void pxd_google_oauth_wipe(struct pxd_google_oauth *o)
{
	OPENSSL_cleanse(o, sizeof(*o));
}

bool pxd_google_oauth_valid(const struct pxd_google_oauth *o, int64_t now_ms)
{
	return o->_access_token[0] && now_ms < o->_refresh_at_ms;
}

const char *pxd_google_oauth_token(const struct pxd_google_oauth *o)
{
	return o->_access_token;
}

uint32_t pxd_google_oauth_generation(const struct pxd_google_oauth *o)
{
	return o->_generation;
}

void pxd_google_oauth_invalidate(struct pxd_google_oauth *o)
{
	OPENSSL_cleanse(o->_access_token, sizeof(o->_access_token));
	o->_refresh_at_ms = 0;
}

static int form_field(struct pxd_buf *b, const char *sep, const char *name, const char *value)
{
	char enc[3 * sizeof(((struct pxd_google_oauth *)0)->_refresh_token)];
	int rc;

	if (pxd_payload_pct_encode(enc, sizeof(enc), value) < 0)
		return -ENAMETOOLONG;
	rc = pxd_buf_printf(b, "%s%s=%s", sep, name, enc);
	memset(enc, 0, sizeof(enc));
	return rc;
}

int pxd_google_oauth_build_refresh(const struct pxd_google_oauth *o, struct pxd_request *req)
{
	int rc = pxd_payload_url(req, "%s", o->_token_url);

	if (!rc)
		rc = pxd_payload_header(req, "Content-Type: application/x-www-form-urlencoded");
	if (!rc)
		rc = pxd_payload_header(req, "Accept: application/json");
	if (!rc)
		rc = form_field(&req->body, "", "grant_type", "refresh_token");
	if (!rc)
		rc = form_field(&req->body, "&", "client_id", o->_client_id);
	if (!rc)
		rc = form_field(&req->body, "&", "client_secret", o->_client_secret);
	if (!rc)
		rc = form_field(&req->body, "&", "refresh_token", o->_refresh_token);
	return rc;
}

enum pxd_delivery pxd_google_oauth_accept(struct pxd_google_oauth *o,
					  const struct pxd_response *resp, int64_t now_ms,
					  char *reason, size_t reason_len)
{
	json_t *body = resp->status ? pxd_payload_parse_body(resp) : NULL;
	const char *tok = json_string_value(json_object_get(body, "access_token"));
	json_int_t ttl = json_integer_value(json_object_get(body, "expires_in"));
	const char *error = json_string_value(json_object_get(body, "error"));
	const char *desc = json_string_value(json_object_get(body, "error_description"));
	enum pxd_delivery d = PXD_DELIVERY_PERMANENT;
	int64_t early;

	if (resp->status == 0) {
		snprintf(reason, reason_len, "google_oauth: transport: %s",
			 resp->transport_error ? resp->transport_error : "failed");
		d = PXD_DELIVERY_RETRY;
	} else if (resp->status == 200 && tok && ttl > 0 &&
		   strlen(tok) < sizeof(o->_access_token)) {
		strcpy(o->_access_token, tok);
		early = PXD_MIN((int64_t)PXD_GOOGLE_OAUTH_EARLY_MS, (int64_t)ttl * 500);
		o->_refresh_at_ms = now_ms + (int64_t)ttl * 1000 - early;
		o->_generation++;
		snprintf(reason, reason_len, "google_oauth: token valid for %lld s",
			 (long long)ttl);
		d = PXD_DELIVERY_OK;
	} else if (resp->status == 429 || resp->status >= 500) {
		snprintf(reason, reason_len, "google_oauth: token endpoint: HTTP %ld",
			 resp->status);
		d = PXD_DELIVERY_RETRY;
	} else if (error) {
		/* invalid_grant: the refresh token was revoked, expired (7
		 * days for apps in "Testing") or belongs to another client. */
		snprintf(reason, reason_len,
			 "google_oauth: HTTP %ld %.32s: %.80s; issue a new refresh_token (or fix "
			 "client_id/client_secret), then replay the dead letters",
			 resp->status, error, desc ? desc : "");
	} else {
		snprintf(reason, reason_len,
			 "google_oauth: HTTP %ld without a usable access_token from token_url",
			 resp->status);
	}
	json_decref(body);
	return d;
}
