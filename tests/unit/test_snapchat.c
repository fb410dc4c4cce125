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

#define URL "http://127.0.0.1:9/v3/1a2b3c4d-0000-4000-8000-123456789abc/events"

static struct tdest *snapchat_dest(void)
{
	struct tdest *t = tdest_new(&pxd_adapter_snapchat);

	tdest_set(t, "api_base", "http://127.0.0.1:9");
	tdest_set(t, "pixel_id", "1a2b3c4d-0000-4000-8000-123456789abc");
	tdest_set(t, "access_token", "tok-snap");
	tdest_set(t, "map.NewsletterOpen", "CUSTOM_EVENT_1");
	return t;
}

static int setup(void **state)
{
	return tdest_setup_state(state, snapchat_dest());
}

static int teardown(void **state)
{
	return tdest_teardown_state(state);
}

static void check_golden(void **state, const char *name)
{
	struct pxd_request req = { 0 };

	assert_build_golden(*state, "snapchat", name, &req);
	assert_string_equal(req.url, URL);
	assert_non_null(req_header(&req, "Authorization: Bearer tok-snap"));
	assert_non_null(req_header(&req, "Content-Type: application/json"));
	pxd_buf_free(&req.body);
}

/* §4: digits-only phone, hashed names, gender, dob and address vectors. */
static void test_golden_purchase_every_hashed_field(void **state)
{
	check_golden(state, "purchase.json");
}

/* §3/§4: "Menlo Park", "CA", "94025-1234", "US" normalised, then hashed. */
static void test_golden_raw_address_normalised(void **state)
{
	check_golden(state, "view_raw_address.json");
}

static void test_golden_lead_goes_as_sign_up(void **state)
{
	check_golden(state, "lead_minimal.json");
}

static void test_golden_custom_event_mapped(void **state)
{
	check_golden(state, "custom.json");
}

/* Snap's own §4 vectors (Person@Example.com, +44 844 412 4653) and sccid. */
static void test_golden_snap_vectors_and_click_id(void **state)
{
	check_golden(state, "ad_clicks.json");
}

static void test_test_mode_uses_validate(void **state)
{
	struct tdest *t = snapchat_dest();
	struct pxd_request req = { 0 };

	(void)state;
	tdest_set(t, "test_mode", "true");
	assert_int_equal(tdest_init(t), 0);
	assert_build_golden(t, "snapchat", "purchase.json", &req);
	assert_string_equal(req.url, URL "/validate");
	pxd_buf_free(&req.body);
	tdest_free(t);
}

static void test_classify_whole_batch_answers(void **state)
{
	struct pxd_outcome out[3];

	tdest_classify(*state, 3, "{\"status\":\"SUCCESS\",\"reason\":\"\"}", 200, out);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(out[i].delivery, PXD_DELIVERY_OK);
	tdest_classify(*state, 3, "{\"status\":\"FAILED\",\"reason\":\"data[1]: bad\"}", 400, out);
	assert_true(pxd_bisect_wanted(out, 3));
	tdest_classify(*state, 1, "{\"status\":\"FAILED\",\"reason\":\"data[0]: bad\"}", 400, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(out[0].reason, "data[0]: bad"));
	tdest_classify(*state, 2, "{\"status\":\"INVALID\",\"reason\":\"no pixel\"}", 200, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_true(pxd_bisect_wanted(out, 2));
	tdest_classify(*state, 2, "{\"status\":\"FAILED\",\"reason\":\"Unauthorized\"}", 401, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_PERMANENT);
	assert_null(strstr(out[1].reason, "batch:"));
	assert_string_equal(
	    out[1].reason,
	    "snapchat: HTTP 401: check access_token and pixel_id, then replay the "
	    "dead letters; it said: {\"status\":\"FAILED\",\"reason\":\"Unauthorized\"}");
	tdest_classify(*state, 2, "", 429, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	tdest_classify(*state, 2, "<html>oops</html>", 502, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
}

static void test_validate_refuses_what_snap_refuses(void **state)
{
	char reason[192];
	json_t *ev;

	assert_int_equal(tdest_validate(*state,
					event_aged("events/purchase.json", 35 * PXD_PAYLOAD_DAY_MS),
					reason),
			 PXD_DELIVERY_OK);
	assert_int_equal(tdest_validate(*state,
					event_aged("events/purchase.json", 37 * PXD_PAYLOAD_DAY_MS),
					reason),
			 PXD_DELIVERY_PERMANENT);
	ev = event_aged("events/purchase.json", 0);
	json_object_set_new(ev, "event", json_string("Contact"));
	assert_int_equal(tdest_validate(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "set map.Contact"));
	ev = event_aged("events/custom.json", 0);
	json_object_del(ev, "ua");
	assert_int_equal(tdest_validate(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "ip and user agent together"));
	ev = event_aged("events/purchase.json", 0);
	json_object_set_new(json_object_get(ev, "user"), "phone_sha256",
			    json_string("+16505551234"));
	assert_int_equal(tdest_validate(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "user.phone_sha256"));
}

static void test_init_refuses_bad_keys(void **state)
{
	struct tdest *t = snapchat_dest();

	(void)state;
	snprintf(t->conf.kv[1].value, sizeof(t->conf.kv[1].value), "pixel 42");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, TEST_CONF ":12: pixel_id: \"pixel 42\""));
	tdest_free(t);
	t = snapchat_dest();
	tdest_set(t, "test_mode", "maybe");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "test_mode"));
	tdest_free(t);
}

/* A server's store purchase: action_source OFFLINE, no page URL. */
static void test_golden_store_purchase_is_offline(void **state)
{
	check_golden(state, "s2s_store.json");
}

/* Every canonical action_source: WEB, OFFLINE, and app refused (a pixel
 * takes no app events). */
static void test_action_source_per_word(void **state)
{
	static const char *const want[] = { "WEB",     "",	  "OFFLINE", "OFFLINE",
					    "OFFLINE", "OFFLINE", "OFFLINE", "OFFLINE" };
	char reason[192];

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		json_t *ev = event_aged("events/s2s_store.json", 0);
		json_t *body =
		    build_with_source(*state, "events/s2s_store.json", pxd_test_sources[i], NULL);
		const char *got = json_string_value(json_object_get(
		    json_array_get(json_object_get(body, "data"), 0), "action_source"));

		json_object_set_new(ev, "action_source", json_string(pxd_test_sources[i]));
		if (!want[i][0]) {
			assert_null(body);
			assert_int_equal(tdest_validate(*state, ev, reason),
					 PXD_DELIVERY_PERMANENT);
			assert_string_equal(reason, "snapchat: app events go to a Snap App ID, "
						    "not to pixel_id; this destination takes "
						    "web and offline events only");
			continue;
		}
		assert_string_equal(got, want[i]);
		assert_int_equal(tdest_validate(*state, ev, reason), PXD_DELIVERY_OK);
		json_decref(body);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_store_purchase_is_offline),
		cmocka_unit_test(test_action_source_per_word),
		cmocka_unit_test(test_golden_purchase_every_hashed_field),
		cmocka_unit_test(test_golden_raw_address_normalised),
		cmocka_unit_test(test_golden_lead_goes_as_sign_up),
		cmocka_unit_test(test_golden_custom_event_mapped),
		cmocka_unit_test(test_golden_snap_vectors_and_click_id),
		cmocka_unit_test(test_test_mode_uses_validate),
		cmocka_unit_test(test_classify_whole_batch_answers),
		cmocka_unit_test(test_validate_refuses_what_snap_refuses),
		cmocka_unit_test(test_init_refuses_bad_keys),
	};

	return cmocka_run_group_tests_name("snapchat", tests, setup, teardown);
}
