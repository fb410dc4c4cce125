// SPDX-License-Identifier: MIT
#include "adapters/google_oauth.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "adapter_test.h"

static int setup(void **state)
{
	static struct pxd_google_oauth o;

	*state = &o;
	return pxd_google_oauth_init(&o, "http://127.0.0.1:9/token",
				     "cid.apps.googleusercontent.com", "sec/ret+1",
				     "1//refresh&token=");
}

static int teardown(void **state)
{
	pxd_google_oauth_wipe(*state);
	return 0;
}

static void test_init_refuses_bad_credentials(void **state)
{
	struct pxd_google_oauth o;
	char big[600];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pxd_google_oauth_init(&o, "ftp://x/token", "a", "b", "c"), -EINVAL);
	assert_int_equal(pxd_google_oauth_init(&o, "https://x/token", "", "b", "c"), -EINVAL);
	assert_int_equal(pxd_google_oauth_init(&o, "https://x/token", "a", "b", big),
			 -ENAMETOOLONG);
	assert_false(pxd_google_oauth_valid(&o, 0));
}

static void test_refresh_request_is_form_encoded(void **state)
{
	struct pxd_request req = { 0 };

	assert_int_equal(pxd_google_oauth_build_refresh(*state, &req), 0);
	assert_string_equal(req.url, "http://127.0.0.1:9/token");
	assert_non_null(req_header(&req, "Content-Type: application/x-www-form-urlencoded"));
	assert_string_equal(req.body.p, "grant_type=refresh_token&client_id=cid.apps."
					"googleusercontent.com&client_secret=sec%2Fret%2B1&"
					"refresh_token=1%2F%2Frefresh%26token%3D");
	pxd_buf_free(&req.body);
}

static void test_accept_stores_token_and_refreshes_early(void **state)
{
	struct pxd_google_oauth *o = *state;
	struct pxd_response r = response(200, "{\"access_token\":\"ya29.tok\",\"expires_in\":3599,"
					      "\"token_type\":\"Bearer\",\"scope\":"
					      "\"https://www.googleapis.com/auth/adwords\"}");
	uint32_t gen = pxd_google_oauth_generation(o);
	char reason[192];

	assert_false(pxd_google_oauth_valid(o, 1000));
	assert_string_equal(pxd_google_oauth_token(o), "");
	assert_int_equal(pxd_google_oauth_accept(o, &r, 1000, reason, sizeof(reason)),
			 PXD_DELIVERY_OK);
	assert_string_equal(pxd_google_oauth_token(o), "ya29.tok");
	assert_int_equal(pxd_google_oauth_generation(o), gen + 1);
	/* Valid until 5 min before expires_in runs out. */
	assert_true(pxd_google_oauth_valid(o, 1000 + 3599000 - 300000 - 1));
	assert_false(pxd_google_oauth_valid(o, 1000 + 3599000 - 300000));
	/* A short-lived token is refreshed at half its life, never in a loop. */
	r = response(200, "{\"access_token\":\"short\",\"expires_in\":60}");
	assert_int_equal(pxd_google_oauth_accept(o, &r, 0, reason, sizeof(reason)),
			 PXD_DELIVERY_OK);
	assert_true(pxd_google_oauth_valid(o, 29999));
	assert_false(pxd_google_oauth_valid(o, 30000));
	pxd_google_oauth_invalidate(o);
	assert_false(pxd_google_oauth_valid(o, 0));
	assert_string_equal(pxd_google_oauth_token(o), "");
}

static void test_accept_classifies_failures(void **state)
{
	struct pxd_google_oauth *o = *state;
	struct pxd_response r = response(400, "{\"error\":\"invalid_grant\","
					      "\"error_description\":\"Token has been expired or "
					      "revoked.\"}");
	char reason[192];

	assert_int_equal(pxd_google_oauth_accept(o, &r, 0, reason, sizeof(reason)),
			 PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "invalid_grant: Token has been expired or revoked."));
	assert_null(strstr(reason, "refresh&token"));
	r = response(401, "{\"error\":\"invalid_client\",\"error_description\":\"Unauthorized\"}");
	assert_int_equal(pxd_google_oauth_accept(o, &r, 0, reason, sizeof(reason)),
			 PXD_DELIVERY_PERMANENT);
	r = response(503, "unavailable");
	assert_int_equal(pxd_google_oauth_accept(o, &r, 0, reason, sizeof(reason)),
			 PXD_DELIVERY_RETRY);
	r = response(429, NULL);
	assert_int_equal(pxd_google_oauth_accept(o, &r, 0, reason, sizeof(reason)),
			 PXD_DELIVERY_RETRY);
	r = response(0, NULL);
	assert_int_equal(pxd_google_oauth_accept(o, &r, 0, reason, sizeof(reason)),
			 PXD_DELIVERY_RETRY);
	r = response(200, "{\"token_type\":\"Bearer\"}");
	assert_int_equal(pxd_google_oauth_accept(o, &r, 0, reason, sizeof(reason)),
			 PXD_DELIVERY_PERMANENT);
	r = response(200, "{\"access_token\":\"x\",\"expires_in\":0}");
	assert_int_equal(pxd_google_oauth_accept(o, &r, 0, reason, sizeof(reason)),
			 PXD_DELIVERY_PERMANENT);
	assert_false(pxd_google_oauth_valid(o, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_refuses_bad_credentials),
		cmocka_unit_test(test_refresh_request_is_form_encoded),
		cmocka_unit_test(test_accept_stores_token_and_refreshes_early),
		cmocka_unit_test(test_accept_classifies_failures),
	};

	return cmocka_run_group_tests_name("google_oauth", tests, setup, teardown);
}
