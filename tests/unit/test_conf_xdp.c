// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "conf_xdp.h"
#include "xdp_filter.h"

#define NS 1000000000ull

static int set(struct pxd_conf_xdp *c, const char *key, const char *value, char *err)
{
	return pxd_conf_xdp_set(c, key, value, err, 256);
}

static void test_defaults_leave_xdp_off(void **state)
{
	struct pxd_conf_xdp c;
	char err[256];

	(void)state;
	pxd_conf_xdp_defaults(&c);
	assert_string_equal(c.interface, "");
	assert_int_equal(c.mode, PXD_XDP_MODE_AUTO);
	assert_int_equal(c.nports, 2);
	assert_int_equal(c.ports[0], 80);
	assert_int_equal(c.ports[1], 443);
	assert_int_equal(c.rate_interval_ns, 0);
	assert_int_equal(c.syn_rate_interval_ns, NS / 50);
	assert_int_equal(c.syn_burst, 200);
	assert_int_equal(c.bot_block, PXD_BOT_BLOCK_UA);
	assert_int_equal(c.bot_block_ttl_s, 600);
	assert_string_equal(c.pin_dir, PXD_XDP_PIN_DIR);
	assert_int_equal(c.max_cidrs, PXD_XDP_DEFAULT_CIDRS);
	assert_int_equal(c.max_sources, PXD_XDP_DEFAULT_SOURCES);
	assert_int_equal(pxd_conf_xdp_check(&c, err, sizeof(err)), 0);
}

static void test_every_key_sets_its_field(void **state)
{
	struct pxd_conf_xdp c;
	char err[256];

	(void)state;
	pxd_conf_xdp_defaults(&c);
	assert_int_equal(set(&c, "interface", "eth0", err), 0);
	assert_int_equal(set(&c, "mode", "generic", err), 0);
	assert_int_equal(set(&c, "ports", "80, 443 ,8080", err), 0);
	assert_int_equal(set(&c, "rate", "1000/s", err), 0);
	assert_int_equal(set(&c, "burst", "2000", err), 0);
	assert_int_equal(set(&c, "syn_rate", "120/m", err), 0);
	assert_int_equal(set(&c, "syn_burst", "10", err), 0);
	assert_int_equal(set(&c, "deny_file", "/etc/pixeld/deny.txt", err), 0);
	assert_int_equal(set(&c, "allow_file", "/etc/pixeld/allow.txt", err), 0);
	assert_int_equal(set(&c, "bot_block", "ua+ip", err), 0);
	assert_int_equal(set(&c, "bot_block_ttl", "1h", err), 0);
	assert_int_equal(set(&c, "pin_dir", "/sys/fs/bpf/pixeld-b", err), 0);
	assert_int_equal(set(&c, "max_cidrs", "1000", err), 0);
	assert_int_equal(set(&c, "max_sources", "5000", err), 0);
	assert_string_equal(c.interface, "eth0");
	assert_int_equal(c.mode, PXD_XDP_MODE_GENERIC);
	assert_int_equal(c.nports, 3);
	assert_int_equal(c.ports[2], 8080);
	assert_int_equal(c.rate_interval_ns, NS / 1000);
	assert_int_equal(c.burst, 2000);
	assert_int_equal(c.syn_rate_interval_ns, NS / 2);
	assert_int_equal(c.syn_burst, 10);
	assert_string_equal(c.deny_file, "/etc/pixeld/deny.txt");
	assert_string_equal(c.allow_file, "/etc/pixeld/allow.txt");
	assert_int_equal(c.bot_block, PXD_BOT_BLOCK_UA_IP);
	assert_int_equal(c.bot_block_ttl_s, 3600);
	assert_string_equal(c.pin_dir, "/sys/fs/bpf/pixeld-b");
	assert_int_equal(c.max_cidrs, 1000);
	assert_int_equal(c.max_sources, 5000);
	assert_int_equal(pxd_conf_xdp_check(&c, err, sizeof(err)), 0);
	assert_string_equal(pxd_conf_xdp_mode_name(c.mode), "generic");
	assert_string_equal(pxd_conf_xdp_bot_block_name(c.bot_block), "ua+ip");
}

static void test_unknown_key_is_enoent(void **state)
{
	struct pxd_conf_xdp c;
	char err[256];

	(void)state;
	pxd_conf_xdp_defaults(&c);
	assert_int_equal(set(&c, "interfaces", "eth0", err), -ENOENT);
}

static void test_rates(void **state)
{
	struct pxd_conf_xdp c;
	char err[256];

	(void)state;
	pxd_conf_xdp_defaults(&c);
	assert_int_equal(set(&c, "rate", "50/s", err), 0);
	assert_int_equal(c.rate_interval_ns, NS / 50);
	assert_int_equal(set(&c, "rate", "600/min", err), 0);
	assert_int_equal(c.rate_interval_ns, NS / 10);
	assert_int_equal(set(&c, "rate", "3600/h", err), 0);
	assert_int_equal(c.rate_interval_ns, NS);
	assert_int_equal(set(&c, "rate", "off", err), 0);
	assert_int_equal(c.rate_interval_ns, 0);
	assert_int_equal(set(&c, "syn_rate", "0", err), 0);
	assert_int_equal(c.syn_rate_interval_ns, 0);
	assert_int_equal(set(&c, "rate", "100000000/s", err), 0);
	assert_int_equal(c.rate_interval_ns, 10);

	static const char *const bad[] = { "",	    "/s",   "fast",  "50",	    "50/",
					   "50/ss", "-5/s", "5.5/s", "100000001/s", " 50/s" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c.rate_interval_ns = 7;
		assert_int_equal(set(&c, "rate", bad[i], err), -EINVAL);
		assert_non_null(strstr(err, "is not a rate; write a count per s, m or h"));
		assert_int_equal(c.rate_interval_ns, 7);
	}
}

static void test_ports(void **state)
{
	struct pxd_conf_xdp c;
	char err[256];

	(void)state;
	pxd_conf_xdp_defaults(&c);
	assert_int_equal(set(&c, "ports", "8080", err), 0);
	assert_int_equal(c.nports, 1);
	assert_int_equal(c.ports[0], 8080);
	assert_int_equal(set(&c, "ports", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", err), 0);
	assert_int_equal(c.nports, 16);
	assert_int_equal(set(&c, "ports", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", err),
			 -EINVAL);
	assert_string_equal(err, "more than 16 ports");
	assert_int_equal(set(&c, "ports", "80,80", err), -EINVAL);
	assert_string_equal(err, "port 80 is listed twice");

	static const char *const bad[] = { "",	  "0",	     "65536", "80,",
					   ",80", "80,,443", "http",  "80 443" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(set(&c, "ports", bad[i], err), -EINVAL);
		assert_non_null(strstr(err, "is not a port list"));
	}
	assert_int_equal(c.nports, 16);
}

static void test_names_and_numbers(void **state)
{
	struct pxd_conf_xdp c;
	char err[256];

	(void)state;
	pxd_conf_xdp_defaults(&c);
	assert_int_equal(set(&c, "mode", "turbo", err), -EINVAL);
	assert_string_equal(err, "\"turbo\" is not a mode (write auto, native or generic)");
	assert_int_equal(set(&c, "bot_block", "ip", err), -EINVAL);
	assert_string_equal(err, "\"ip\" is not a bot_block setting (write off, ua or ua+ip)");
	assert_int_equal(set(&c, "bot_block", "off", err), 0);
	assert_int_equal(c.bot_block, PXD_BOT_BLOCK_OFF);
	assert_int_equal(set(&c, "burst", "0", err), -EINVAL);
	assert_string_equal(err, "\"0\" is not a number from 1 to 1000000");
	assert_int_equal(set(&c, "syn_burst", "1000001", err), -EINVAL);
	assert_int_equal(set(&c, "max_cidrs", "12x", err), -EINVAL);
	assert_int_equal(set(&c, "interface", "averyveryverylongname", err), -EINVAL);
	assert_non_null(strstr(err, "is not an interface name"));
	assert_int_equal(set(&c, "interface", "eth0:1", err), -EINVAL);
	assert_int_equal(set(&c, "interface", "", err), 0);
	assert_int_equal(set(&c, "pin_dir", "relative/dir", err), -EINVAL);
	assert_non_null(strstr(err, "is not an absolute path"));
}

static void test_durations(void **state)
{
	uint32_t s;
	char err[256];

	(void)state;
	assert_int_equal(pxd_conf_xdp_parse_ttl("600", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "has no unit"));
	assert_int_equal(pxd_conf_xdp_parse_ttl("45s", &s, err, sizeof(err)), 0);
	assert_int_equal(s, 45);
	assert_int_equal(pxd_conf_xdp_parse_ttl("10m", &s, err, sizeof(err)), 0);
	assert_int_equal(s, 600);
	assert_int_equal(pxd_conf_xdp_parse_ttl("7d", &s, err, sizeof(err)), 0);
	assert_int_equal(s, 7 * 86400);

	static const char *const bad[] = { "",	  "m",	  "0",	  "8d",	   "10x",
					   "-1m", "1.5h", "10 m", "1500ms" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = 99;
		assert_int_equal(pxd_conf_xdp_parse_ttl(bad[i], &s, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "is not a duration"));
		assert_int_equal(s, 99);
	}
}

static void test_check_refuses_ip_blocks_without_xdp(void **state)
{
	struct pxd_conf_xdp c;
	char err[256];

	(void)state;
	pxd_conf_xdp_defaults(&c);
	assert_int_equal(set(&c, "bot_block", "ua+ip", err), 0);
	assert_int_equal(pxd_conf_xdp_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bot_block = ua+ip blocks sources in XDP, which is off"));
	assert_int_equal(set(&c, "interface", "eth0", err), 0);
	assert_int_equal(pxd_conf_xdp_check(&c, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_leave_xdp_off),
		cmocka_unit_test(test_every_key_sets_its_field),
		cmocka_unit_test(test_unknown_key_is_enoent),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_names_and_numbers),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_check_refuses_ip_blocks_without_xdp),
	};

	return cmocka_run_group_tests_name("conf_xdp", tests, NULL, NULL);
}
