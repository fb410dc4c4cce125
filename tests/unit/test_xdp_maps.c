// SPDX-License-Identifier: MIT
/*
 * test_xdp_maps.c - the parts of daemon/xdp/xdp_maps.c that need no BPF: CIDR
 * text, socket addresses, labels. The map operations run against the real
 * program in tests/xdp/test_xdp_filter.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "xdp_maps.h"

static void round_trip(const char *in, const char *want)
{
	char out[PXD_XDP_CIDR_STRLEN];
	struct pxd_conf_cidr c;

	assert_int_equal(pxd_xdp_cidr_parse(in, &c), 0);
	pxd_xdp_cidr_format(&c, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_cidr_parse_and_format(void **state)
{
	(void)state;
	round_trip("192.0.2.0/24", "192.0.2.0/24");
	round_trip("192.0.2.7", "192.0.2.7/32");
	round_trip("0.0.0.0/0", "0.0.0.0/0");
	round_trip("2001:db8::/32", "2001:db8::/32");
	round_trip("2001:db8::1", "2001:db8::1/128");
	round_trip("::/0", "::/0");
	round_trip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
		   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

/* One CIDR grammar (conf_value.h): bits past the prefix are refused, as in trusted_proxies. */
static void test_cidr_host_bits_are_refused(void **state)
{
	struct pxd_conf_cidr c;

	(void)state;
	assert_int_equal(pxd_xdp_cidr_parse("10.1.2.3/8", &c), -EINVAL);
	assert_int_equal(pxd_xdp_cidr_parse("192.0.2.255/25", &c), -EINVAL);
	assert_int_equal(pxd_xdp_cidr_parse("2001:db8:abcd:ef01::1/33", &c), -EINVAL);
	round_trip("192.0.2.128/25", "192.0.2.128/25");
}

static void test_cidr_refusals(void **state)
{
	static const char *const bad[] = {
		"",
		"/8",
		"10.0.0.0/",
		"10.0.0.0/33",
		"10.0.0.0/-1",
		"10.0.0.0/8x",
		"10.0.0/8",
		"10.0.0.256",
		"2001:db8::/129",
		"2001:db8:::1",
		"example.com",
		"10.0.0.0 /8",
		"10.0.0.0/+8",
		"[2001:db8::1]",
		"1111111111111111111111111111111111111111111111111/8",
	};
	struct pxd_conf_cidr c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pxd_xdp_cidr_parse(bad[i], &c) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void test_cidr_from_sockaddr(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char out[PXD_XDP_CIDR_STRLEN];
	struct pxd_conf_cidr c;

	(void)state;
	inet_pton(AF_INET, "192.0.2.9", &sin.sin_addr);
	assert_int_equal(pxd_xdp_cidr_from_sockaddr((struct sockaddr *)&sin, &c), 0);
	pxd_xdp_cidr_format(&c, out, sizeof(out));
	assert_string_equal(out, "192.0.2.9/32");

	/* A v6 client blocks its /64. */
	inet_pton(AF_INET6, "2001:db8:1:2:3:4:5:6", &sin6.sin6_addr);
	assert_int_equal(pxd_xdp_cidr_from_sockaddr((struct sockaddr *)&sin6, &c), 0);
	pxd_xdp_cidr_format(&c, out, sizeof(out));
	assert_string_equal(out, "2001:db8:1:2::/64");

	/* A dual-stack socket reports v4 clients as v4-mapped: XDP sees them as v4. */
	inet_pton(AF_INET6, "::ffff:198.51.100.4", &sin6.sin6_addr);
	assert_int_equal(pxd_xdp_cidr_from_sockaddr((struct sockaddr *)&sin6, &c), 0);
	pxd_xdp_cidr_format(&c, out, sizeof(out));
	assert_string_equal(out, "198.51.100.4/32");

	assert_int_equal(pxd_xdp_cidr_from_sockaddr((struct sockaddr *)&sun, &c), -EAFNOSUPPORT);
}

static void test_counter_labels(void **state)
{
	static const char *const want[PXD_XDP_COUNTER_COUNT][2] = {
		{ "pass", "not_service" },	{ "pass", "malformed" },
		{ "pass", "allowed" },		{ "pass", "passed" },
		{ "drop", "denied_static" },	{ "drop", "denied_dynamic" },
		{ "drop", "rate_limited_syn" }, { "drop", "rate_limited" },
	};

	(void)state;
	for (int i = 0; i < PXD_XDP_COUNTER_COUNT; i++) {
		assert_string_equal(pxd_xdp_counter_verdict((enum pxd_xdp_counter)i), want[i][0]);
		assert_string_equal(pxd_xdp_counter_reason((enum pxd_xdp_counter)i), want[i][1]);
	}
	assert_string_equal(pxd_xdp_counter_reason(PXD_XDP_COUNTER_COUNT), "?");
	assert_string_equal(pxd_xdp_origin_name(PXD_XDP_ORIGIN_FILE), "file");
	assert_string_equal(pxd_xdp_origin_name(PXD_XDP_ORIGIN_MANUAL), "manual");
	assert_string_equal(pxd_xdp_origin_name(PXD_XDP_ORIGIN_BOT), "bot");
	assert_string_equal(pxd_xdp_origin_name(PXD_XDP_ORIGIN_COUNT), "?");
}

static void test_closed_maps_are_safe(void **state)
{
	struct pxd_xdp_maps m;
	const char *name;

	(void)state;
	pxd_xdp_maps_init(&m);
	pxd_xdp_maps_close(&m);
	assert_int_equal(pxd_xdp_maps_nth(&m, 0, &name), -1);
	assert_string_equal(name, PXD_XDP_MAP_ALLOW_V4);
	assert_int_equal(pxd_xdp_maps_nth(&m, 10, &name), -1);
	assert_string_equal(name, PXD_XDP_MAP_CONFIG);
	assert_int_equal(pxd_xdp_maps_nth(&m, 11, &name), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse_and_format),
		cmocka_unit_test(test_cidr_host_bits_are_refused),
		cmocka_unit_test(test_cidr_refusals),
		cmocka_unit_test(test_cidr_from_sockaddr),
		cmocka_unit_test(test_counter_labels),
		cmocka_unit_test(test_closed_maps_are_safe),
	};

	return cmocka_run_group_tests_name("xdp_maps", tests, NULL, NULL);
}
