// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "daemon/delivery/redact.h"
#include "payload.h"

static void test_credential_runs_are_redacted(void **state)
{
	char s[256];

	(void)state;
	snprintf(s, sizeof(s), "Authorization: Bearer EAABsbCS1iHgBAZA7ZCq9ZBm0xQ2x; ok");
	assert_int_equal(pxd_redact(s), strlen("Authorization: Bearer [redacted]; ok"));
	assert_string_equal(s, "Authorization: Bearer [redacted]; ok");
	snprintf(s, sizeof(s),
		 "sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	pxd_redact(s);
	assert_string_equal(s, "[redacted]");
	/* Words, numbers and short ids stay readable. */
	snprintf(s, sizeof(s),
		 "Invalid parameter: event_time 1732299970 is too old (code 2804003)");
	pxd_redact(s);
	assert_string_equal(s,
			    "Invalid parameter: event_time 1732299970 is too old (code 2804003)");
}

/* An echoing receiver: the reason a delivery gets is redacted as the DLQ response is. */
static void test_reason_quoting_an_echo_is_redacted(void **state)
{
	static const char body[] =
	    "{\"echo\":{\"authorization\":\"Bearer sk_live_51Hx9aZ2eZvKYlo2C\"}}";
	struct pxd_response resp = { .status = 400, .body = body, .len = sizeof(body) - 1 };
	struct pxd_outcome out[1];

	(void)state;
	pxd_payload_classify_http("webhook", &resp, out, 1);
	assert_non_null(strstr(out[0].reason, "sk_live_51Hx9aZ2eZvKYlo2C"));
	pxd_redact(out[0].reason);
	assert_null(strstr(out[0].reason, "sk_live"));
	assert_non_null(strstr(out[0].reason, "Bearer [redacted]"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_credential_runs_are_redacted),
		cmocka_unit_test(test_reason_quoting_an_echo_is_redacted),
	};

	return cmocka_run_group_tests_name("redact", tests, NULL, NULL);
}
