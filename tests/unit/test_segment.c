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
#include "analytics_test.h"
#include "bisect.h"
#include "payload.h"

static struct tdest *segment_dest(void)
{
	struct tdest *t = tdest_new(&pxd_adapter_segment);

	tdest_set(t, "api_base", "http://127.0.0.1:9/");
	tdest_set(t, "write_key", "wk-seg");
	return t;
}

static int setup(void **state)
{
	return tdest_setup_state(state, segment_dest());
}

static int teardown(void **state)
{
	return tdest_teardown_state(state);
}

static void check_golden(void **state, const char *name)
{
	struct pxd_request req;

	golden_request(*state, "segment", name, &req);
	assert_string_equal(req.url, "http://127.0.0.1:9/v1/batch");
	assert_non_null(req_header(&req, "Content-Type: application/json"));
	/* base64("wk-seg:"): the write key as user, no password (§9.9). */
	assert_non_null(req_header(&req, "Authorization: Basic d2stc2VnOg=="));
	pxd_buf_free(&req.body);
}

static void test_golden_order_completed_with_products_and_hashed_traits(void **state)
{
	check_golden(state, "purchase.json");
}

static void test_golden_product_viewed(void **state)
{
	check_golden(state, "view_raw_address.json");
}

static void test_golden_custom_event_keeps_its_name_and_props(void **state)
{
	check_golden(state, "custom.json");
}

static void test_golden_identify_group_alias_page(void **state)
{
	check_golden(state, "identify.json");
	check_golden(state, "group.json");
	check_golden(state, "alias.json");
	check_golden(state, "page_view.json");
}

static void test_map_renames_a_track_event(void **state)
{
	struct tdest *t = segment_dest();
	struct pxd_batch_item item;
	struct pxd_request req;
	struct pxd_batch b;
	json_t *ev = golden("events/purchase.json");
	json_t *body;

	(void)state;
	tdest_set(t, "map.Purchase", "Checkout Done");
	assert_int_equal(tdest_init(t), 0);
	batch_make(&b, &item, &ev, 1);
	memset(&req, 0, sizeof(req));
	assert_int_equal(pxd_adapter_segment.build(&t->dest, &b, &req), 0);
	body = json_loadb(req.body.p, req.body.len, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(body, "batch"), 0), "event")),
			    "Checkout Done");
	json_decref(body);
	batch_free(&b);
	pxd_buf_free(&req.body);
	json_decref(ev);
	tdest_free(t);
}

static void test_validate_enforces_segment_limits(void **state)
{
	char reason[192], big[40000];
	json_t *ev;

	assert_int_equal(validate_event(*state, event_aged("events/purchase.json", 0), reason),
			 PXD_DELIVERY_OK);
	/* Historical timestamps are fine (§7). */
	assert_int_equal(
	    validate_event(*state, event_aged("events/purchase.json", 400 * PXD_PAYLOAD_DAY_MS),
			   reason),
	    PXD_DELIVERY_OK);
	assert_int_equal(validate_event(*state, event_aged("events/lead_minimal.json", 0), reason),
			 PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "segment: no user id or anonymous id"));
	ev = event_aged("events/custom.json", 0);
	memset(big, 'x', 120);
	big[120] = '\0';
	json_object_set_new(ev, "event_id", json_string(big));
	assert_int_equal(validate_event(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "messageId limit"));
	ev = event_aged("events/custom.json", 0);
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	json_object_set_new(json_object_get(ev, "props"), "blob", json_string(big));
	assert_int_equal(validate_event(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "segment: event is"));
	assert_int_equal(
	    validate_event(*state, event_without("group.json", "props", "group_id"), reason),
	    PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "segment: the group call needs a string props.group_id"));
	assert_int_equal(
	    validate_event(*state, event_without("alias.json", "props", "previous_id"), reason),
	    PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "props.previous_id"));
	ev = event_without("purchase.json", "props", "currency");
	assert_int_equal(validate_event(*state, ev, reason), PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "props.currency"));
}

static void test_consent_analytics_storage(void **state)
{
	(void)state;
	assert_analytics_consent(&pxd_adapter_segment);
}

static void test_classify_answers(void **state)
{
	struct pxd_batch_item items[3];
	struct pxd_outcome out[3];
	struct pxd_batch b;
	json_t *evs[3];
	struct pxd_response r = response(200, "{\"success\":true}");

	batch_copies("purchase.json", evs, 3, &b, items);
	pxd_adapter_segment.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[2].delivery, PXD_DELIVERY_OK);
	r = response(429, "Too Many Requests");
	r.retry_after_ms = 5000;
	pxd_adapter_segment.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	assert_int_equal(out[1].retry_after_ms, 5000);
	/* A 400 (size or JSON) is one message's doing: halve the batch. */
	r = response(400, "{\"error\":\"Invalid JSON\"}");
	pxd_adapter_segment.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_true(pxd_bisect_wanted(out, 3));
	assert_non_null(strstr(out[0].reason, "segment: HTTP 400"));
	b.n = 1;
	pxd_adapter_segment.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_false(pxd_bisect_wanted(out, 1));
	b.n = 3;
	r = response(0, NULL);
	r.transport_error = "Connection refused";
	pxd_adapter_segment.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_RETRY);
	batch_copies_free(evs, 3, &b);
}

static void test_init_refuses_bad_keys(void **state)
{
	struct tdest *t = segment_dest();

	(void)state;
	t->conf.nkv = 1;
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, ":10: write_key: missing"));
	tdest_free(t);
	t = segment_dest();
	tdest_set(t, "writekey", "x");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, ":13: writekey: unknown key for type segment"));
	tdest_free(t);
	t = segment_dest();
	tdest_set(t, "map.Lead", "Lead\"Form");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "map.Lead"));
	tdest_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_order_completed_with_products_and_hashed_traits),
		cmocka_unit_test(test_golden_product_viewed),
		cmocka_unit_test(test_golden_custom_event_keeps_its_name_and_props),
		cmocka_unit_test(test_golden_identify_group_alias_page),
		cmocka_unit_test(test_map_renames_a_track_event),
		cmocka_unit_test(test_validate_enforces_segment_limits),
		cmocka_unit_test(test_consent_analytics_storage),
		cmocka_unit_test(test_classify_answers),
		cmocka_unit_test(test_init_refuses_bad_keys),
	};

	return cmocka_run_group_tests_name("segment", tests, setup, teardown);
}
