// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "client_ip.h"

static struct pxd_conf conf;

static void set_peer4(struct sockaddr_storage *ss, const char *ip)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s4->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &s4->sin_addr);
}

static void set_peer6(struct sockaddr_storage *ss, const char *ip)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	s6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &s6->sin6_addr);
}

static int setup(void **state)
{
	(void)state;
	memset(&conf, 0, sizeof(conf));
	conf.trusted_proxies[0] = (struct pxd_conf_cidr){ .family = AF_INET, .prefix = 8 };
	conf.trusted_proxies[0].addr[0] = 10;
	conf.trusted_proxies[1] = (struct pxd_conf_cidr){ .family = AF_INET6, .prefix = 16 };
	conf.trusted_proxies[1].addr[0] = 0xfd;
	conf.trusted_proxies[1].addr[1] = 0x00;
	conf.ntrusted_proxies = 2;
	return 0;
}

/* The client address with X-Forwarded-For field lines <lines> (NULL-ended), in order. */
static const char *ip_of_lines(const struct sockaddr_storage *peer, const char *const *lines)
{
	static char out[PXD_CLIENT_IP_MAX];
	struct pxd_http_header h[8];
	size_t n = 0;

	h[n++] = (struct pxd_http_header){ pxd_sv_cstr("Host"), pxd_sv_cstr("x") };
	for (; *lines; lines++) {
		h[n++] =
		    (struct pxd_http_header){ pxd_sv_cstr("X-Forwarded-For"), pxd_sv_cstr(*lines) };
		h[n++] = (struct pxd_http_header){ pxd_sv_cstr("Accept"), pxd_sv_cstr("*/*") };
	}
	pxd_client_ip(&conf, peer, h, n, out);
	return out;
}

static const char *ip_of(const struct sockaddr_storage *peer, const char *xff)
{
	const char *const lines[] = { xff, NULL };

	return ip_of_lines(peer, lines);
}

/* All field lines count, joined in order: a first line the client wrote never chooses. */
static void test_every_xff_line_counts_right_to_left(void **state)
{
	struct sockaddr_storage peer;
	const char *const spoof[] = { "6.6.6.6", "198.51.100.7", NULL };
	const char *const chain[] = { "6.6.6.6, 198.51.100.7", "10.1.1.1", "10.2.2.2", NULL };
	const char *const trusted_only[] = { "10.3.3.3", "10.4.4.4", NULL };

	(void)state;
	set_peer4(&peer, "10.0.0.1");
	assert_string_equal(ip_of_lines(&peer, spoof), "198.51.100.7");
	assert_string_equal(ip_of_lines(&peer, chain), "198.51.100.7");
	assert_string_equal(ip_of_lines(&peer, trusted_only), "10.3.3.3");
	set_peer4(&peer, "203.0.113.9");
	assert_string_equal(ip_of_lines(&peer, spoof), "203.0.113.9");
}

static void test_untrusted_peer_ignores_xff(void **state)
{
	struct sockaddr_storage peer;

	(void)state;
	set_peer4(&peer, "203.0.113.9");
	assert_string_equal(ip_of(&peer, "1.2.3.4"), "203.0.113.9");
}

static void test_trusted_chain_takes_rightmost_untrusted(void **state)
{
	struct sockaddr_storage peer;

	(void)state;
	set_peer4(&peer, "10.0.0.1");
	assert_string_equal(ip_of(&peer, "6.6.6.6, 198.51.100.7, 10.2.3.4"), "198.51.100.7");
	assert_string_equal(ip_of(&peer, ""), "10.0.0.1");
	assert_string_equal(ip_of(&peer, " 198.51.100.8 "), "198.51.100.8");
	/* garbage in the chain: stop at the last address we could trust */
	assert_string_equal(ip_of(&peer, "1.1.1.1, not-an-ip"), "10.0.0.1");
}

static void test_ipv6_and_mapped(void **state)
{
	struct sockaddr_storage peer;

	(void)state;
	set_peer6(&peer, "fd00::5");
	assert_string_equal(ip_of(&peer, "2001:db8::1"), "2001:db8::1");
	set_peer6(&peer, "::ffff:192.0.2.33");
	assert_string_equal(ip_of(&peer, NULL), "192.0.2.33");
	set_peer6(&peer, "2001:db8::2");
	assert_string_equal(ip_of(&peer, "2001:db8::1"), "2001:db8::2");
}

static void test_cidr_bits(void **state)
{
	struct pxd_conf_cidr c = { .family = AF_INET, .prefix = 20 };
	uint8_t a[16] = { 192, 168, 16, 1 };

	(void)state;
	c.addr[0] = 192;
	c.addr[1] = 168;
	c.addr[2] = 16;
	assert_true(pxd_cidr_match(&c, 1, AF_INET, a));
	a[2] = 31;
	assert_true(pxd_cidr_match(&c, 1, AF_INET, a));
	a[2] = 32;
	assert_false(pxd_cidr_match(&c, 1, AF_INET, a));
	assert_false(pxd_cidr_match(&c, 1, AF_INET6, a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_untrusted_peer_ignores_xff),
		cmocka_unit_test(test_every_xff_line_counts_right_to_left),
		cmocka_unit_test(test_trusted_chain_takes_rightmost_untrusted),
		cmocka_unit_test(test_ipv6_and_mapped),
		cmocka_unit_test(test_cidr_bits),
	};

	return cmocka_run_group_tests_name("client_ip", tests, setup, NULL);
}
