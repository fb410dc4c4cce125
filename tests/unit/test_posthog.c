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

static struct tdest *posthog_dest(void)
{
	struct tdest *t = tdest_new(&pxd_adapter_posthog);

	tdest_set(t, "api_base", "http://127.0.0.1:9");
	tdest_set(t, "api_key", "phc_test");
	return t;
}

static int setup(void **state)
{
	return tdest_setup_state(state, posthog_dest());
}

static int teardown(void **state)
{
	return tdest_teardown_state(state);
}

static void check_golden(void **state, const char *name)
{
	struct pxd_request req;

	golden_request(*state, "posthog", name, &req);
	assert_string_equal(req.url, "http://127.0.0.1:9/batch/");
	assert_non_null(req_header(&req, "Content-Type: application/json"));
	pxd_buf_free(&req.body);
}

/* sha256("ev-purchase-1") = 161ae3ccc372346ba687...: the uuid is its first
 * 32 hex digits with version 8 and the RFC variant (161ae3cc-c372-846b-a687-...). */
static void test_golden_purchase_uuid_from_event_id(void **state)
{
	check_golden(state, "purchase.json");
}

static void test_golden_view_custom(void **state)
{
	check_golden(state, "view_raw_address.json");
	check_golden(state, "custom.json");
}

static void test_golden_pageview_keeps_a_uuid_event_id_anonymous(void **state)
{
	check_golden(state, "page_view.json");
}

static void test_golden_identify_groupidentify_create_alias(void **state)
{
	check_golden(state, "identify.json");
	check_golden(state, "group.json");
	check_golden(state, "alias.json");
}

static void test_validate(void **state)
{
	char reason[192];

	assert_int_equal(validate_event(*state, event_aged("events/purchase.json", 0), reason),
			 PXD_DELIVERY_OK);
	assert_int_equal(validate_event(*state, event_aged("events/lead_minimal.json", 0), reason),
			 PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "posthog: no user id or anonymous id"));
	assert_int_equal(
	    validate_event(*state, event_without("identify.json", "user", "id"), reason),
	    PXD_DELIVERY_PERMANENT);
	assert_non_null(strstr(reason, "posthog: the identify call needs user.id"));
	assert_int_equal(validate_event(*state, event_without("purchase.json", NULL, "ts"), reason),
			 PXD_DELIVERY_PERMANENT);
}

static void test_consent_analytics_storage(void **state)
{
	(void)state;
	assert_analytics_consent(&pxd_adapter_posthog);
}

static void test_classify_answers(void **state)
{
	struct pxd_batch_item items[2];
	struct pxd_outcome out[2];
	struct pxd_batch b;
	json_t *evs[2];
	struct pxd_response r = response(200, "{\"status\":1}");

	batch_copies("purchase.json", evs, 2, &b, items);
	pxd_adapter_posthog.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[1].delivery, PXD_DELIVERY_OK);
	r = response(400, "{\"type\":\"validation_error\",\"code\":\"invalid_payload\"}");
	pxd_adapter_posthog.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_true(pxd_bisect_wanted(out, 2));
	/* A bad key is the destination's: no bisection. */
	r = response(401, "{\"type\":\"authentication_error\",\"code\":\"invalid_api_key\"}");
	pxd_adapter_posthog.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_PERMANENT);
	assert_false(pxd_bisect_wanted(out, 2));
	assert_non_null(strstr(out[0].reason, "invalid_api_key"));
	r = response(503, "");
	pxd_adapter_posthog.classify(&((struct tdest *)*state)->dest, &b, &r, out);
	assert_int_equal(out[0].delivery, PXD_DELIVERY_RETRY);
	batch_copies_free(evs, 2, &b);
}

static void test_init_refuses_bad_keys(void **state)
{
	struct tdest *t = posthog_dest();

	(void)state;
	snprintf(t->conf.kv[1].value, sizeof(t->conf.kv[1].value), "phx_personal");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "api_key: not a project API key (phc_...)"));
	tdest_free(t);
	t = posthog_dest();
	tdest_set(t, "historical_migration", "1");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, ":13: historical_migration: \"1\" is not a boolean"));
	tdest_free(t);
	t = posthog_dest();
	snprintf(t->conf.kv[0].value, sizeof(t->conf.kv[0].value), "eu.i.posthog.com");
	assert_int_equal(tdest_init(t), -EINVAL);
	assert_non_null(strstr(t->err, "api_base: \"eu.i.posthog.com\" is not scheme://host"));
	tdest_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_purchase_uuid_from_event_id),
		cmocka_unit_test(test_golden_view_custom),
		cmocka_unit_test(test_golden_pageview_keeps_a_uuid_event_id_anonymous),
		cmocka_unit_test(test_golden_identify_groupidentify_create_alias),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_consent_analytics_storage),
		cmocka_unit_test(test_classify_answers),
		cmocka_unit_test(test_init_refuses_bad_keys),
	};

	return cmocka_run_group_tests_name("posthog", tests, setup, teardown);
}
