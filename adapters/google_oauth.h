/* SPDX-License-Identifier: MIT */
/*
 * google_oauth.h - the OAuth2 access token of one Google Ads destination
 * (specs/ad-apis.md §9.3): builds the refresh-token request, accepts its
 * response, and tracks when the token must be refreshed. It does no I/O: the
 * dispatcher sends the request like any other (google_ads.c drives that).
 * Owns the client secret and refresh token in memory; never logs them. A
 * struct belongs to the dispatcher thread of its destination.
 */
#ifndef PXD_GOOGLE_OAUTH_H
#define PXD_GOOGLE_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"

/* §9.3: refresh about 5 min before expires_in runs out. */
#define PXD_GOOGLE_OAUTH_EARLY_MS (5 * 60 * 1000)

/* One destination's credentials and token. Fields are the module's own. */
struct pxd_google_oauth {
	char _token_url[512];
	char _client_id[256];
	char _client_secret[256];
	char _refresh_token[512];
	char _access_token[2048]; /* empty: none yet, or invalidated */
	int64_t _refresh_at_ms;	  /* monotonic ms after which to refresh */
	uint32_t _generation;	  /* bumped by every token accepted */
};

/*
 * Sets the credentials. Returns 0, -EINVAL (an empty value, or a token URL
 * that is not http(s)) or -ENAMETOOLONG. The token starts absent.
 */
int pxd_google_oauth_init(struct pxd_google_oauth *o, const char *token_url, const char *client_id,
			  const char *client_secret, const char *refresh_token);

/* Zeroes the secrets and the token. Accepts a struct that was never inited. */
void pxd_google_oauth_wipe(struct pxd_google_oauth *o);

/* Returns true when there is a token that needs no refresh at <now_ms> (monotonic). */
bool pxd_google_oauth_valid(const struct pxd_google_oauth *o, int64_t now_ms);

/* Returns the access token for "Authorization: Bearer", or "" when none. */
const char *pxd_google_oauth_token(const struct pxd_google_oauth *o);

/* Returns a number that changes whenever a new token is accepted, so a
 * caller can tell which token a request went out with. */
uint32_t pxd_google_oauth_generation(const struct pxd_google_oauth *o);

/* Drops the token (after a 401) so the next check asks for a new one. */
void pxd_google_oauth_invalidate(struct pxd_google_oauth *o);

/*
 * Builds the refresh request into <req> (URL, headers, form body appended to
 * req->body): POST token_url with grant_type=refresh_token and the
 * credentials. Returns 0 or -ENOMEM/-ENAMETOOLONG.
 */
int pxd_google_oauth_build_refresh(const struct pxd_google_oauth *o, struct pxd_request *req);

/*
 * Takes the token endpoint's answer <resp> at <now_ms> (monotonic). Returns
 * PXD_DELIVERY_OK when a token was stored (refreshed before expires_in runs
 * out, by PXD_GOOGLE_OAUTH_EARLY_MS or half the lifetime when that is
 * shorter); RETRY for transport errors, 429 and 5xx; PERMANENT for answers
 * that need the operator (invalid_grant, invalid_client, any other 4xx, a
 * 200 without a token). <reason> says which, without any credential.
 */
enum pxd_delivery pxd_google_oauth_accept(struct pxd_google_oauth *o,
					  const struct pxd_response *resp, int64_t now_ms,
					  char *reason, size_t reason_len);

#endif
