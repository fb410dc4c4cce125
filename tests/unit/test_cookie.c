// SPDX-License-Identifier: MIT
/* The first-party id cookie: reading, the id format, Domain by the Public Suffix List, Set-Cookie.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "daemon/tenant/cookie.h"

static const char *domain(const char *host)
{
	static char out[256];

	pxd_cookie_domain(pxd_sv_cstr(host), out, sizeof(out));
	return out;
}

static void test_domain_is_the_registrable_one(void **state)
{
	(void)state;
	assert_string_equal(domain("a.b.shop.co.uk"), "shop.co.uk");
	assert_string_equal(domain("t.shop.example.com:8443"), "example.com");
	assert_string_equal(domain("T.Shop.Example.COM"), "example.com");
	assert_string_equal(domain("shop.github.io"), "shop.github.io");
	assert_string_equal(domain("a.b.shop.github.io"), "shop.github.io");
}

static void test_host_only_for_localhost_ips_and_public_suffixes(void **state)
{
	(void)state;
	assert_string_equal(domain("localhost"), "");
	assert_string_equal(domain("localhost:8080"), "");
	assert_string_equal(domain("127.0.0.1:8080"), "");
	assert_string_equal(domain("[::1]:8080"), "");
	assert_string_equal(domain("co.uk"), "");
	assert_string_equal(domain("github.io"), "");
	assert_string_equal(domain(""), "");
}

static void test_cookie_header_values(void **state)
{
	struct pxd_sv h = pxd_sv_cstr("a=1; _pxid=abc; _pxid2=x;b=2");

	(void)state;
	assert_true(pxd_sv_eq_lit(pxd_cookie_get(h, "_pxid"), "abc"));
	assert_true(pxd_sv_eq_lit(pxd_cookie_get(h, "b"), "2"));
	assert_true(pxd_sv_eq_lit(pxd_cookie_get(h, "a"), "1"));
	assert_null(pxd_cookie_get(h, "_px").p);
	assert_null(pxd_cookie_get(PXD_SV_NULL, "_pxid").p);
}

static void test_id_values_are_hex_dot_seconds(void **state)
{
	struct pxd_sv id;
	uint64_t t = 0;

	(void)state;
	assert_true(pxd_cookie_id_parse(pxd_sv_cstr("0123456789abcdef0123456789abcdef.1764000000"),
					&id, &t));
	assert_int_equal(id.n, 32);
	assert_int_equal(t, 1764000000);
	assert_false(
	    pxd_cookie_id_parse(pxd_sv_cstr("0123456789abcdef0123456789abcdeF.1"), &id, &t));
	assert_false(pxd_cookie_id_parse(pxd_sv_cstr("0123456789abcdef0123456789abcdef"), &id, &t));
	assert_false(
	    pxd_cookie_id_parse(pxd_sv_cstr("0123456789abcdef0123456789abcdef.1x"), &id, &t));
	assert_false(pxd_cookie_id_parse(pxd_sv_cstr("short.1"), &id, &t));
}

static void test_set_cookie_line(void **state)
{
	char out[PXD_COOKIE_LINE_MAX];
	struct pxd_sv id = pxd_sv_cstr("0123456789abcdef0123456789abcdef");

	(void)state;
	assert_int_not_equal(
	    pxd_cookie_line(out, sizeof(out), "_pxid", id, 7, 34560000, "shop.co.uk", true), 0);
	assert_string_equal(out, "Set-Cookie: _pxid=0123456789abcdef0123456789abcdef.7; "
				 "Max-Age=34560000; Path=/; Domain=shop.co.uk; Secure; HttpOnly; "
				 "SameSite=Lax\r\n");
	pxd_cookie_line(out, sizeof(out), "_pxid", id, 7, 60, "", false);
	assert_string_equal(out,
			    "Set-Cookie: _pxid=0123456789abcdef0123456789abcdef.7; Max-Age=60; "
			    "Path=/; HttpOnly; SameSite=Lax\r\n");
	assert_int_equal(pxd_cookie_line(out, 20, "_pxid", id, 7, 60, "", false), 0);
}

static void test_platform_cookie_line_is_not_http_only(void **state)
{
	const struct pxd_cookie_attrs a = { 34560000, "shop.example", true, false };
	const struct pxd_cookie_attrs host_only = { 60, "", false, false };
	char out[PXD_COOKIE_LINE_MAX];

	(void)state;
	assert_int_not_equal(pxd_cookie_line_value(out, sizeof(out), "_fbp",
						   pxd_sv_cstr("fb.1.1596403881668.1116446470"),
						   &a),
			     0);
	assert_string_equal(out,
			    "Set-Cookie: _fbp=fb.1.1596403881668.1116446470; Max-Age=34560000; "
			    "Path=/; Domain=shop.example; Secure; SameSite=Lax\r\n");
	pxd_cookie_line_value(out, sizeof(out), "_fbc", pxd_sv_cstr("fb.1.2.IwAR"), &host_only);
	assert_string_equal(out,
			    "Set-Cookie: _fbc=fb.1.2.IwAR; Max-Age=60; Path=/; SameSite=Lax\r\n");
	assert_int_equal(pxd_cookie_line_value(out, 24, "_fbc", pxd_sv_cstr("fb.1.2.IwAR"), &a), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_is_the_registrable_one),
		cmocka_unit_test(test_host_only_for_localhost_ips_and_public_suffixes),
		cmocka_unit_test(test_cookie_header_values),
		cmocka_unit_test(test_id_values_are_hex_dot_seconds),
		cmocka_unit_test(test_set_cookie_line),
		cmocka_unit_test(test_platform_cookie_line_is_not_http_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
