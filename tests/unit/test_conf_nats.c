// SPDX-License-Identifier: MIT
/* The [nats] keys (daemon/nats/conf_nats.c) and subject tokens (daemon/nats/nats_link.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "conf_nats.h"
#include "nats_link.h"

static void test_defaults(void **state)
{
	struct pxd_conf_nats c;

	(void)state;
	pxd_conf_nats_defaults(&c);
	assert_int_equal(c.nservers, 1);
	assert_string_equal(c.servers[0], "nats://127.0.0.1:4222");
	assert_string_equal(c.stream, "PIXELD");
	assert_string_equal(c.subject, "pixeld");
	assert_int_equal(c.replicas, 1);
	assert_int_equal(c.duplicate_window_s, 120);
	assert_int_equal(c.ack_wait_ms, 30000);
	assert_int_equal(c.max_deliver, -1);
	assert_int_equal(c.nraw, 0);
	assert_int_equal(pxd_conf_nats_check(&c, NULL, 0), 0);
}

static void test_values_and_raw_keys(void **state)
{
	struct pxd_conf_nats c;
	char err[512];

	(void)state;
	pxd_conf_nats_defaults(&c);
	assert_int_equal(pxd_conf_nats_set(&c, "servers",
					   "nats://10.0.0.1:4222, tls://10.0.0.2:4222", err,
					   sizeof(err)),
			 0);
	assert_int_equal(c.nservers, 2);
	assert_string_equal(c.servers[1], "tls://10.0.0.2:4222");
	assert_int_equal(pxd_conf_nats_set(&c, "replicas", "3", err, sizeof(err)), 0);
	assert_int_equal(pxd_conf_nats_set(&c, "ack_wait", "5s", err, sizeof(err)), 0);
	assert_int_equal(c.ack_wait_ms, 5000);
	assert_int_equal(pxd_conf_nats_set(&c, "duplicate_window", "10m", err, sizeof(err)), 0);
	assert_int_equal(c.duplicate_window_s, 600);
	assert_int_equal(pxd_conf_nats_set(&c, "max_deliver", "7", err, sizeof(err)), 0);
	assert_int_equal(c.max_deliver, 7);
	assert_int_equal(pxd_conf_nats_set(&c, "subject", "shop.events", err, sizeof(err)), 0);
	/* Written keys are kept as written, once each, for nats destinations. */
	assert_int_equal(pxd_conf_nats_set(&c, "replicas", "5", err, sizeof(err)), 0);
	assert_int_equal(c.nraw, 6);
	assert_string_equal(c.raw[1].key, "replicas");
	assert_string_equal(c.raw[1].value, "5");
}

static void test_refusals_quote_the_value(void **state)
{
	static const struct {
		const char *key;
		const char *value;
		const char *says;
	} cases[] = {
		{ "servers", "10.0.0.1:4222", "\"10.0.0.1:4222\"" },
		{ "servers", " , ", "is empty" },
		{ "replicas", "0", "\"0\" is not a number from 1 to 5" },
		{ "replicas", "6", "from 1 to 5" },
		{ "ack_wait", "30", "has no unit" },
		{ "ack_wait", "2h", "in range" },
		{ "stream", "PIX.ELD", "\"PIX.ELD\"" },
		{ "subject", "a.>", "\"a.>\"" },
		{ "subject", ".a", "inner dots" },
		{ "max_deliver", "0", "\"0\"" },
		{ "password", "env:PXD_TEST_NO_SUCH_VARIABLE", "PXD_TEST_NO_SUCH_VARIABLE" },
	};
	struct pxd_conf_nats c;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pxd_conf_nats_defaults(&c);
		err[0] = '\0';
		assert_int_equal(
		    pxd_conf_nats_set(&c, cases[i].key, cases[i].value, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].says))
			fail_msg("%s = %s: \"%s\" lacks \"%s\"", cases[i].key, cases[i].value, err,
				 cases[i].says);
	}
	pxd_conf_nats_defaults(&c);
	assert_int_equal(pxd_conf_nats_set(&c, "url", "x", err, sizeof(err)), -ENOENT);
}

static void test_whole_section_checks(void **state)
{
	struct pxd_conf_nats c;
	char err[512];

	(void)state;
	pxd_conf_nats_defaults(&c);
	assert_int_equal(pxd_conf_nats_set(&c, "user", "pixeld", err, sizeof(err)), 0);
	assert_int_equal(pxd_conf_nats_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no password"));
	pxd_conf_nats_defaults(&c);
	assert_int_equal(pxd_conf_nats_set(&c, "creds", "/a", err, sizeof(err)), 0);
	assert_int_equal(pxd_conf_nats_set(&c, "nkey_seed", "/b", err, sizeof(err)), 0);
	assert_int_equal(pxd_conf_nats_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "keep one"));
}

static void test_subject_tokens(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(pxd_nats_subject_token(out, sizeof(out), "Purchase", 8), 8);
	assert_string_equal(out, "Purchase");
	pxd_nats_subject_token(out, sizeof(out), "a.b *>\tc\x7f", 9);
	assert_string_equal(out, "a_b____c_");
	assert_int_equal(pxd_nats_subject_token(out, sizeof(out), "", 0), 1);
	assert_string_equal(out, "_");
	assert_int_equal(pxd_nats_subject_token(out, 4, "abcdef", 6), 3);
	assert_string_equal(out, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values_and_raw_keys),
		cmocka_unit_test(test_refusals_quote_the_value),
		cmocka_unit_test(test_whole_section_checks),
		cmocka_unit_test(test_subject_tokens),
	};

	return cmocka_run_group_tests_name("conf_nats", tests, NULL, NULL);
}
