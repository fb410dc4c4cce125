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

extern const struct pxd_adapter pxd_adapter_tiktok;

static struct tdest *tiktok_dest(void)
{
	struct tdest *t = tdest_new(&pxd_adapter_tiktok);

	tdest_set(t, "api_base", "http://127.0.0.1:9");
	tdest_set(t, "pixel_code", "CTESTPIXEL42");
	tdest_set(t, "access_token", "tok-tiktok");
	tdest_set(t, "test_event_code", "TEST777");
	tdest_set(t, "offline_event_set_id", "7001");
	return t;
}

static int setup(void **state)
{
	return tdest_setup_state(state, tiktok_dest());
}

static int teardown(void **state)
{
	return tdest_teardown_state(state);
}

static void check_golden(void **state, const char *name)
{
	struct pxd_batch_item item;
	struct pxd_request req = { 0 };
	struct pxd_batch b;
	char rel[128];
	json_t *ev;

	snprintf(rel, sizeof(rel), "events/%s", name);
	ev = golden(rel);
	batch_make(&b, &item, &ev, 1);
	assert_int_equal(pxd_adapter_tiktok.build(&((struct tdest *)*state)->dest, &b, &req), 0);
	assert_string_equal(req.url, "http://127.0.0.1:9/open_api/v1.3/event/track/");
	assert_string_equal(req_header(&req, "Access-Token:"), "Access-Token: tok-tiktok");
	assert_non_null(req_header(&req, "Content-Type: application/json"));
	snprintf(rel, sizeof(rel), "tiktok/%s", name);
	assert_body_golden(&req, rel);
	batch_free(&b);
	pxd_buf_free(&req.body);
	json_decref(ev);
}

static void test_golden_purchase_e164_phone_and_properties(void **state)
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

static void test_golden_custom_event_without_properties(void **state)
{
	check_golden(state, "custom.json");
}

static void classify(void **state, size_t n, const char *body, long status, struct pxd_outcome *out)
{
	struct pxd_batch_item items[4] = { 0 };
	struct pxd_batch b = { items, n };
	struct pxd_response r = response(status, body);

	r.retry_after_ms = status == 429 ? 9000 : 0;
	pxd_adapter_tiktok.classify(&((struct tdest *)*state)->dest, &b, &r, out);
}

static void test_classify_codes_inside_a_200(void **state)
{
	static const struct {
		const char *body;
		enum pxd_delivery want;
	} cases[] = {
		{ "{\"code\":0,\"message\":\"OK\",\"request_id\":\"r1\",\"data\":{}}",
		  PXD_DELIVERY_OK },
		{ "{\"code\":20001,\"message\":\"Partial success\",\"request_id\":\"r2\"}",
		  PXD_DELIVERY_OK },
		{ "{\"code\":40100,\"message\":\"Too many requests\",\"request_id\":\"r3\"}",
		  PXD_DELIVERY_RETRY },
		{ "{\"code\":50002,\"message\":\"Internal error\",\"request_id\":\"r4\"}",
		  PXD_DELIVERY_RETRY },
		{ "{\"code\":40001,\"message\":\"No permission\",\"request_id\":\"r5\"}",
		  PXD_DELIVERY_PERMANENT },
		{ "{\"code\":40105,\"message\":\"Access token is "
		  "incorrect\",\"request_id\":\"r6\"}",
		  PXD_DELIVERY_PERMANENT },
	};
	struct pxd_outcome out[2];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		classify(state, 2, cases[i].body, 200, out);
		if (out[1].delivery != cases[i].want)
			fail_msg("case %zu: got %d (%s)", i, out[1].delivery, out[1].reason);
		assert_int_equal(out[0].delivery, cases[i].want);
		assert_null(strstr(out[0].reason, "batch:"));
	}
	assert_string_equal(out[0].reason,
			    "tiktok: code 40105: Access token is incorrect (request_id r6)");
}

static void test_classify_invalid_params_in_batch_asks_for_bisection(void **state)
{
	static const char body[] =
	    "{\"code\":40002,\"message\":\"data[3].event_time: invalid\",\"request_id\":\"rq\"}";
	struct pxd_outcome out[3];

	classify(state, 3, body, 200, out);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(out[i].delivery, PXD_DELIVERY_PERMANENT);
		assert_int_equal(strncmp(out[i].reason, "batch: tiktok: code 40002", 25), 0);
	}
	assert_true(pxd_bisect_wanted(out, 3));
	classify(state, 1, body, 200, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_int_equal(strncmp(out[0].reason, "tiktok: code 40002", 18), 0);
}

static void test_classify_without_body_code_uses_status(void **state)
{
	struct pxd_outcome out[2];

	classify(state, 2, "<html><body>502 Bad Gateway</body></html>", 502, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	classify(state, 2, "", 429, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[1].retry_after_ms, 9000);
	classify(state, 2, NULL, 0, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	classify(state, 2, "nope", 404, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_PERMANENT);
}

static enum pxd_delivery validate(void **state, json_t *ev, char *reason)
{
	enum pxd_delivery d =
	    pxd_adapter_tiktok.validate(&((struct tdest *)*state)->dest, ev, reason, 192);

	json_decref(ev);
	return d;
}

static void test_validate_refuses_what_tiktok_refuses(void **state)
{
	char reason[192];
	json_t *ev;

	assert_int_equal(validate(state, event_aged("events/lead_minimal.json", 0), reason),
			 PXD_DELIVERY_OK);
	assert_int_equal(
	    validate(state, event_aged("events/purchase.json", 7 * PXD_PAYLOAD_DAY_MS), reason),
	    PXD_DELIVERY_PERMANENT);
	ev = event_aged("events/purchase.json", 0);
	json_object_set_new(json_object_get(ev, "user"), "phone_e164_sha256",
			    json_string("+16505551234"));
	assert_int_equal(validate(state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "phone_e164_sha256"));
	ev = event_aged("events/custom.json", 0);
	json_object_del(ev, "user");
	json_object_del(ev, "ip");
	assert_int_equal(validate(state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "needs an identifier"));
	ev = event_aged("events/purchase.json", 0);
	json_object_set_new(json_object_get(ev, "props"), "value", json_string("99.99"));
	assert_int_equal(validate(state, ev, reason), PXD_DELIVERY_PERMANENT);
}

static void test_init_refuses_bad_keys(void **state)
{
	struct tdest *t = tiktok_dest();

	(void)state;
	snprintf(t->conf.kv[1].value, sizeof(t->conf.kv[1].value), "ctest-pixel");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, TEST_CONF ":12: pixel_code: \"ctest-pixel\""));
	tdest_free(t);
	t = tiktok_dest();
	t->conf.nkv = 2;
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "access_token: missing"));
	tdest_free(t);
}

/* A server's store purchase goes to the offline event set. */
static void test_golden_store_purchase_offline_event_set(void **state)
{
	check_golden(state, "s2s_store.json");
}

/* event_source per canonical action_source: web for the website, offline
 * for the rest; app events are refused, and so are offline ones without
 * offline_event_set_id. */
static void test_event_source_per_word(void **state)
{
	struct tdest *t = tiktok_dest();
	char reason[192];
	json_t *ev, *body;

	t->conf.nkv = 4;
	assert_int_equal(tdest_init(t), 0);
	for (size_t i = 0; i < ARRAY_SIZE(pxd_test_sources); i++) {
		bool web = i == 0;

		body =
		    build_with_source(*state, "events/s2s_store.json", pxd_test_sources[i], NULL);
		ev = event_aged("events/s2s_store.json", 0);
		json_object_set_new(ev, "action_source", json_string(pxd_test_sources[i]));
		assert_int_equal(tdest_validate(*state, json_incref(ev), reason),
				 i == 1 ? PXD_DELIVERY_PERMANENT : PXD_DELIVERY_OK);
		assert_int_equal(tdest_validate(t, ev, reason),
				 web ? PXD_DELIVERY_OK : PXD_DELIVERY_PERMANENT);
		if (i == 1)
			assert_string_equal(reason,
					    "tiktok: app events go to TikTok's app event source "
					    "(a TikTok App ID), which this destination does not "
					    "send");
		if (i == 3)
			assert_string_equal(reason,
					    "tiktok: a physical_store event goes to an offline "
					    "event set; set offline_event_set_id for this "
					    "destination");
		assert_string_equal(json_string_value(json_object_get(body, "event_source")),
				    web ? "web" : "offline");
		assert_string_equal(json_string_value(json_object_get(body, "event_source_id")),
				    web ? "CTESTPIXEL42" : "7001");
		json_decref(body);
	}
	tdest_free(t);
}

/* A batch of web and store events: one event source per request, the
 * others unsent and due again at once. */
static void test_mixed_sources_one_per_request(void **state)
{
	struct tdest *t = *state;
	struct pxd_batch_item items[3];
	struct pxd_request req = { 0 };
	struct pxd_outcome out[3];
	struct pxd_response r = response(200, "{\"code\":0,\"message\":\"OK\"}");
	struct pxd_batch b;
	json_t *evs[3] = { golden("events/s2s_store.json"), golden("events/purchase.json"),
			   golden("events/s2s_store.json") };
	json_t *body;

	batch_make(&b, items, evs, 3);
	assert_int_equal(pxd_adapter_tiktok.build(&t->dest, &b, &req), 0);
	body = json_loadb(req.body.p, req.body.len, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(body, "event_source")), "offline");
	assert_int_equal(json_array_size(json_object_get(body, "data")), 2);
	json_decref(body);
	pxd_buf_free(&req.body);
	pxd_adapter_tiktok.classify(&t->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[2].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	assert_non_null(strstr(out[1].reason, PXD_RETRY_UNSENT "tiktok:"));
	/* 40002 names no event: the whole batch is bisected. */
	r = response(200, "{\"code\":40002,\"message\":\"Invalid parameters\"}");
	pxd_adapter_tiktok.classify(&t->dest, &b, &r, out);
	assert_true(pxd_bisect_wanted(out, 3));
	batch_free(&b);
	for (size_t i = 0; i < 3; i++)
		json_decref(evs[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_store_purchase_offline_event_set),
		cmocka_unit_test(test_event_source_per_word),
		cmocka_unit_test(test_mixed_sources_one_per_request),
		cmocka_unit_test(test_golden_purchase_e164_phone_and_properties),
		cmocka_unit_test(test_golden_view_content),
		cmocka_unit_test(test_golden_lead),
		cmocka_unit_test(test_golden_custom_event_without_properties),
		cmocka_unit_test(test_classify_codes_inside_a_200),
		cmocka_unit_test(test_classify_invalid_params_in_batch_asks_for_bisection),
		cmocka_unit_test(test_classify_without_body_code_uses_status),
		cmocka_unit_test(test_validate_refuses_what_tiktok_refuses),
		cmocka_unit_test(test_init_refuses_bad_keys),
	};

	return cmocka_run_group_tests_name("tiktok", tests, setup, teardown);
}
