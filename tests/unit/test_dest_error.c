// SPDX-License-Identifier: MIT
/* A destination's last error for the console: none at first, the latest kept, redacted, cut to
 * the caller's buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dispatcher.h"

static void test_none_then_the_latest_redacted(void **state)
{
	struct pxd_dest_error e;
	char out[256];
	char small[8];
	int64_t at = -1;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_false(pxd_dest_error_read(&e, &at, out, sizeof(out)));
	pxd_dest_error_note(&e, 1764860000000, "Couldn't connect to server");
	pxd_dest_error_note(&e, 1764860001000,
			    "meta: 190: Invalid OAuth access token EAAGm0PX4ZCpsBAabc123def456");
	assert_true(pxd_dest_error_read(&e, &at, out, sizeof(out)));
	assert_int_equal(at, 1764860001000);
	assert_string_equal(out, "meta: 190: Invalid OAuth access token [redacted]");
	assert_int_equal(e.seq % 2, 0);
	assert_true(pxd_dest_error_read(&e, &at, small, sizeof(small)));
	assert_string_equal(small, "meta: 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none_then_the_latest_redacted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
