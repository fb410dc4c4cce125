// SPDX-License-Identifier: MIT
#include "consent.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "adapter.h"

static json_t *event(const char *consent_json)
{
	json_error_t e;
	char text[512];
	json_t *ev;

	snprintf(text, sizeof(text),
		 "{\"event_id\":\"e-1\",\"event\":\"Purchase\",\"ts\":1732300000123%s%s}",
		 consent_json ? ",\"consent\":" : "", consent_json ? consent_json : "");
	ev = json_loads(text, 0, &e);
	assert_non_null(ev);
	return ev;
}

/* Runs <consent_json> through allows() for an ad destination. */
static bool ad_allows(const char *consent_json, const char **reason)
{
	json_t *ev = event(consent_json);
	bool ok = pxd_consent_allows(ev, PXD_ADAPTER_AD, reason);

	json_decref(ev);
	return ok;
}

static void test_ad_destinations_skip_denied_ad_use(void **state)
{
	const char *reason = "unset";

	(void)state;
	assert_false(
	    ad_allows("{\"ad_storage\":\"denied\",\"ad_user_data\":\"granted\"}", &reason));
	assert_string_equal(reason, "ad_storage_denied");
	assert_false(
	    ad_allows("{\"ad_storage\":\"granted\",\"ad_user_data\":\"denied\"}", &reason));
	assert_string_equal(reason, "ad_user_data_denied");
	/* Both denied: one reason, so each event is counted once. */
	assert_false(ad_allows("{\"ad_user_data\":\"denied\",\"ad_storage\":\"denied\"}", &reason));
	assert_string_equal(reason, "ad_storage_denied");
	assert_false(ad_allows("{\"ad_user_data\":\"denied\"}", NULL));
}

static void test_ad_destinations_take_granted_or_unstated_consent(void **state)
{
	static const char *const allowed[] = {
		NULL,
		"{}",
		"{\"ad_storage\":\"granted\",\"ad_user_data\":\"granted\"}",
		/* Only ad_storage and ad_user_data gate sending. */
		"{\"ad_personalization\":\"denied\",\"analytics_storage\":\"denied\"}",
		/* Ingest refuses other values; here they do not deny. */
		"{\"ad_storage\":\"DENIED\",\"ad_user_data\":false}",
		"\"denied\"",
	};
	const char *reason = "unset";

	(void)state;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		reason = "unset";
		assert_true(ad_allows(allowed[i], &reason));
		assert_null(reason);
	}
}

static void test_other_destinations_take_every_event(void **state)
{
	json_t *ev = event("{\"ad_storage\":\"denied\",\"ad_user_data\":\"denied\"}");
	const char *reason = "unset";

	(void)state;
	assert_true(pxd_consent_allows(ev, 0, &reason)); /* ga4, webhook */
	assert_null(reason);
	assert_true(pxd_consent_allows(ev, PXD_ADAPTER_LOCAL, &reason)); /* jsonl */
	assert_int_equal(pxd_consent_check(ev, PXD_ADAPTER_LOCAL), PXD_CONSENT_VERDICT_ALLOWED);
	assert_int_equal(pxd_consent_check(ev, PXD_ADAPTER_AD),
			 PXD_CONSENT_VERDICT_AD_STORAGE_DENIED);
	json_decref(ev);
}

static void test_verdict_labels(void **state)
{
	(void)state;
	assert_string_equal(pxd_consent_reason(PXD_CONSENT_VERDICT_ALLOWED), "allowed");
	assert_string_equal(pxd_consent_reason(PXD_CONSENT_VERDICT_AD_STORAGE_DENIED),
			    "ad_storage_denied");
	assert_string_equal(pxd_consent_reason(PXD_CONSENT_VERDICT_AD_USER_DATA_DENIED),
			    "ad_user_data_denied");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ad_destinations_skip_denied_ad_use),
		cmocka_unit_test(test_ad_destinations_take_granted_or_unstated_consent),
		cmocka_unit_test(test_other_destinations_take_every_event),
		cmocka_unit_test(test_verdict_labels),
	};

	return cmocka_run_group_tests_name("consent", tests, NULL, NULL);
}
