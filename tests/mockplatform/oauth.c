// SPDX-License-Identifier: MIT
/*
 * oauth.c - the mock's Google OAuth token endpoint (specs/ad-apis.md §9.3):
 * POST /token trades a refresh token for an access token that google_ads.c
 * accepts until it expires or is revoked.
 */
#include "mock_platform.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

bool pxd_mock_oauth_token_ok(const struct pxd_mock *m, const char *tok, int64_t now_ms)
{
	for (size_t i = 0; i < PXD_MOCK_TOKENS; i++)
		if (m->tokens[i].token[0] && strcmp(m->tokens[i].token, tok) == 0)
			return now_ms < m->tokens[i].expires_at_ms;
	return false;
}

void pxd_mock_revoke_tokens(struct pxd_mock *m)
{
	memset(m->tokens, 0, sizeof(m->tokens));
}

/* Reads field <name> of an x-www-form-urlencoded body into <out>. */
static bool form_get(const struct pxd_http_req *req, const char *name, char *out, size_t outlen)
{
	return pxd_mock_query_get(req->body, name, out, outlen);
}

static void oauth(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		  struct pxd_mock_resp *r)
{
	char grant[64], id[256], secret[256], refresh[512];
	size_t slot = m->ntokens_issued % PXD_MOCK_TOKENS;

	if (!form_get(req, "grant_type", grant, sizeof(grant)) ||
	    strcmp(grant, "refresh_token") != 0) {
		pxd_mock_reply(r, 400,
			       json_pack("{s:s, s:s}", "error", "unsupported_grant_type",
					 "error_description", "Invalid grant_type."));
	} else if (!form_get(req, "client_id", id, sizeof(id)) ||
		   !form_get(req, "client_secret", secret, sizeof(secret)) ||
		   !pxd_mock_cred_ok(m->conf.oauth_client_id, id) ||
		   !pxd_mock_cred_ok(m->conf.oauth_client_secret, secret)) {
		pxd_mock_reply(r, 401,
			       json_pack("{s:s, s:s}", "error", "invalid_client",
					 "error_description", "Unauthorized"));
	} else if (!form_get(req, "refresh_token", refresh, sizeof(refresh)) ||
		   !pxd_mock_cred_ok(m->conf.oauth_refresh_token, refresh)) {
		pxd_mock_reply(r, 400,
			       json_pack("{s:s, s:s}", "error", "invalid_grant",
					 "error_description",
					 "Token has been expired or revoked."));
	} else {
		snprintf(m->tokens[slot].token, sizeof(m->tokens[slot].token),
			 "ya29.mock-%u-%06" PRIu64, ++m->ntokens_issued, ++m->ids);
		m->tokens[slot].expires_at_ms = now_ms + (int64_t)m->conf.oauth_expires_in * 1000;
		pxd_mock_reply(r, 200,
			       json_pack("{s:s, s:i, s:s, s:s}", "access_token",
					 m->tokens[slot].token, "expires_in",
					 (int)m->conf.oauth_expires_in, "token_type", "Bearer",
					 "scope", "https://www.googleapis.com/auth/adwords"));
	}
}

static void oauth_fault(struct pxd_mock *m, int status, long code, long subcode,
			struct pxd_mock_resp *r)
{
	(void)m;
	(void)code;
	(void)subcode;
	if (!status)
		status = 400;
	pxd_mock_reply(r, status,
		       status < 500 ? json_pack("{s:s, s:s}", "error", "invalid_grant",
						"error_description", "(mock) injected")
				    : json_pack("{s:s}", "error", "internal_failure"));
}

static bool oauth_route(struct pxd_sv path)
{
	return pxd_sv_eq_lit(path, "/token");
}

const struct pxd_mock_platform_def pxd_mock_oauth = {
	.name = "oauth",
	.route = oauth_route,
	.handle = oauth,
	.fault = oauth_fault,
};
