// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "conf_value.h"

static void test_durations_need_a_unit_except_zero(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint64_t ms;
	} cases[] = {
		{ "0", 0, 0 },
		{ "0ms", 0, 0 },
		{ "500ms", 0, 500 },
		{ "10s", 0, 10000 },
		{ "5m", 0, 300000 },
		{ "5min", 0, 300000 },
		{ "2h", 0, 7200000 },
		{ "7d", 0, 604800000 },
		{ "60", -EDOM, 0 },
		{ "1000", -EDOM, 0 },
		{ "99999999999999999999999", -EDOM, 0 },
		{ "", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },
		{ "10S", -EINVAL, 0 },
		{ "1.5s", -EINVAL, 0 },
		{ "60 s", -EINVAL, 0 },
		{ "-1s", -EINVAL, 0 },
		{ "1w", -EINVAL, 0 },
		{ "1dd", -EINVAL, 0 },
		{ "5124095576030431h", -ERANGE, 0 },
	};
	uint64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ms = 12345;
		assert_int_equal(pxd_conf_value_duration_ms(cases[i].text, &ms), cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(ms, cases[i].ms);
	}
}

static void test_whole_seconds(void **state)
{
	uint64_t s;

	(void)state;
	assert_int_equal(pxd_conf_value_duration_s("400d", &s), 0);
	assert_int_equal(s, 400ull * 86400);
	assert_int_equal(pxd_conf_value_duration_s("2000ms", &s), 0);
	assert_int_equal(s, 2);
	assert_int_equal(pxd_conf_value_duration_s("1500ms", &s), -EINVAL);
	assert_int_equal(pxd_conf_value_duration_s("600", &s), -EDOM);
}

static void test_sizes_are_bytes_without_a_unit(void **state)
{
	uint64_t b;

	(void)state;
	assert_int_equal(pxd_conf_value_size("4096", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(pxd_conf_value_size("64M", &b), 0);
	assert_int_equal(b, 64ull << 20);
	assert_int_equal(pxd_conf_value_size("2g", &b), 0);
	assert_int_equal(b, 2ull << 30);
	assert_int_equal(pxd_conf_value_size("1T", &b), -EINVAL);
	assert_int_equal(pxd_conf_value_size("M", &b), -EINVAL);
	assert_int_equal(pxd_conf_value_size("99999999999999999999G", &b), -ERANGE);
}

/* Both rate parsers of old disagreed on N/m and N/min; the one grammar takes both, and only those.
 */
static void test_rates_share_the_duration_units(void **state)
{
	uint64_t n, p;

	(void)state;
	assert_int_equal(pxd_conf_value_rate("50/s", &n, &p), 0);
	assert_true(n == 50 && p == 1000);
	assert_int_equal(pxd_conf_value_rate("600/m", &n, &p), 0);
	assert_true(n == 600 && p == 60000);
	assert_int_equal(pxd_conf_value_rate("600/min", &n, &p), 0);
	assert_true(n == 600 && p == 60000);
	assert_int_equal(pxd_conf_value_rate("1000/h", &n, &p), 0);
	assert_true(n == 1000 && p == 3600000);
	assert_int_equal(pxd_conf_value_rate("50", &n, &p), -EINVAL);
	assert_int_equal(pxd_conf_value_rate("50/", &n, &p), -EINVAL);
	assert_int_equal(pxd_conf_value_rate("/s", &n, &p), -EINVAL);
	assert_int_equal(pxd_conf_value_rate("50/sec", &n, &p), -EINVAL);
	assert_int_equal(pxd_conf_value_rate("50/2s", &n, &p), -EINVAL);
}

static void test_cidrs(void **state)
{
	struct pxd_conf_cidr c;

	(void)state;
	assert_int_equal(pxd_conf_value_cidr("10.0.0.0/8", &c), 0);
	assert_true(c.family == AF_INET && c.prefix == 8 && c.addr[0] == 10);
	assert_int_equal(pxd_conf_value_cidr("fd00::/8", &c), 0);
	assert_true(c.family == AF_INET6 && c.prefix == 8);
	assert_int_equal(pxd_conf_value_cidr("192.0.2.7", &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(pxd_conf_value_cidr("10.1.2.3/8", &c), -EDOM);
	assert_true(c.addr[0] == 10 && c.addr[1] == 0 && c.addr[3] == 0);
	assert_int_equal(pxd_conf_value_cidr("10.0.0.0/33", &c), -EINVAL);
	assert_int_equal(pxd_conf_value_cidr("10.0.0.0/", &c), -EINVAL);
	assert_int_equal(pxd_conf_value_cidr("10.0.0.0/-1", &c), -EINVAL);
	assert_int_equal(pxd_conf_value_cidr("example.com", &c), -EINVAL);
	assert_int_equal(pxd_conf_value_cidr("", &c), -EINVAL);
}

static void test_hosts_addrs_ports_names(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t port;

	(void)state;
	assert_null(pxd_conf_value_hostport("shop.example"));
	assert_null(pxd_conf_value_hostport("shop.example:8080"));
	assert_null(pxd_conf_value_hostport("[::1]:443"));
	assert_non_null(pxd_conf_value_hostport("Shop.example"));
	assert_non_null(pxd_conf_value_hostport("shop.example:0"));
	assert_null(pxd_conf_value_addr("127.0.0.1:8080", &ss, &len));
	assert_null(pxd_conf_value_addr("[::1]:0", &ss, &len));
	assert_null(pxd_conf_value_addr("*:80", &ss, &len));
	assert_string_equal(pxd_conf_value_addr("127.0.0.1", &ss, &len), "has no port");
	assert_non_null(pxd_conf_value_addr("localhost:80", &ss, &len));
	assert_int_equal(pxd_conf_value_port("65535", false, &port), 0);
	assert_int_equal(pxd_conf_value_port("0", false, &port), -EINVAL);
	assert_int_equal(pxd_conf_value_port("65536", true, &port), -EINVAL);
	assert_true(pxd_conf_value_is_name("a-b_9", 5));
	assert_false(pxd_conf_value_is_name("A", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations_need_a_unit_except_zero),
		cmocka_unit_test(test_whole_seconds),
		cmocka_unit_test(test_sizes_are_bytes_without_a_unit),
		cmocka_unit_test(test_rates_share_the_duration_units),
		cmocka_unit_test(test_cidrs),
		cmocka_unit_test(test_hosts_addrs_ports_names),
	};

	return cmocka_run_group_tests_name("conf_value", tests, NULL, NULL);
}
