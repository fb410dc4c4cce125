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

static struct tdest *reddit_dest(void)
{
	struct tdest *t = tdest_new(&pxd_adapter_reddit);

	tdest_set(t, "api_base", "http://127.0.0.1:9");
	tdest_set(t, "ad_account_id", "a2_abc123");
	tdest_set(t, "access_token", "tok-rdt");
	tdest_set(t, "test_id", "t-777");
	return t;
}

static int setup(void **state)
{
	return tdest_setup_state(state, reddit_dest());
}

static int teardown(void **state)
{
	return tdest_teardown_state(state);
}

static void check_golden(void **state, const char *name)
{
	struct pxd_request req = { 0 };

	assert_build_golden(*state, "reddit", name, &req);
	assert_string_equal(req.url,
			    "http://127.0.0.1:9/api/v3/pixels/a2_abc123/conversion_events");
	assert_non_null(req_header(&req, "Authorization: Bearer tok-rdt"));
	assert_non_null(req_header(&req, "Content-Type: application/json"));
	pxd_buf_free(&req.body);
}

/* §4 email vector, the E.164 phone vector, ip hashed, event_at in ms. */
static void test_golden_purchase(void **state)
{
	check_golden(state, "purchase.json");
}

static void test_golden_view_content(void **state)
{
	check_golden(state, "view_raw_address.json");
}

static void test_golden_lead(void **state)
{
	check_golden(state, "lead_minimal.json");
}

static void test_golden_custom_event_named(void **state)
{
	check_golden(state, "custom.json");
}

/* rdt_cid as the event's click_id (§5). */
static void test_golden_click_id(void **state)
{
	check_golden(state, "ad_clicks.json");
}

static void classify(void **state, size_t n, const char *body, long status, struct pxd_outcome *out)
{
	static const char *const lines[3] = { "{\"event_id\":\"ev-a\"}\n",
					      "{\"event_id\":\"ev-b\"}\n",
					      "{\"event_id\":\"ev-c\"}\n" };
	static struct pxd_batch_item items[3];
	struct pxd_batch b;
	struct pxd_response r = response(status, body);

	for (size_t i = 0; i < 3; i++)
		items[i] = (struct pxd_batch_item){ .line = lines[i], .len = strlen(lines[i]) - 1 };
	b = (struct pxd_batch){ items, n };
	pxd_adapter_reddit.classify(&((struct tdest *)*state)->dest, &b, &r, out);
}

/* §2: a 200 may list invalid events; they are matched by conversion_id. */
static void test_classify_invalid_events_in_a_200(void **state)
{
	static const char body[] =
	    "{\"message\":\"ok\",\"invalid_events\":[{\"error_message\":\"bad click_id\","
	    "\"event\":{\"metadata\":{\"conversion_id\":\"ev-b\"}}},{\"error_message\":\"?\","
	    "\"event\":{\"metadata\":{\"conversion_id\":\"elsewhere\"}}}]}";
	struct pxd_outcome out[3];

	classify(state, 3, body, 200, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_PERMANENT);
	assert_string_equal(out[1].reason, "reddit: invalid event: bad click_id");
	assert_int_equal(out[2].delivery, PXD_DELIVERY_OK);
	classify(state, 3, "{\"message\":\"Successfully processed\"}", 200, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_OK);
}

static void test_classify_by_status(void **state)
{
	struct pxd_outcome out[3];

	classify(state, 3, "{\"message\":\"data.events[1]: bad\"}", 400, out);
	assert_true(pxd_bisect_wanted(out, 3));
	classify(state, 1, "{\"message\":\"data.events[0]: bad\"}", 400, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_null(strstr(out[0].reason, "batch:"));
	classify(state, 2, "{\"message\":\"UNAUTHORIZED\"}", 401, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(out[0].reason, "check access_token"));
	classify(state, 2, "", 429, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	classify(state, 2, "", 500, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	classify(state, 2, NULL, 0, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
}

static void test_validate_refuses_what_reddit_refuses(void **state)
{
	char reason[192];
	json_t *ev;

	assert_int_equal(tdest_validate(*state, event_aged("events/custom.json", 0), reason),
			 PXD_DELIVERY_OK);
	assert_int_equal(tdest_validate(*state,
					event_aged("events/purchase.json", 7 * PXD_PAYLOAD_DAY_MS),
					reason),
			 PXD_DELIVERY_PERMANENT);
	assert_int_equal(
	    tdest_validate(*state, event_aged("events/purchase.json", -6 * 60 * 1000), reason),
	    PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "5 minutes in the future"));
	ev = event_aged("events/custom.json", 0);
	json_object_del(ev, "user");
	json_object_del(ev, "ip");
	assert_int_equal(tdest_validate(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "rdt_cid"));
	ev = event_aged("events/purchase.json", 0);
	json_object_set_new(json_object_get(ev, "user"), "email_sha256",
			    json_string("Al.ice$+Apple@Example.Com"));
	assert_int_equal(tdest_validate(*state, ev, reason), PXD_DELIVERY_PERMANENT);
}

static void test_init_refuses_bad_keys(void **state)
{
	struct tdest *t = reddit_dest();

	(void)state;
	snprintf(t->conf.kv[1].value, sizeof(t->conf.kv[1].value), "A2-XYZ");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, TEST_CONF ":12: ad_account_id: \"A2-XYZ\""));
	tdest_free(t);
}

/* A server's store purchase is PHYSICAL_STORE, an app sign-up APP. */
static void test_golden_store_and_app(void **state)
{
	check_golden(state, "s2s_store.json");
	check_golden(state, "s2s_app.json");
}

/* Every canonical action_source: Reddit's four words, OTHER for the rest. */
static void test_action_source_per_word(void **state)
{
	static const char *const want[] = { "WEBSITE", "APP",	"OTHER", "PHYSICAL_STORE",
					    "OTHER",   "OTHER", "OTHER", "OTHER" };

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		json_t *body =
		    build_with_source(*state, "events/s2s_store.json", pxd_test_sources[i], NULL);
		json_t *events = json_object_get(json_object_get(body, "data"), "events");

		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(events, 0), "action_source")),
		    want[i]);
		json_decref(body);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_store_and_app),
		cmocka_unit_test(test_action_source_per_word),
		cmocka_unit_test(test_golden_purchase),
		cmocka_unit_test(test_golden_view_content),
		cmocka_unit_test(test_golden_lead),
		cmocka_unit_test(test_golden_custom_event_named),
		cmocka_unit_test(test_golden_click_id),
		cmocka_unit_test(test_classify_invalid_events_in_a_200),
		cmocka_unit_test(test_classify_by_status),
		cmocka_unit_test(test_validate_refuses_what_reddit_refuses),
		cmocka_unit_test(test_init_refuses_bad_keys),
	};

	return cmocka_run_group_tests_name("reddit", tests, setup, teardown);
}
