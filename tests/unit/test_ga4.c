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
#include "log.h"
#include "payload.h"
#include "retry.h"

extern const struct pxd_adapter pxd_adapter_ga4;

static struct tdest *ga4_dest(const char *validate)
{
	struct tdest *t = tdest_new(&pxd_adapter_ga4);

	tdest_set(t, "api_base", "http://127.0.0.1:9");
	tdest_set(t, "measurement_id", "G-TEST123");
	tdest_set(t, "api_secret", "s3c ret/+=");
	if (validate)
		tdest_set(t, "validate", validate);
	return t;
}

static int setup(void **state)
{
	return tdest_setup_state(state, ga4_dest(NULL));
}

static int teardown(void **state)
{
	return tdest_teardown_state(state);
}

static void build_events(struct tdest *t, json_t **evs, size_t n, struct pxd_request *req,
			 struct pxd_batch *b, struct pxd_batch_item *items)
{
	batch_make(b, items, evs, n);
	memset(req, 0, sizeof(*req));
	assert_int_equal(pxd_adapter_ga4.build(&t->dest, b, req), 0);
}

static void check_golden(void **state, const char *name)
{
	struct pxd_batch_item item;
	struct pxd_request req;
	struct pxd_batch b;
	char rel[128];
	json_t *ev;

	snprintf(rel, sizeof(rel), "events/%s", name);
	ev = golden(rel);
	build_events(*state, &ev, 1, &req, &b, &item);
	assert_string_equal(req.url, "http://127.0.0.1:9/mp/collect?measurement_id=G-TEST123&"
				     "api_secret=s3c%20ret%2F%2B%3D");
	assert_non_null(req_header(&req, "Content-Type: application/json"));
	snprintf(rel, sizeof(rel), "ga4/%s", name);
	assert_body_golden(&req, rel);
	batch_free(&b);
	pxd_buf_free(&req.body);
	json_decref(ev);
}

static void test_golden_purchase_with_user_data_and_consent(void **state)
{
	check_golden(state, "purchase.json");
}

static void test_golden_address_stays_plain(void **state)
{
	check_golden(state, "view_raw_address.json");
}

static void test_golden_denied_ad_user_data_sends_no_user_data(void **state)
{
	check_golden(state, "lead_minimal.json");
}

static void test_golden_custom_event_and_params(void **state)
{
	check_golden(state, "custom.json");
}

static void test_validate_mode_uses_debug_endpoint(void **state)
{
	struct tdest *t = ga4_dest("true");
	struct pxd_batch_item item;
	struct pxd_request req;
	struct pxd_outcome out;
	struct pxd_batch b;
	json_t *ev = golden("events/purchase.json");
	struct pxd_response r = response(
	    200, "{\"validationMessages\":[{\"fieldPath\":\"events\",\"description\":"
		 "\"Event at index: [0] has invalid name\",\"validationCode\":\"NAME_INVALID\"}]}");

	(void)state;
	assert_int_equal(tdest_init(t), 0);
	build_events(t, &ev, 1, &req, &b, &item);
	assert_int_equal(
	    strncmp(req.url, "http://127.0.0.1:9/debug/mp/collect?measurement_id=", 51), 0);
	/* The messages go to the log for the operator; the event is done. */
	pxd_log_set_level(PXD_LOG_ERR);
	pxd_adapter_ga4.classify(&t->dest, &b, &r, &out);
	pxd_log_set_level(PXD_LOG_INFO);
	assert_int_equal(out.delivery, PXD_DELIVERY_OK);
	batch_free(&b);
	pxd_buf_free(&req.body);
	json_decref(ev);
	tdest_free(t);
}

static void test_one_request_per_client(void **state)
{
	struct pxd_batch_item items[3];
	struct pxd_outcome out[3];
	struct pxd_request req;
	struct pxd_batch b;
	json_t *evs[3] = { golden("events/purchase.json"), golden("events/custom.json"),
			   golden("events/purchase.json") };
	struct pxd_response r = response(204, NULL);
	json_t *body, *events;

	json_object_set_new(evs[2], "event_id", json_string("ev-purchase-5"));
	build_events(*state, evs, 3, &req, &b, items);
	body = json_loadb(req.body.p, req.body.len, 0, NULL);
	events = json_object_get(body, "events");
	assert_string_equal(json_string_value(json_object_get(body, "client_id")), "fp-8c1e");
	assert_int_equal(json_array_size(events), 2);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_array_get(events, 1), "params"), "event_id")),
			    "ev-purchase-5");
	pxd_adapter_ga4.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[2].delivery, PXD_DELIVERY_OK);
	/* The other client's event goes again at once, leading the next batch. */
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[1].retry_after_ms, 1);
	assert_int_equal(strncmp(out[1].reason, "unsent: ", 8), 0);
	assert_false(pxd_retry_request_failed(out, 3));
	json_decref(body);
	batch_free(&b);
	pxd_buf_free(&req.body);
	for (size_t i = 0; i < 3; i++)
		json_decref(evs[i]);
}

static enum pxd_delivery validate(void **state, json_t *ev, char *reason)
{
	enum pxd_delivery d =
	    pxd_adapter_ga4.validate(&((struct tdest *)*state)->dest, ev, reason, 192);

	json_decref(ev);
	return d;
}

static void test_validate_refuses_what_ga4_drops(void **state)
{
	char reason[192];
	json_t *ev;

	assert_int_equal(
	    validate(state, event_aged("events/purchase.json", 70 * 3600 * 1000LL), reason),
	    PXD_DELIVERY_OK);
	assert_int_equal(
	    validate(state, event_aged("events/purchase.json", 72 * 3600 * 1000LL), reason),
	    PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "ga4: event is 72 h old"));
	ev = event_aged("events/custom.json", 0);
	json_object_set_new(ev, "event", json_string("Newsletter-Open"));
	assert_int_equal(validate(state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "set map.Newsletter-Open"));
	ev = event_aged("events/custom.json", 0);
	json_object_set_new(ev, "event", json_string("google_signal"));
	assert_int_equal(validate(state, ev, reason), PXD_DELIVERY_PERMANENT);
	ev = event_aged("events/custom.json", 0);
	json_object_set_new(ev, "event", json_string("A234567890123456789012345678901234567890x"));
	assert_int_equal(validate(state, ev, reason), PXD_DELIVERY_PERMANENT);
	ev = event_aged("events/custom.json", 0);
	json_object_del(ev, "fp_id");
	assert_int_equal(validate(state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "no client id"));
	ev = event_aged("events/purchase.json", 0);
	json_object_del(json_object_get(ev, "props"), "order_id");
	assert_int_equal(validate(state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "transaction_id"));
}

/* A page_location cut to 100 bytes ends at a character: GA4 gets the 99
 * bytes before the é that straddles the limit, not half of it (jansson
 * refused that half, and the whole request with it). */
static void test_long_url_is_cut_at_a_character(void **state)
{
	char url[128];
	struct pxd_batch_item item;
	struct pxd_request req;
	struct pxd_batch b;
	json_t *ev = golden("events/purchase.json"), *body;
	const char *got;

	memset(url, 'a', sizeof(url));
	memcpy(url, "https://x/", 10);
	memcpy(url + 99, "\xc3\xa9", 2); /* bytes 99 and 100 */
	url[110] = '\0';
	json_object_set_new(ev, "url", json_string(url));
	build_events(*state, &ev, 1, &req, &b, &item);
	body = json_loadb(req.body.p, req.body.len, 0, NULL);
	got = json_string_value(json_object_get(
	    json_object_get(json_array_get(json_object_get(body, "events"), 0), "params"),
	    "page_location"));
	assert_non_null(got);
	url[99] = '\0';
	assert_string_equal(got, url);
	json_decref(body);
	batch_free(&b);
	pxd_buf_free(&req.body);
	json_decref(ev);
}

static void test_init_refuses_bad_keys(void **state)
{
	struct tdest *t = ga4_dest("yes");

	(void)state;
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_string_equal(t->err, TEST_CONF ":14: validate: \"yes\" is not a boolean; write "
					      "true or false");
	tdest_free(t);
	t = ga4_dest(NULL);
	snprintf(t->conf.kv[1].value, sizeof(t->conf.kv[1].value), "UA-12345-1");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, ":12: measurement_id: \"UA-12345-1\" is not a web stream"));
	tdest_free(t);
	t = ga4_dest(NULL);
	t->conf.nkv = 2;
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, ":10: api_secret: missing"));
	tdest_free(t);
}

static void test_classify_uses_status_only(void **state)
{
	struct pxd_batch_item items[2];
	struct pxd_outcome out[2];
	struct pxd_batch b;
	json_t *evs[2] = { golden("events/purchase.json"), golden("events/purchase.json") };
	struct pxd_response r = response(503, "busy");

	batch_make(&b, items, evs, 2);
	r.retry_after_ms = 2000;
	pxd_adapter_ga4.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[1].retry_after_ms, 2000);
	r = response(400, "bad");
	pxd_adapter_ga4.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_PERMANENT);
	batch_free(&b);
	json_decref(evs[0]);
	json_decref(evs[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_purchase_with_user_data_and_consent),
		cmocka_unit_test(test_golden_address_stays_plain),
		cmocka_unit_test(test_golden_denied_ad_user_data_sends_no_user_data),
		cmocka_unit_test(test_golden_custom_event_and_params),
		cmocka_unit_test(test_validate_mode_uses_debug_endpoint),
		cmocka_unit_test(test_one_request_per_client),
		cmocka_unit_test(test_validate_refuses_what_ga4_drops),
		cmocka_unit_test(test_long_url_is_cut_at_a_character),
		cmocka_unit_test(test_init_refuses_bad_keys),
		cmocka_unit_test(test_classify_uses_status_only),
	};

	return cmocka_run_group_tests_name("ga4", tests, setup, teardown);
}
