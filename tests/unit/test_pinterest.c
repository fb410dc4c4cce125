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

#define URL "http://127.0.0.1:9/v5/ad_accounts/549755885175/events"

static struct tdest *pinterest_dest(void)
{
	struct tdest *t = tdest_new(&pxd_adapter_pinterest);

	tdest_set(t, "api_base", "http://127.0.0.1:9");
	tdest_set(t, "ad_account_id", "549755885175");
	tdest_set(t, "access_token", "tok-pin");
	return t;
}

static int setup(void **state)
{
	return tdest_setup_state(state, pinterest_dest());
}

static int teardown(void **state)
{
	return tdest_teardown_state(state);
}

static void check_golden(void **state, const char *name)
{
	struct pxd_request req = { 0 };

	assert_build_golden(*state, "pinterest", name, &req);
	assert_string_equal(req.url, URL);
	assert_non_null(req_header(&req, "Authorization: Bearer tok-pin"));
	assert_non_null(req_header(&req, "Content-Type: application/json"));
	pxd_buf_free(&req.body);
}

/* §4 vectors as one-element arrays, value and item_price as strings. */
static void test_golden_purchase_as_checkout(void **state)
{
	check_golden(state, "purchase.json");
}

static void test_golden_raw_address_normalised(void **state)
{
	check_golden(state, "view_raw_address.json");
}

static void test_golden_lead(void **state)
{
	check_golden(state, "lead_minimal.json");
}

static void test_golden_custom_event_as_custom(void **state)
{
	check_golden(state, "custom.json");
}

/* epik as click_id, sent verbatim (§5). */
static void test_golden_click_id(void **state)
{
	check_golden(state, "ad_clicks.json");
}

static void test_test_mode_adds_the_query(void **state)
{
	struct tdest *t = pinterest_dest();
	struct pxd_request req = { 0 };

	(void)state;
	tdest_set(t, "test_mode", "true");
	assert_int_equal(tdest_init(t), 0);
	assert_build_golden(t, "pinterest", "purchase.json", &req);
	assert_string_equal(req.url, URL "?test=true");
	pxd_buf_free(&req.body);
	tdest_free(t);
}

/* §2: events[i] answers data[i], with 200 or with 422. */
static void test_classify_per_event(void **state)
{
	static const char body[] =
	    "{\"num_events_received\":3,\"num_events_processed\":2,\"events\":["
	    "{\"status\":\"processed\",\"error_message\":null,\"warning_message\":null},"
	    "{\"status\":\"failed\",\"error_message\":\"event_time too old\"},"
	    "{\"status\":\"processed\"}]}";
	struct pxd_outcome out[3];

	tdest_classify(*state, 3, body, 422, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_PERMANENT);
	assert_string_equal(out[1].reason, "pinterest: event 1 failed: event_time too old");
	assert_int_equal(out[2].delivery, PXD_DELIVERY_OK);
	tdest_classify(*state, 3, body, 200, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_PERMANENT);
}

static void test_classify_codes(void **state)
{
	struct pxd_outcome out[2];

	tdest_classify(*state, 2, "{\"code\":8,\"message\":\"Rate limit exceeded\"}", 429, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[0].retry_after_ms, 5000);
	tdest_classify(*state, 2, "{\"code\":4197,\"message\":\"ramped down\"}", 503, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	tdest_classify(*state, 2, "{\"code\":2,\"message\":\"Authentication failed.\"}", 401, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(out[0].reason, "check access_token"));
	tdest_classify(*state, 2, "{\"code\":29,\"message\":\"no access\"}", 403, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	tdest_classify(*state, 2, "{\"code\":4196,\"message\":\"bad data\"}", 400, out);
	assert_true(pxd_bisect_wanted(out, 2));
	tdest_classify(*state, 2, "<html>502</html>", 502, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	tdest_classify(*state, 2, NULL, 0, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
}

static void test_validate_refuses_what_pinterest_refuses(void **state)
{
	char reason[192];
	json_t *ev;

	assert_int_equal(tdest_validate(*state, event_aged("events/lead_minimal.json", 0), reason),
			 PXD_DELIVERY_OK);
	assert_int_equal(tdest_validate(*state,
					event_aged("events/purchase.json", 7 * PXD_PAYLOAD_DAY_MS),
					reason),
			 PXD_DELIVERY_PERMANENT);
	ev = event_aged("events/custom.json", 0);
	json_object_del(ev, "ip");
	assert_int_equal(tdest_validate(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "needs an email"));
	ev = event_aged("events/purchase.json", 0);
	json_object_set_new(json_object_get(ev, "user"), "first_name_sha256", json_string("John"));
	assert_int_equal(tdest_validate(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "user.first_name_sha256"));
}

static void test_init_refuses_bad_keys(void **state)
{
	struct tdest *t = pinterest_dest();

	(void)state;
	snprintf(t->conf.kv[1].value, sizeof(t->conf.kv[1].value), "act_549755885175");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, TEST_CONF ":12: ad_account_id: \"act_549755885175\""));
	tdest_free(t);
	t = pinterest_dest();
	t->conf.nkv = 2;
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "access_token: missing"));
	tdest_free(t);
}

/* A server's store purchase is offline; an app sign-up from an iPhone
 * agent is app_ios. */
static void test_golden_store_offline_and_app_ios(void **state)
{
	check_golden(state, "s2s_store.json");
	check_golden(state, "s2s_app.json");
}

/* Every canonical action_source, and app events by their agent's OS. */
static void test_action_source_per_word(void **state)
{
	static const char *const want[] = { "web",     "app_ios", "offline", "offline",
					    "offline", "offline", "offline", "offline" };
	char reason[192];
	json_t *ev, *body;

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		body = build_with_source(*state, "events/s2s_app.json", pxd_test_sources[i], NULL);
		assert_string_equal(
		    json_string_value(json_object_get(
			json_array_get(json_object_get(body, "data"), 0), "action_source")),
		    want[i]);
		json_decref(body);
	}
	ev = event_aged("events/s2s_app.json", 0);
	json_object_set_new(ev, "ua", json_string("ShopApp/5.2 (Linux; Android 14; Pixel 8)"));
	assert_int_equal(tdest_validate(*state, json_incref(ev), reason), PXD_DELIVERY_OK);
	json_decref(ev);
	ev = event_aged("events/s2s_app.json", 0);
	json_object_set_new(ev, "ua", json_string("ShopApp/5.2"));
	assert_int_equal(tdest_validate(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_string_equal(reason, "pinterest: an app event needs a user agent naming iOS or "
				    "Android (action_source app_ios or app_android)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_store_offline_and_app_ios),
		cmocka_unit_test(test_action_source_per_word),
		cmocka_unit_test(test_golden_purchase_as_checkout),
		cmocka_unit_test(test_golden_raw_address_normalised),
		cmocka_unit_test(test_golden_lead),
		cmocka_unit_test(test_golden_custom_event_as_custom),
		cmocka_unit_test(test_golden_click_id),
		cmocka_unit_test(test_test_mode_adds_the_query),
		cmocka_unit_test(test_classify_per_event),
		cmocka_unit_test(test_classify_codes),
		cmocka_unit_test(test_validate_refuses_what_pinterest_refuses),
		cmocka_unit_test(test_init_refuses_bad_keys),
	};

	return cmocka_run_group_tests_name("pinterest", tests, setup, teardown);
}
