// SPDX-License-Identifier: MIT
#include "adapter.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_test.h"
#include "analytics_test.h"
#include "bisect.h"
#include "retry.h"

static struct tdest *amplitude_dest(const char *api)
{
	struct tdest *t = tdest_new(&pxd_adapter_amplitude);

	tdest_set(t, "api_base", "http://127.0.0.1:9");
	tdest_set(t, "api_key", "amp-key");
	/* "u-42" is 4 characters; Amplitude's default minimum is 5. */
	tdest_set(t, "min_id_length", "4");
	if (api)
		tdest_set(t, "api", api);
	return t;
}

static int setup(void **state)
{
	return tdest_setup_state(state, amplitude_dest(NULL));
}

static int teardown(void **state)
{
	return tdest_teardown_state(state);
}

static void check_golden(void **state, const char *name)
{
	struct pxd_request req;

	golden_request(*state, "amplitude", name, &req);
	assert_string_equal(req.url, "http://127.0.0.1:9/batch");
	assert_non_null(req_header(&req, "Content-Type: application/json"));
	pxd_buf_free(&req.body);
}

static void test_golden_purchase_revenue_insert_id_ms(void **state)
{
	check_golden(state, "purchase.json");
}

static void test_golden_view_and_custom(void **state)
{
	check_golden(state, "view_raw_address.json");
	check_golden(state, "custom.json");
	check_golden(state, "page_view.json");
}

/* A form body (a=x&b=y, percent-encoded) as a JSON object: each value
 * decoded, and parsed when it is JSON. */
static json_t *form_json(const struct pxd_request *req)
{
	json_t *o = json_object();
	char *copy = strndup(req->body.p, req->body.len), *save = NULL;

	assert_non_null(copy);
	for (char *f = strtok_r(copy, "&", &save); f; f = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(f, '='), *w;
		json_t *v;

		assert_non_null(eq);
		*eq = '\0';
		w = eq + 1;
		for (char *q = eq + 1; *q; q++) {
			unsigned hi, lo;

			assert_false(*q == '+' || *q == ' ');
			if (*q == '%' && sscanf(q + 1, "%1x%1x", &hi, &lo) == 2) {
				*w++ = (char)(hi << 4 | lo);
				q += 2;
			} else {
				*w++ = *q;
			}
		}
		*w = '\0';
		v = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
		json_object_set_new(o, f, v && !json_is_number(v) ? v : json_string(eq + 1));
		if (v && json_is_number(v))
			json_decref(v);
	}
	free(copy);
	return o;
}

/* Builds golden event <name> and compares the form it is sent as with
 * amplitude/<name>, at <path>. */
static void check_golden_form(void **state, const char *name, const char *path)
{
	struct tdest *t = *state;
	struct pxd_batch_item item;
	struct pxd_request req = { 0 };
	struct pxd_batch b;
	char rel[128], url[128];
	json_t *ev, *got, *want;

	snprintf(rel, sizeof(rel), "events/%s", name);
	ev = golden(rel);
	batch_make(&b, &item, &ev, 1);
	assert_int_equal(t->dest.adapter->build(&t->dest, &b, &req), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:9%s", path);
	assert_string_equal(req.url, url);
	assert_non_null(req_header(&req, "Content-Type: application/x-www-form-urlencoded"));
	snprintf(rel, sizeof(rel), "amplitude/%s", name);
	got = form_json(&req);
	want = golden(rel);
	assert_json_same(want, got, rel);
	json_decref(got);
	json_decref(want);
	pxd_buf_free(&req.body);
	batch_free(&b);
	json_decref(ev);
}

/* Identify sets user properties through the Identify API, Group a group's
 * properties through the Group Identify API. */
static void test_golden_identify_and_group_apis(void **state)
{
	check_golden_form(state, "identify.json", "/identify");
	check_golden_form(state, "group.json", "/groupidentify");
}

/* Events and the two calls in one batch: one API per request, the first
 * event's; the others are unsent and go again at once. */
static void test_mixed_batch_one_api_per_request(void **state)
{
	static const char *const names[] = { "events/identify.json", "events/purchase.json",
					     "events/identify.json", "events/group.json" };
	struct tdest *t = *state;
	struct pxd_batch_item items[4];
	struct pxd_request req = { 0 };
	struct pxd_outcome out[4];
	struct pxd_response r = response(200, "success");
	struct pxd_batch b;
	json_t *evs[4], *form;

	for (size_t i = 0; i < 4; i++)
		evs[i] = golden(names[i]);
	batch_make(&b, items, evs, 4);
	assert_int_equal(pxd_adapter_amplitude.build(&t->dest, &b, &req), 0);
	assert_string_equal(req.url, "http://127.0.0.1:9/identify");
	form = form_json(&req);
	assert_int_equal(json_array_size(json_object_get(form, "identification")), 2);
	json_decref(form);
	pxd_buf_free(&req.body);
	pxd_adapter_amplitude.classify(&t->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[2].delivery, PXD_DELIVERY_OK);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	assert_non_null(strstr(out[1].reason, PXD_RETRY_UNSENT "amplitude:"));
	assert_int_equal(out[3].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[3].retry_after_ms, 1);
	/* A 400 for the two updates names neither: all four are bisected. */
	r = response(400, "{\"code\":400,\"error\":\"missing user_properties\"}");
	pxd_adapter_amplitude.classify(&t->dest, &b, &r, out);
	assert_true(pxd_bisect_wanted(out, 4));
	batch_free(&b);
	for (size_t i = 0; i < 4; i++)
		json_decref(evs[i]);
}

static void test_http_v2_endpoint_and_single_product_revenue(void **state)
{
	struct tdest *t = amplitude_dest("http_v2");
	struct pxd_batch_item item;
	struct pxd_request req;
	struct pxd_batch b;
	json_t *ev = golden("events/purchase.json");
	json_t *props = json_object_get(ev, "props");
	json_t *body, *e;

	(void)state;
	assert_int_equal(tdest_init(t), 0);
	json_array_remove(json_object_get(props, "contents"), 1);
	batch_make(&b, &item, &ev, 1);
	memset(&req, 0, sizeof(req));
	assert_int_equal(pxd_adapter_amplitude.build(&t->dest, &b, &req), 0);
	assert_string_equal(req.url, "http://127.0.0.1:9/2/httpapi");
	body = json_loadb(req.body.p, req.body.len, 0, NULL);
	e = json_array_get(json_object_get(body, "events"), 0);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(body, "options"), "min_id_length")),
	    4);
	assert_true(json_real_value(json_object_get(e, "price")) == 9.99);
	assert_int_equal(json_integer_value(json_object_get(e, "quantity")), 1);
	assert_string_equal(json_string_value(json_object_get(e, "productId")), "sku-1");
	json_decref(body);
	batch_free(&b);
	pxd_buf_free(&req.body);
	json_decref(ev);
	tdest_free(t);
}

static void test_validate_needs_a_long_enough_id(void **state)
{
	struct tdest *t = amplitude_dest(NULL);
	char reason[192];
	json_t *ev;

	assert_int_equal(validate_event(*state, event_aged("events/purchase.json", 0), reason),
			 PXD_DELIVERY_OK);
	assert_int_equal(validate_event(*state, event_aged("events/lead_minimal.json", 0), reason),
			 PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "amplitude: no user id or anonymous id"));
	/* Alias has no HTTP V2 call: refused with what to do. */
	assert_int_equal(validate_event(*state, event_aged("events/alias.json", 0), reason),
			 PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "amplitude: the platform has no alias call"));
	t->conf.nkv = 2; /* the default min_id_length 5 */
	assert_int_equal(tdest_init(t), 0);
	ev = event_without("custom.json", NULL, "fp_id");
	assert_int_equal(validate_event(t, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "amplitude: needs user_id or device_id of at least 5"));
	ev = event_without("custom.json", NULL, "fp_id");
	json_object_set_new(ev, "fp_id", json_string("00000000-0000-0000-0000-000000000000"));
	assert_int_equal(validate_event(t, ev, reason), PXD_DELIVERY_PERMANENT);
	tdest_free(t);
}

static void test_consent_analytics_storage(void **state)
{
	(void)state;
	assert_analytics_consent(&pxd_adapter_amplitude);
}

static void test_400_dead_letters_named_events_and_resends_the_rest(void **state)
{
	struct pxd_batch_item items[5];
	struct pxd_outcome out[5];
	struct pxd_batch b;
	json_t *evs[5];
	struct pxd_response r = response(
	    400, "{\"code\":400,\"error\":\"Request missing required field\","
		 "\"events_with_invalid_fields\":{\"time\":[1]},"
		 "\"events_with_missing_fields\":{\"event_type\":[3,99]},\"silenced_events\":[4]}");

	batch_copies("purchase.json", evs, 5, &b, items);
	pxd_adapter_amplitude.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_PERMANENT);
	assert_string_equal(out[1].reason, "amplitude: event 1: invalid field time");
	assert_int_equal(out[3].delivery, PXD_DELIVERY_PERMANENT);
	assert_string_equal(out[3].reason, "amplitude: event 3: missing field event_type");
	assert_int_equal(out[4].delivery, PXD_DELIVERY_PERMANENT);
	for (size_t i = 0; i < 4; i += 2) {
		assert_int_equal(out[i].delivery, PXD_DELIVERY_RETRY);
		assert_int_equal(out[i].retry_after_ms, 1);
		assert_int_equal(strncmp(out[i].reason, PXD_RETRY_UNSENT, 8), 0);
	}
	/* A 400 that names nobody is the whole request's (bad api_key). */
	r = response(400, "{\"code\":400,\"error\":\"Invalid API key: amp-key\"}");
	pxd_adapter_amplitude.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(out[i].delivery, PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(out[0].reason, "Invalid API key"));
	batch_copies_free(evs, 5, &b);
}

static void test_429_holds_back_only_the_throttled(void **state)
{
	struct pxd_batch_item items[4];
	struct pxd_outcome out[4];
	struct pxd_batch b;
	json_t *evs[4];
	struct pxd_response r = response(
	    429, "{\"code\":429,\"error\":\"Too many requests for some devices and users\","
		 "\"eps_threshold\":30,\"throttled_devices\":{\"fp-device-0\":31},"
		 "\"throttled_events\":[0],\"exceeded_daily_quota_devices\":{\"fp-device-2\":1}}");

	batch_copies("custom.json", evs, 4, &b, items);
	for (size_t i = 0; i < 4; i++)
		json_object_del(json_object_get(evs[i], "user"), "id");
	pxd_adapter_amplitude.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	/* The throttled event backs off on its own, holding nobody else. */
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[0].retry_after_ms, 0);
	/* No Retry-After-like delay: the dispatcher would hold the destination. */
	for (size_t i = 0; i < 4; i++)
		assert_true(out[i].retry_after_ms <= 1);
	/* Over the daily quota: kept as a dead letter for a replay. */
	assert_int_equal(out[2].delivery, PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(out[2].reason, "daily quota"));
	assert_int_equal(out[1].retry_after_ms, 1);
	assert_int_equal(strncmp(out[3].reason, PXD_RETRY_UNSENT, 8), 0);
	/* Without names the whole request waits, Retry-After first. */
	r = response(429, "{\"code\":429,\"error\":\"Too many requests\"}");
	r.retry_after_ms = 7000;
	pxd_adapter_amplitude.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[3].retry_after_ms, 7000);
	assert_true(pxd_retry_request_failed(out, 4));
	batch_copies_free(evs, 4, &b);
}

static void test_other_answers(void **state)
{
	struct pxd_batch_item items[2];
	struct pxd_outcome out[2];
	struct pxd_batch b;
	json_t *evs[2];
	struct pxd_response r =
	    response(200, "{\"code\":200,\"events_ingested\":2,\"payload_size_bytes\":900,"
			  "\"server_upload_time\":1732300000000}");

	batch_copies("purchase.json", evs, 2, &b, items);
	pxd_adapter_amplitude.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_OK);
	/* §2: 413 splits the batch and resends. */
	r = response(413, "{\"code\":413,\"error\":\"Payload too large\"}");
	pxd_adapter_amplitude.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_true(pxd_bisect_wanted(out, 2));
	r = response(503, "unavailable");
	pxd_adapter_amplitude.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	batch_copies_free(evs, 2, &b);
}

static void test_init_refuses_bad_keys(void **state)
{
	struct tdest *t = amplitude_dest("v3");

	(void)state;
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "api: \"v3\" is not batch or http_v2"));
	tdest_free(t);
	t = amplitude_dest(NULL);
	snprintf(t->conf.kv[2].value, sizeof(t->conf.kv[2].value), "0");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "min_id_length: \"0\" is not a number from 1 to 64"));
	tdest_free(t);
	t = amplitude_dest(NULL);
	t->conf.nkv = 1;
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "api_key: missing"));
	tdest_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_purchase_revenue_insert_id_ms),
		cmocka_unit_test(test_golden_view_and_custom),
		cmocka_unit_test(test_golden_identify_and_group_apis),
		cmocka_unit_test(test_mixed_batch_one_api_per_request),
		cmocka_unit_test(test_http_v2_endpoint_and_single_product_revenue),
		cmocka_unit_test(test_validate_needs_a_long_enough_id),
		cmocka_unit_test(test_consent_analytics_storage),
		cmocka_unit_test(test_400_dead_letters_named_events_and_resends_the_rest),
		cmocka_unit_test(test_429_holds_back_only_the_throttled),
		cmocka_unit_test(test_other_answers),
		cmocka_unit_test(test_init_refuses_bad_keys),
	};

	return cmocka_run_group_tests_name("amplitude", tests, setup, teardown);
}
