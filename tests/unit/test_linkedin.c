// SPDX-License-Identifier: MIT
#include "adapter.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "adapter_test.h"
#include "bisect.h"
#include "payload.h"
#include "retry.h"

static struct tdest *linkedin_dest(void)
{
	struct tdest *t = tdest_new(&pxd_adapter_linkedin);

	tdest_set(t, "api_base", "http://127.0.0.1:9");
	tdest_set(t, "api_version", "202511");
	tdest_set(t, "access_token", "tok-li");
	tdest_set(t, "map.Purchase", "111");
	tdest_set(t, "map.Lead", "urn:lla:llaPartnerConversion:222");
	tdest_set(t, "map.ViewContent", "333");
	tdest_set(t, "map.NewsletterOpen", "444");
	tdest_set(t, "map.AddToCart", "555");
	return t;
}

static int setup(void **state)
{
	return tdest_setup_state(state, linkedin_dest());
}

static int teardown(void **state)
{
	return tdest_teardown_state(state);
}

static void check_golden(void **state, const char *name)
{
	struct pxd_request req = { 0 };

	assert_build_golden(*state, "linkedin", name, &req);
	assert_string_equal(req.url, "http://127.0.0.1:9/rest/conversionEvents");
	assert_non_null(req_header(&req, "Authorization: Bearer tok-li"));
	assert_non_null(req_header(&req, "LinkedIn-Version: 202511"));
	assert_non_null(req_header(&req, "X-Restli-Protocol-Version: 2.0.0"));
	assert_non_null(req_header(&req, "X-RestLi-Method: BATCH_CREATE"));
	assert_non_null(req_header(&req, "Content-Type: application/json"));
	pxd_buf_free(&req.body);
}

/* §4: the email vector john.smith@gmail.com (dots kept), amount as a string. */
static void test_golden_purchase_with_value(void **state)
{
	check_golden(state, "purchase.json");
}

static void test_golden_view_content(void **state)
{
	check_golden(state, "view_raw_address.json");
}

/* map.Lead given as the full URN. */
static void test_golden_lead_rule_urn(void **state)
{
	check_golden(state, "lead_minimal.json");
}

/* §5: li_fat_id as LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID beside the Snap §4 email. */
static void test_golden_first_party_click_id(void **state)
{
	check_golden(state, "ad_clicks.json");
}

static void test_classify_per_element_status(void **state)
{
	struct pxd_outcome out[3];

	tdest_classify(*state, 3,
		       "{\"elements\":[{\"status\":201},{\"status\":400,\"message\":\"bad "
		       "urn\"},{\"status\":201}]}",
		       200, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_PERMANENT);
	assert_string_equal(out[1].reason, "linkedin: element 1: status 400: bad urn");
	assert_int_equal(out[2].delivery, PXD_DELIVERY_OK);
}

/* §2: a 422 names the refused indices; LinkedIn ingested none, so the rest
 * goes again at once. */
static void test_classify_422_pins_the_listed_indices(void **state)
{
	static const char body[] =
	    "{\"status\":422,\"code\":\"UNPROCESSABLE_ENTITY\",\"message\":\"Index: 2, ERROR :: "
	    "/conversion :: not a rule\\nIndex: 0, ERROR :: /user :: no ids\"}";
	struct pxd_outcome out[4];

	tdest_classify(*state, 4, body, 422, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_string_equal(out[0].reason, "linkedin: HTTP 422: element 0: /user :: no ids");
	assert_int_equal(out[2].delivery, PXD_DELIVERY_PERMANENT);
	assert_string_equal(out[2].reason,
			    "linkedin: HTTP 422: element 2: /conversion :: not a rule");
	for (size_t i = 1; i < 4; i += 2) {
		assert_int_equal(out[i].delivery, PXD_DELIVERY_RETRY);
		assert_int_equal(strncmp(out[i].reason, PXD_RETRY_UNSENT, strlen(PXD_RETRY_UNSENT)),
				 0);
	}
	tdest_classify(*state, 2, "{\"status\":422,\"message\":\"no index here\"}", 422, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(out[0].reason, "HTTP 422"));
}

static void test_classify_by_status(void **state)
{
	struct pxd_outcome out[2];

	tdest_classify(*state, 2, "{\"status\":429,\"message\":\"slow down\"}", 429, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[1].retry_after_ms, 5000);
	tdest_classify(*state, 2, "", 503, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	tdest_classify(*state, 2, NULL, 0, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	tdest_classify(*state, 2,
		       "{\"status\":401,\"code\":\"REVOKED_ACCESS_TOKEN\",\"message\":\"x\"}", 401,
		       out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(out[0].reason, "renew access_token"));
	assert_null(strstr(out[0].reason, "batch:"));
	tdest_classify(*state, 2, "{}", 426, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(out[1].reason, "api_version"));
	tdest_classify(*state, 2, "{\"message\":\"bad\"}", 400, out);
	assert_true(pxd_bisect_wanted(out, 2));
	tdest_classify(*state, 1, "{\"message\":\"bad\"}", 400, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_null(strstr(out[0].reason, "batch:"));
}

static void test_validate_refuses_what_linkedin_refuses(void **state)
{
	char reason[192];
	json_t *ev;

	assert_int_equal(tdest_validate(*state, event_aged("events/purchase.json", 0), reason),
			 PXD_DELIVERY_OK);
	assert_int_equal(tdest_validate(*state,
					event_aged("events/purchase.json", 88 * PXD_PAYLOAD_DAY_MS),
					reason),
			 PXD_DELIVERY_OK);
	assert_int_equal(tdest_validate(*state,
					event_aged("events/purchase.json", 90 * PXD_PAYLOAD_DAY_MS),
					reason),
			 PXD_DELIVERY_PERMANENT);
	ev = event_aged("events/purchase.json", 0);
	json_object_set_new(ev, "event", json_string("Subscribe"));
	assert_int_equal(tdest_validate(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "set map.Subscribe"));
	assert_int_equal(tdest_validate(*state, event_aged("events/custom.json", 0), reason),
			 PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "li_fat_id"));
	ev = event_aged("events/purchase.json", 0);
	json_object_set_new(json_object_get(ev, "user"), "email_sha256",
			    json_string("Person@Example.com"));
	assert_int_equal(tdest_validate(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "user.email_sha256"));
	ev = event_aged("events/purchase.json", 0);
	json_object_del(json_object_get(ev, "props"), "currency");
	assert_int_equal(tdest_validate(*state, ev, reason), PXD_DELIVERY_PERMANENT);
}

static void test_init_refuses_bad_keys(void **state)
{
	struct tdest *t = linkedin_dest();

	(void)state;
	snprintf(t->conf.kv[1].value, sizeof(t->conf.kv[1].value), "2025-11");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, TEST_CONF ":12: api_version: \"2025-11\""));
	tdest_free(t);
	t = linkedin_dest();
	snprintf(t->conf.kv[4].value, sizeof(t->conf.kv[4].value), "urn:li:conversion:9");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, TEST_CONF ":15: map.Lead: \"urn:li:conversion:9\""));
	tdest_free(t);
	t = linkedin_dest();
	t->conf.nkv = 3;
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "add map.<Event>"));
	tdest_free(t);
	t = linkedin_dest();
	t->conf.nkv = 2;
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "access_token: missing"));
	tdest_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_purchase_with_value),
		cmocka_unit_test(test_golden_view_content),
		cmocka_unit_test(test_golden_lead_rule_urn),
		cmocka_unit_test(test_golden_first_party_click_id),
		cmocka_unit_test(test_classify_per_element_status),
		cmocka_unit_test(test_classify_422_pins_the_listed_indices),
		cmocka_unit_test(test_classify_by_status),
		cmocka_unit_test(test_validate_refuses_what_linkedin_refuses),
		cmocka_unit_test(test_init_refuses_bad_keys),
	};

	return cmocka_run_group_tests_name("linkedin", tests, setup, teardown);
}
