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

extern const struct pxd_adapter pxd_adapter_meta;

static struct tdest *meta_dest(void)
{
	struct tdest *t = tdest_new(&pxd_adapter_meta);

	tdest_set(t, "api_base", "http://127.0.0.1:9/");
	tdest_set(t, "pixel_id", "1234567890");
	tdest_set(t, "api_version", "v25.0");
	tdest_set(t, "access_token", "tok-meta");
	tdest_set(t, "test_event_code", "TEST123");
	return t;
}

static int setup(void **state)
{
	return tdest_setup_state(state, meta_dest());
}

static int teardown(void **state)
{
	return tdest_teardown_state(state);
}

/* Builds the request for the events in tests/golden/events/<names>. */
static void build(struct tdest *t, const char *const *names, size_t n, struct pxd_request *req)
{
	struct pxd_batch_item items[8];
	json_t *evs[8];
	struct pxd_batch b;
	char rel[128];

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "events/%s", names[i]);
		evs[i] = golden(rel);
	}
	batch_make(&b, items, evs, n);
	memset(req, 0, sizeof(*req));
	assert_int_equal(pxd_adapter_meta.build(&t->dest, &b, req), 0);
	batch_free(&b);
	for (size_t i = 0; i < n; i++)
		json_decref(evs[i]);
}

static void check_golden(void **state, const char *name)
{
	struct pxd_request req;
	char rel[128];

	build(*state, &name, 1, &req);
	assert_string_equal(req.url, "http://127.0.0.1:9/v25.0/1234567890/events");
	assert_string_equal(req_header(&req, "Content-Type:"), "Content-Type: application/json");
	snprintf(rel, sizeof(rel), "meta/%s", name);
	assert_body_golden(&req, rel);
	pxd_buf_free(&req.body);
}

static void test_golden_purchase_hashes_every_field(void **state)
{
	check_golden(state, "purchase.json");
}

static void test_golden_raw_address_is_normalized_then_hashed(void **state)
{
	check_golden(state, "view_raw_address.json");
}

static void test_golden_minimal_lead(void **state)
{
	check_golden(state, "lead_minimal.json");
}

static void test_golden_custom_event_keeps_its_name_and_props(void **state)
{
	check_golden(state, "custom.json");
}

static void test_batch_keeps_order_and_map_override(void **state)
{
	static const char *const names[] = { "purchase.json", "view_raw_address.json",
					     "lead_minimal.json", "custom.json" };
	static const char *const ids[] = { "ev-purchase-1", "ev-view-2", "ev-lead-3",
					   "ev-custom-4" };
	struct tdest *t = meta_dest();
	struct pxd_request req;
	json_t *body, *data;

	(void)state;
	tdest_set(t, "map.Lead", "Contact");
	assert_int_equal(tdest_init(t), 0);
	build(t, names, 4, &req);
	body = json_loadb(req.body.p, req.body.len, 0, NULL);
	data = json_object_get(body, "data");
	assert_int_equal(json_array_size(data), 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(data, i), "event_id")),
		    ids[i]);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(data, 2), "event_name")), "Contact");
	json_decref(body);
	pxd_buf_free(&req.body);
	tdest_free(t);
}

static void test_never_hashes_an_empty_value(void **state)
{
	struct pxd_batch_item item;
	struct pxd_request req = { 0 };
	struct pxd_batch b;
	json_t *ev = golden("events/view_raw_address.json");
	json_t *user = json_object_get(ev, "user");

	/* Each normalizes to nothing usable: no field rather than sha256(""). */
	json_object_set_new(user, "city", json_string("12 ()-."));
	json_object_set_new(user, "zip", json_string("9"));
	json_object_set_new(user, "country", json_string("USA"));
	json_object_set_new(user, "state", json_string(""));
	batch_make(&b, &item, &ev, 1);
	assert_int_equal(pxd_adapter_meta.build(&((struct tdest *)*state)->dest, &b, &req), 0);
	assert_null(strstr(req.body.p, "\"ct\""));
	assert_null(strstr(req.body.p, "\"zp\""));
	assert_null(strstr(req.body.p, "\"st\""));
	assert_null(strstr(req.body.p, "\"country\""));
	assert_null(
	    strstr(req.body.p, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	batch_free(&b);
	pxd_buf_free(&req.body);
	json_decref(ev);
}

static void test_init_refuses_bad_keys(void **state)
{
	static const struct {
		const char *key;
		const char *value;
		const char *err;
	} cases[] = {
		{ "pixel_id", "px-1", "pixel_id: \"px-1\" is not a Meta pixel/dataset id" },
		{ "api_version", "25.0", "api_version: \"25.0\" is not a Graph version" },
		{ "api_base", "ftp://graph", "api_base: \"ftp://graph\" is not scheme://host" },
		{ "acces_token", "x", "acces_token: unknown key for type meta" },
		{ "map.Purchase", "Buy Now", "map.Purchase: \"Buy Now\" is not a meta name" },
		{ "access_token", "env:PXD_TEST_SURELY_UNSET_VARIABLE", "access_token: " },
	};
	struct tdest *t;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		t = meta_dest();
		for (size_t k = 0; k < t->conf.nkv; k++)
			if (strcmp(t->conf.kv[k].key, cases[i].key) == 0)
				snprintf(t->conf.kv[k].value, sizeof(t->conf.kv[k].value), "%s",
					 cases[i].value);
		if (!pxd_conf_dest_get(&t->conf, cases[i].key, NULL))
			tdest_set(t, cases[i].key, cases[i].value);
		assert_int_equal(tdest_init(t), -EINVAL);
		assert_non_null(strstr(t->err, TEST_CONF ":1"));
		if (!strstr(t->err, cases[i].err))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, t->err, cases[i].err);
		tdest_free(t);
	}
	t = tdest_new(&pxd_adapter_meta);
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, ":10: pixel_id: missing"));
	tdest_free(t);
}

static enum pxd_delivery validate(void **state, json_t *ev, char *reason)
{
	enum pxd_delivery d =
	    pxd_adapter_meta.validate(&((struct tdest *)*state)->dest, ev, reason, 192);

	json_decref(ev);
	return d;
}

static void test_validate_refuses_what_meta_refuses(void **state)
{
	const int64_t day = PXD_PAYLOAD_DAY_MS;
	char reason[192];
	json_t *ev;

	assert_int_equal(validate(state, event_aged("events/purchase.json", 60000), reason),
			 PXD_DELIVERY_OK);
	assert_int_equal(validate(state, event_aged("events/purchase.json", 6 * day), reason),
			 PXD_DELIVERY_OK);
	assert_int_equal(validate(state, event_aged("events/purchase.json", 7 * day), reason),
			 PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "meta: event is 168 h old"));
	assert_int_equal(validate(state, event_aged("events/purchase.json", -3600 * 1000), reason),
			 PXD_DELIVERY_PERMANENT);
	ev = event_aged("events/purchase.json", 0);
	json_object_del(ev, "ua");
	assert_int_equal(validate(state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "client_user_agent"));
	ev = event_aged("events/purchase.json", 0);
	json_object_set_new(ev, "url", json_string("android-app://shop"));
	assert_int_equal(validate(state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "event_source_url"));
	ev = event_aged("events/purchase.json", 0);
	json_object_del(json_object_get(ev, "props"), "currency");
	assert_int_equal(validate(state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "currency"));
	ev = event_aged("events/purchase.json", 0);
	json_object_set_new(json_object_get(ev, "user"), "phone_sha256",
			    json_string("+16505551234"));
	assert_int_equal(validate(state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "user.phone_sha256 is not 64 lowercase hex"));
	ev = event_aged("events/custom.json", 0);
	json_object_del(ev, "user");
	json_object_del(ev, "ip");
	assert_int_equal(validate(state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "needs an identifier"));
}

static void classify(void **state, size_t n, struct pxd_response r, struct pxd_outcome *out)
{
	struct pxd_batch_item items[4] = { 0 };
	struct pxd_batch b = { items, n };

	memset(out, 0, sizeof(*out) * n);
	pxd_adapter_meta.classify(&((struct tdest *)*state)->dest, &b, &r, out);
}

static void test_classify_success(void **state)
{
	struct pxd_outcome out[2];

	classify(state, 2,
		 response(200, "{\"events_received\":2,\"messages\":[],\"fbtrace_id\":\"AbC\"}"),
		 out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_OK);
}

static void test_classify_transient_graph_codes_retry(void **state)
{
	static const int codes[] = { 1, 2, 4, 17, 341, 368, 21009, 80003 };
	struct pxd_outcome out[2];
	char body[256];
	struct pxd_response r;

	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		snprintf(body, sizeof(body),
			 "{\"error\":{\"message\":\"m\",\"type\":\"OAuthException\",\"code\":%d,"
			 "\"fbtrace_id\":\"T%zu\"}}",
			 codes[i], i);
		r = response(codes[i] == 4 ? 400 : 500, body);
		r.retry_after_ms = 1500;
		classify(state, 2, r, out);
		assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
		assert_int_equal(out[1].retry_after_ms, 1500);
		assert_null(strstr(out[1].reason, "batch:"));
	}
	/* is_transient wins over a code that is otherwise permanent. */
	classify(
	    state, 2,
	    response(400, "{\"error\":{\"message\":\"x\",\"code\":100,\"is_transient\":true}}"),
	    out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
}

static void test_classify_invalid_param_in_batch_asks_for_bisection(void **state)
{
	static const char body[] =
	    "{\"error\":{\"message\":\"Invalid parameter\",\"type\":\"OAuthException\","
	    "\"code\":100,\"error_subcode\":2804003,\"is_transient\":false,"
	    "\"error_user_title\":\"Event Timestamp Too Old\","
	    "\"error_user_msg\":\"The timestamp for this event is too far in the past.\","
	    "\"fbtrace_id\":\"AxYz\"}}";
	struct pxd_outcome out[3];

	classify(state, 3, response(400, body), out);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(out[i].delivery, PXD_DELIVERY_PERMANENT);
		assert_string_equal(
		    out[i].reason, "batch: meta: code 100/2804003: The timestamp for this event is "
				   "too far in the past. (fbtrace_id AxYz)");
	}
	/* Alone, the event is the bad one: a plain dead letter. */
	classify(state, 1, response(400, body), out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_int_equal(strncmp(out[0].reason, "meta: code 100/2804003", 22), 0);
}

static void test_classify_body_code_beats_http_status(void **state)
{
	struct pxd_outcome out[2];

	/* §9.1: 190 arrives with 500; it is a dead token, not an outage. */
	classify(state, 2,
		 response(500, "{\"error\":{\"message\":\"Error validating access token\","
			       "\"type\":\"OAuthException\",\"code\":190,\"error_subcode\":463}}"),
		 out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_null(strstr(out[0].reason, "batch:"));
	assert_non_null(strstr(out[0].reason, "code 190/463"));
	classify(state, 2, response(403, "{\"error\":{\"message\":\"perm\",\"code\":200}}"), out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_PERMANENT);
	assert_null(strstr(out[1].reason, "batch:"));
}

static void test_classify_without_body_code_uses_status(void **state)
{
	struct pxd_outcome out[2];
	struct pxd_response r = response(0, NULL);

	r.transport_error = "Operation timed out";
	classify(state, 2, r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	classify(state, 2, response(502, "<html>Bad Gateway</html>"), out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	r = response(429, "");
	r.retry_after_ms = 30000;
	classify(state, 2, r, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[1].retry_after_ms, 30000);
	classify(state, 2, response(404, "Not Found"), out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_purchase_hashes_every_field),
		cmocka_unit_test(test_golden_raw_address_is_normalized_then_hashed),
		cmocka_unit_test(test_golden_minimal_lead),
		cmocka_unit_test(test_golden_custom_event_keeps_its_name_and_props),
		cmocka_unit_test(test_batch_keeps_order_and_map_override),
		cmocka_unit_test(test_never_hashes_an_empty_value),
		cmocka_unit_test(test_init_refuses_bad_keys),
		cmocka_unit_test(test_validate_refuses_what_meta_refuses),
		cmocka_unit_test(test_classify_success),
		cmocka_unit_test(test_classify_transient_graph_codes_retry),
		cmocka_unit_test(test_classify_invalid_param_in_batch_asks_for_bisection),
		cmocka_unit_test(test_classify_body_code_beats_http_status),
		cmocka_unit_test(test_classify_without_body_code_uses_status),
	};

	return cmocka_run_group_tests_name("meta", tests, setup, teardown);
}
