// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf_email.h"

static int setup(void **state)
{
	struct pxd_conf_email *c = malloc(sizeof(*c));

	assert_non_null(c);
	pxd_conf_email_defaults(c);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void test_defaults(void **state)
{
	struct pxd_conf_email *c = *state;
	char err[256];

	assert_false(c->enabled);
	assert_int_equal(c->nkeys, 0);
	assert_int_equal(c->default_ttl_s, 400 * 86400);
	assert_int_equal(c->first_open_window_s, 30 * 86400);
	assert_int_equal(c->dedup_slots, 1048576);
	assert_int_equal(c->scanner_window_s, 60);
	assert_string_equal(c->base_url, "");
	assert_string_equal(c->state_file, "");
	assert_int_equal(pxd_conf_email_check(c, err, sizeof(err)), 0);
}

static void test_keys_list_in_order(void **state)
{
	struct pxd_conf_email *c = *state;
	char err[256];

	assert_int_equal(
	    pxd_conf_email_set(c, "keys", " k2026:/etc/pixeld/k2026.key ,k_2025-b:rel/path:x.key,",
			       err, sizeof(err)),
	    0);
	assert_true(c->enabled);
	assert_int_equal(c->nkeys, 2);
	assert_string_equal(c->keys[0].kid, "k2026");
	assert_string_equal(c->keys[0].path, "/etc/pixeld/k2026.key");
	assert_string_equal(c->keys[1].kid, "k_2025-b");
	assert_string_equal(c->keys[1].path, "rel/path:x.key");
	/* Setting the key again replaces the list; an empty list turns tokens off. */
	assert_int_equal(pxd_conf_email_set(c, "keys", "k3:/k3", err, sizeof(err)), 0);
	assert_int_equal(c->nkeys, 1);
	assert_int_equal(pxd_conf_email_set(c, "keys", "", err, sizeof(err)), 0);
	assert_int_equal(c->nkeys, 0);
	assert_false(c->enabled);
}

static void test_keys_errors_say_what_to_write(void **state)
{
	static const struct {
		const char *value;
		const char *want;
	} cases[] = {
		{ "/etc/k.key", "is not kid:file" },
		{ ":/etc/k.key", "must be 1..8 characters" },
		{ "toolongkid:/k", "must be 1..8 characters" },
		{ "k.1:/k", "may hold only" },
		{ "k1:", "file path must be" },
		{ "k1:/a, k1:/b", "listed twice" },
		{ "a:/1,b:/2,c:/3,d:/4,e:/5,f:/6,g:/7,h:/8,i:/9", "more than 8 keys" },
	};
	struct pxd_conf_email *c = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";

		assert_int_equal(pxd_conf_email_set(c, "keys", cases[i].value, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, cases[i].want))
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", cases[i].value, err, cases[i].want);
	}
	assert_int_equal(c->nkeys, 0);
	assert_false(c->enabled);
}

static void test_base_url_is_trimmed_and_checked(void **state)
{
	struct pxd_conf_email *c = *state;
	char err[256];

	assert_int_equal(
	    pxd_conf_email_set(c, "base_url", "https://t.example.com//", err, sizeof(err)), 0);
	assert_string_equal(c->base_url, "https://t.example.com");
	assert_int_equal(
	    pxd_conf_email_set(c, "base_url", "http://127.0.0.1:8080/px", err, sizeof(err)), 0);
	assert_string_equal(c->base_url, "http://127.0.0.1:8080/px");
	assert_int_equal(pxd_conf_email_set(c, "base_url", "ftp://x", err, sizeof(err)), -EINVAL);
	assert_int_equal(pxd_conf_email_set(c, "base_url", "https://", err, sizeof(err)), -EINVAL);
	assert_int_equal(pxd_conf_email_set(c, "base_url", "https://a\"b", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "percent-encode"));
	assert_int_equal(pxd_conf_email_set(c, "base_url", "https://a b", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(pxd_conf_email_set(c, "base_url", "https://a<b>", err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(c->base_url, "http://127.0.0.1:8080/px");
	/* A base URL without keys can mint nothing. */
	assert_int_equal(pxd_conf_email_check(c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "email.keys"));
	assert_int_equal(pxd_conf_email_set(c, "keys", "k1:/k", err, sizeof(err)), 0);
	assert_int_equal(pxd_conf_email_check(c, err, sizeof(err)), 0);
}

static void test_durations(void **state)
{
	struct pxd_conf_email *c = *state;
	char err[256];

	/* The one rule (conf_value.h): a bare number other than 0 has no unit. */
	assert_int_equal(pxd_conf_email_set(c, "scanner_window", "45", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "has no unit"));
	assert_int_equal(pxd_conf_email_set(c, "scanner_window", "45s", err, sizeof(err)), 0);
	assert_int_equal(c->scanner_window_s, 45);
	assert_int_equal(pxd_conf_email_set(c, "scanner_window", "1500ms", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(pxd_conf_email_set(c, "default_ttl", "90m", err, sizeof(err)), 0);
	assert_int_equal(c->default_ttl_s, 5400);
	assert_int_equal(pxd_conf_email_set(c, "default_ttl", "3650d", err, sizeof(err)), 0);
	assert_int_equal(pxd_conf_email_set(c, "default_ttl", "3651d", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "3651d"));
	assert_int_equal(pxd_conf_email_set(c, "default_ttl", "30m", err, sizeof(err)), -EINVAL);
	assert_int_equal(pxd_conf_email_set(c, "first_open_window", "7d", err, sizeof(err)), 0);
	assert_int_equal(c->first_open_window_s, 7 * 86400);
	assert_int_equal(pxd_conf_email_set(c, "first_open_window", "30s", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(pxd_conf_email_set(c, "scanner_window", "0", err, sizeof(err)), 0);
	assert_int_equal(pxd_conf_email_set(c, "scanner_window", "2h", err, sizeof(err)), -EINVAL);
}

static void test_slots_tenant_state_and_unknown_keys(void **state)
{
	struct pxd_conf_email *c = *state;
	char err[256];

	assert_int_equal(pxd_conf_email_set(c, "dedup_slots", "65536", err, sizeof(err)), 0);
	assert_int_equal(c->dedup_slots, 65536);
	assert_int_equal(pxd_conf_email_set(c, "dedup_slots", "65535", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "power of two"));
	assert_int_equal(pxd_conf_email_set(c, "dedup_slots", "512", err, sizeof(err)), -EINVAL);
	assert_int_equal(pxd_conf_email_set(c, "dedup_slots", "134217728", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(pxd_conf_email_set(c, "dedup_slots", "1e6", err, sizeof(err)), -EINVAL);
	assert_int_equal(pxd_conf_email_set(c, "tenant", "shop.example_1", err, sizeof(err)), 0);
	assert_string_equal(c->tenant, "shop.example_1");
	assert_int_equal(pxd_conf_email_set(c, "tenant", "a b", err, sizeof(err)), -EINVAL);
	assert_string_equal(c->tenant, "shop.example_1");
	assert_int_equal(
	    pxd_conf_email_set(c, "state_file", "/var/lib/pixeld/fo.state", err, sizeof(err)), 0);
	assert_string_equal(c->state_file, "/var/lib/pixeld/fo.state");
	assert_int_equal(pxd_conf_email_set(c, "enabled", "yes", err, sizeof(err)), -ENOENT);
	assert_int_equal(pxd_conf_email_set(c, "key", "k:/f", err, sizeof(err)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_list_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_errors_say_what_to_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_base_url_is_trimmed_and_checked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_durations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots_tenant_state_and_unknown_keys, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("conf_email", tests, NULL, NULL);
}
