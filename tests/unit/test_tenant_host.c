// SPDX-License-Identifier: MIT
/* Host header to tenant: exact names, wildcards, ports, case, IPv6 literals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "daemon/tenant/tenant.h"

static struct pxd_conf_tenants tenants;

static bool match(const char *pattern, const char *host)
{
	return pxd_tenant_host_match(pattern, pxd_sv_cstr(host));
}

static void test_exact_names_ignore_case_and_an_unasked_port(void **state)
{
	(void)state;
	assert_true(match("t.shop.example", "t.shop.example"));
	assert_true(match("t.shop.example", "T.Shop.EXAMPLE"));
	assert_true(match("t.shop.example", "t.shop.example:8080"));
	assert_false(match("t.shop.example", "t.shop.example.evil"));
	assert_false(match("t.shop.example", "x.t.shop.example"));
	assert_false(match("t.shop.example", "shop.example"));
	assert_false(match("t.shop.example", ""));
}

static void test_a_port_in_the_pattern_must_be_the_hosts(void **state)
{
	(void)state;
	assert_true(match("t.shop.example:8443", "t.shop.example:8443"));
	assert_false(match("t.shop.example:8443", "t.shop.example"));
	assert_false(match("t.shop.example:8443", "t.shop.example:443"));
	assert_false(match("t.shop.example:8443", "t.shop.example:84430"));
}

static void test_wildcards_match_any_depth_below_never_the_name(void **state)
{
	(void)state;
	assert_true(match("*.shop.example", "a.shop.example"));
	assert_true(match("*.shop.example", "a.b.SHOP.example:80"));
	assert_false(match("*.shop.example", "shop.example"));
	assert_false(match("*.shop.example", "evilshop.example"));
	assert_false(match("*.shop.example", "a.shop.example.evil"));
}

static void test_ipv6_literals_keep_their_colons(void **state)
{
	(void)state;
	assert_true(match("[::1]", "[::1]:8080"));
	assert_true(match("[::1]:8080", "[::1]:8080"));
	assert_false(match("[::1]:8080", "[::1]"));
	assert_false(match("[::1]", "[::2]"));
}

static void add(const char *name, const char *hosts)
{
	char err[256];
	struct pxd_conf_tenant *t = pxd_conf_tenant_add(&tenants, name, 1, err, sizeof(err));

	assert_non_null(t);
	assert_int_equal(pxd_conf_tenant_set(t, "hosts", hosts, err, sizeof(err)), 0);
}

static void test_exact_names_win_over_an_earlier_wildcard(void **state)
{
	(void)state;
	memset(&tenants, 0, sizeof(tenants));
	add("wild", "*.shop.example");
	add("exact", "t.shop.example, other.example:8443");
	assert_string_equal(pxd_tenant_find(&tenants, pxd_sv_cstr("t.shop.example"))->name,
			    "exact");
	assert_string_equal(pxd_tenant_find(&tenants, pxd_sv_cstr("u.shop.example"))->name, "wild");
	assert_string_equal(pxd_tenant_find(&tenants, pxd_sv_cstr("other.example:8443"))->name,
			    "exact");
	assert_null(pxd_tenant_find(&tenants, pxd_sv_cstr("other.example")));
	assert_null(pxd_tenant_find(&tenants, pxd_sv_cstr("shop.example")));
	assert_null(pxd_tenant_find(&tenants, PXD_SV_NULL));
}

static void test_bad_host_patterns_say_what_to_write(void **state)
{
	char err[256];
	struct pxd_conf_tenant *t;

	(void)state;
	memset(&tenants, 0, sizeof(tenants));
	t = pxd_conf_tenant_add(&tenants, "t", 1, err, sizeof(err));
	assert_int_equal(pxd_conf_tenant_set(t, "hosts", "a.*.example", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "*.shop.example"));
	assert_int_equal(pxd_conf_tenant_set(t, "hosts", "a b", err, sizeof(err)), -EINVAL);
	assert_int_equal(
	    pxd_conf_tenant_set(t, "hosts", "A.Example, *.b.example:81", err, sizeof(err)), 0);
	assert_string_equal(t->hosts[0], "a.example");
	assert_int_equal(t->nhosts, 2);
	assert_null(pxd_conf_tenant_add(&tenants, "t", 9, err, sizeof(err)));
	assert_non_null(strstr(err, "line 1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_names_ignore_case_and_an_unasked_port),
		cmocka_unit_test(test_a_port_in_the_pattern_must_be_the_hosts),
		cmocka_unit_test(test_wildcards_match_any_depth_below_never_the_name),
		cmocka_unit_test(test_ipv6_literals_keep_their_colons),
		cmocka_unit_test(test_exact_names_win_over_an_earlier_wildcard),
		cmocka_unit_test(test_bad_host_patterns_say_what_to_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
