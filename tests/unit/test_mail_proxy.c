// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mail_proxy.h"

#define GMAIL_UA                                                                   \
	"Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com " \
	"GoogleImageProxy)"
#define YAHOO_UA "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
#define IPHONE_UA                                                                              \
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, " \
	"like "                                                                                \
	"Gecko) Mobile/15E148"
#define OUTLOOK_UA "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)"

static int setup_embedded(void **state)
{
	struct pxd_mail_proxy *mp = NULL;
	char err[256];

	assert_int_equal(pxd_mail_proxy_load(&mp, pxd_data_mail_proxies, 60, err, sizeof(err)), 0);
	*state = mp;
	return 0;
}

static int teardown(void **state)
{
	pxd_mail_proxy_free(*state);
	return 0;
}

static enum pxd_open_kind classify(const struct pxd_mail_proxy *mp, const char *ip, const char *ua,
				   int64_t age)
{
	uint8_t a[16];
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, ip, a), 1);
	return pxd_mail_proxy_classify(mp, family, a, pxd_sv_cstr(ua), age);
}

static void test_embedded_table_classifies_known_fetchers(void **state)
{
	static const struct {
		const char *ip;
		const char *ua;
		int64_t age;
		enum pxd_open_kind want;
	} rows[] = {
		/* a person's own client */
		{ "203.0.113.9", IPHONE_UA, 3600, PXD_OPEN_KIND_HUMAN },
		{ "198.51.100.7", OUTLOOK_UA, 5, PXD_OPEN_KIND_HUMAN },
		{ "2001:db8::1", OUTLOOK_UA, 86400, PXD_OPEN_KIND_HUMAN },
		{ "127.0.0.1", "curl/7.88.1", 1, PXD_OPEN_KIND_HUMAN },
		{ "203.0.113.9", "", 10, PXD_OPEN_KIND_HUMAN },
		/* Apple MPP: Apple's range, or its bare user agent from anywhere */
		{ "17.58.101.2", "Mozilla/5.0", 30, PXD_OPEN_KIND_APPLE_MPP },
		{ "17.0.0.0", IPHONE_UA, 30, PXD_OPEN_KIND_APPLE_MPP },
		{ "17.255.255.255", "", 30, PXD_OPEN_KIND_APPLE_MPP },
		{ "16.255.255.255", IPHONE_UA, 30, PXD_OPEN_KIND_HUMAN },
		{ "18.0.0.0", IPHONE_UA, 30, PXD_OPEN_KIND_HUMAN },
		{ "172.224.226.5", "Mozilla/5.0", 30, PXD_OPEN_KIND_APPLE_MPP },
		{ "172.224.226.5", "Mozilla/5.0 ", 30, PXD_OPEN_KIND_HUMAN },
		/* Gmail: by user agent and by Google's ranges, v4 and v6 */
		{ "66.249.84.1", GMAIL_UA, 2, PXD_OPEN_KIND_GMAIL_PROXY },
		{ "198.51.100.1", GMAIL_UA, 2, PXD_OPEN_KIND_GMAIL_PROXY },
		{ "74.125.210.3", "Mozilla/5.0 (Windows)", 2, PXD_OPEN_KIND_GMAIL_PROXY },
		{ "2a00:1450:4001:80b::2003", GMAIL_UA, 2, PXD_OPEN_KIND_GMAIL_PROXY },
		{ "2607:f8b0:ffff:ffff:ffff:ffff:ffff:ffff", "", 2, PXD_OPEN_KIND_GMAIL_PROXY },
		{ "2607:f8b1::", "", 2, PXD_OPEN_KIND_HUMAN },
		/* Yahoo */
		{ "98.137.1.1", YAHOO_UA, 100, PXD_OPEN_KIND_YAHOO_PROXY },
		{ "203.0.113.5", YAHOO_UA, 100, PXD_OPEN_KIND_YAHOO_PROXY },
		{ "2001:4998:c:1::5", "", 100, PXD_OPEN_KIND_YAHOO_PROXY },
		/* IPv4-mapped IPv6 is looked up as IPv4 */
		{ "::ffff:17.1.2.3", "", 30, PXD_OPEN_KIND_APPLE_MPP },
		{ "::ffff:98.136.0.1", "", 30, PXD_OPEN_KIND_YAHOO_PROXY },
		/* another image proxy */
		{ "203.0.113.5", "SomeMail ImageProxy/2.0", 100, PXD_OPEN_KIND_OTHER_PROXY },
		/* scanners: within the window, and the same gateways later */
		{ "148.163.130.10", IPHONE_UA, 3, PXD_OPEN_KIND_SCANNER },
		{ "148.163.130.10", IPHONE_UA, 60, PXD_OPEN_KIND_SCANNER },
		{ "148.163.130.10", IPHONE_UA, 61, PXD_OPEN_KIND_OTHER_PROXY },
		{ "205.139.110.200", "", 0, PXD_OPEN_KIND_SCANNER },
		{ "64.235.150.1", "", 59, PXD_OPEN_KIND_SCANNER },
		{ "64.235.150.1", "", 7200, PXD_OPEN_KIND_OTHER_PROXY },
		{ "198.51.100.1", "Mozilla/5.0 HeadlessChrome/120.0", 5, PXD_OPEN_KIND_SCANNER },
		{ "198.51.100.1", "Mozilla/5.0 HeadlessChrome/120.0", 500,
		  PXD_OPEN_KIND_OTHER_PROXY },
	};
	const struct pxd_mail_proxy *mp = *state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum pxd_open_kind got = classify(mp, rows[i].ip, rows[i].ua, rows[i].age);

		if (got != rows[i].want)
			fail_msg("row %zu: %s \"%s\" age %lld: got %s, want %s", i, rows[i].ip,
				 rows[i].ua, (long long)rows[i].age, pxd_mail_proxy_kind_name(got),
				 pxd_mail_proxy_kind_name(rows[i].want));
	}
}

static void test_address_decides_before_user_agent(void **state)
{
	const struct pxd_mail_proxy *mp = *state;

	/* A Yahoo UA from Apple's range is Apple's fetch. */
	assert_int_equal(classify(mp, "17.1.1.1", YAHOO_UA, 10), PXD_OPEN_KIND_APPLE_MPP);
	/* An unknown address family falls back to the user agent. */
	assert_int_equal(pxd_mail_proxy_classify(mp, AF_UNIX, NULL, PXD_SV(GMAIL_UA), 1),
			 PXD_OPEN_KIND_GMAIL_PROXY);
	assert_int_equal(pxd_mail_proxy_classify(mp, AF_UNSPEC, NULL, PXD_SV_NULL, 1),
			 PXD_OPEN_KIND_HUMAN);
}

static void test_nested_prefixes_most_specific_wins(void **state)
{
	static const char rules[] = "# nested, given out of order\n"
				    "ip scanner 10.1.0.0/16\n"
				    "ip other_proxy 10.0.0.0/8\n"
				    "ip apple_mpp 10.1.2.0/24\n"
				    "ip gmail_proxy 10.1.2.128/32\n"
				    "ip yahoo_proxy 2001:db8::/32\n"
				    "ip scanner 2001:db8:1::/48\n"
				    "ip other_proxy 255.255.255.255/32\n"
				    "ip other_proxy ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128\n";
	struct pxd_mail_proxy *mp = NULL;
	struct pxd_mail_proxy_stats st;
	char err[256];

	(void)state;
	assert_int_equal(pxd_mail_proxy_load(&mp, rules, 60, err, sizeof(err)), 0);
	assert_int_equal(classify(mp, "9.255.255.255", "", 0), PXD_OPEN_KIND_HUMAN);
	assert_int_equal(classify(mp, "10.0.0.0", "", 0), PXD_OPEN_KIND_OTHER_PROXY);
	assert_int_equal(classify(mp, "10.0.255.255", "", 0), PXD_OPEN_KIND_OTHER_PROXY);
	assert_int_equal(classify(mp, "10.1.0.0", "", 0), PXD_OPEN_KIND_SCANNER);
	assert_int_equal(classify(mp, "10.1.2.0", "", 0), PXD_OPEN_KIND_APPLE_MPP);
	assert_int_equal(classify(mp, "10.1.2.127", "", 0), PXD_OPEN_KIND_APPLE_MPP);
	assert_int_equal(classify(mp, "10.1.2.128", "", 0), PXD_OPEN_KIND_GMAIL_PROXY);
	assert_int_equal(classify(mp, "10.1.2.129", "", 0), PXD_OPEN_KIND_APPLE_MPP);
	assert_int_equal(classify(mp, "10.1.3.0", "", 0), PXD_OPEN_KIND_SCANNER);
	assert_int_equal(classify(mp, "10.1.255.255", "", 0), PXD_OPEN_KIND_SCANNER);
	assert_int_equal(classify(mp, "10.2.0.0", "", 0), PXD_OPEN_KIND_OTHER_PROXY);
	assert_int_equal(classify(mp, "10.255.255.255", "", 0), PXD_OPEN_KIND_OTHER_PROXY);
	assert_int_equal(classify(mp, "11.0.0.0", "", 0), PXD_OPEN_KIND_HUMAN);
	assert_int_equal(classify(mp, "255.255.255.254", "", 0), PXD_OPEN_KIND_HUMAN);
	assert_int_equal(classify(mp, "255.255.255.255", "", 0), PXD_OPEN_KIND_OTHER_PROXY);
	assert_int_equal(classify(mp, "2001:db8::", "", 0), PXD_OPEN_KIND_YAHOO_PROXY);
	assert_int_equal(classify(mp, "2001:db8:1::5", "", 0), PXD_OPEN_KIND_SCANNER);
	assert_int_equal(classify(mp, "2001:db8:2::", "", 0), PXD_OPEN_KIND_YAHOO_PROXY);
	assert_int_equal(classify(mp, "2001:db9::", "", 0), PXD_OPEN_KIND_HUMAN);
	assert_int_equal(classify(mp, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "", 0),
			 PXD_OPEN_KIND_OTHER_PROXY);
	assert_int_equal(classify(mp, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "", 0),
			 PXD_OPEN_KIND_HUMAN);
	pxd_mail_proxy_stats(mp, &st);
	assert_int_equal(st.v4_ranges, 8); /* o s a g a s o, then the lone /32 */
	assert_int_equal(st.v6_ranges, 4);
	assert_int_equal(st.ua_rules, 0);
	pxd_mail_proxy_free(mp);
}

static void test_whole_space_and_repeated_prefix(void **state)
{
	static const char rules[] = "ip other_proxy 0.0.0.0/0\n"
				    "ip other_proxy ::/0\n"
				    "ip scanner 1.2.3.0/24\n"
				    "ip apple_mpp 1.2.3.0/24\n"; /* the later line wins */
	struct pxd_mail_proxy *mp = NULL;
	char err[256];

	(void)state;
	assert_int_equal(pxd_mail_proxy_load(&mp, rules, 60, err, sizeof(err)), 0);
	assert_int_equal(classify(mp, "0.0.0.0", "", 0), PXD_OPEN_KIND_OTHER_PROXY);
	assert_int_equal(classify(mp, "1.2.3.4", "", 0), PXD_OPEN_KIND_APPLE_MPP);
	assert_int_equal(classify(mp, "1.2.4.0", "", 0), PXD_OPEN_KIND_OTHER_PROXY);
	assert_int_equal(classify(mp, "255.255.255.255", "", 0), PXD_OPEN_KIND_OTHER_PROXY);
	assert_int_equal(classify(mp, "::", "", 0), PXD_OPEN_KIND_OTHER_PROXY);
	assert_int_equal(classify(mp, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "", 0),
			 PXD_OPEN_KIND_OTHER_PROXY);
	pxd_mail_proxy_free(mp);
}

/* The flattened lookup agrees with a most-specific-prefix scan, on random nested rules. */
static void test_random_rules_match_a_linear_reference(void **state)
{
	enum { NRULES = 300, NPROBES = 20000 };
	static uint32_t net[NRULES];
	static uint8_t len[NRULES];
	static int kind[NRULES];
	static char text[NRULES * 48];
	struct pxd_mail_proxy *mp = NULL;
	char err[256];
	size_t off = 0;

	(void)state;
	srandom(7);
	for (int i = 0; i < NRULES; i++) {
		/* A small universe (10.0.0.0/16) so prefixes nest and repeat. */
		len[i] = (uint8_t)(16 + random() % 17);
		net[i] = (0x0a000000u | ((uint32_t)random() & 0xffff)) &
			 (len[i] ? ~0u << (32 - len[i]) : 0);
		kind[i] = 1 + (int)(random() % (PXD_OPEN_KIND_COUNT - 1));
		off += (size_t)sprintf(text + off, "ip %s %u.%u.%u.%u/%u\n",
				       pxd_mail_proxy_kind_name((enum pxd_open_kind)kind[i]),
				       net[i] >> 24, (net[i] >> 16) & 255, (net[i] >> 8) & 255,
				       net[i] & 255, len[i]);
	}
	assert_int_equal(pxd_mail_proxy_load(&mp, text, 1u << 30, err, sizeof(err)), 0);
	for (int p = 0; p < NPROBES; p++) {
		uint32_t a = 0x0a000000u | ((uint32_t)random() & 0xffff);
		uint8_t b[4] = { (uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8),
				 (uint8_t)a };
		int want = PXD_OPEN_KIND_HUMAN;
		int best = -1;

		if (p % 7 == 0)
			a ^= 0x01000000u; /* outside every rule */
		b[0] = (uint8_t)(a >> 24);
		for (int i = 0; i < NRULES; i++) {
			uint32_t mask = len[i] ? ~0u << (32 - len[i]) : 0;

			/* the longest prefix wins; among equal ones, the last line */
			if ((a & mask) == net[i] && len[i] >= best) {
				best = len[i];
				want = kind[i];
			}
		}
		assert_int_equal(pxd_mail_proxy_classify(mp, AF_INET, b, PXD_SV_NULL, 0), want);
	}
	pxd_mail_proxy_free(mp);
}

static void test_user_agent_rules_exact_and_substring_in_order(void **state)
{
	static const char rules[] = "ua-is apple_mpp Mozilla/5.0\n"
				    "ua-has gmail_proxy GoogleImageProxy\n"
				    "ua-has other_proxy ImageProxy  \r\n"
				    "ua-has scanner two words\n";
	struct pxd_mail_proxy *mp = NULL;
	char err[256];

	(void)state;
	assert_int_equal(pxd_mail_proxy_load(&mp, rules, 60, err, sizeof(err)), 0);
	assert_int_equal(classify(mp, "192.0.2.1", "Mozilla/5.0", 0), PXD_OPEN_KIND_APPLE_MPP);
	assert_int_equal(classify(mp, "192.0.2.1", "Mozilla/5.", 0), PXD_OPEN_KIND_HUMAN);
	assert_int_equal(classify(mp, "192.0.2.1", GMAIL_UA, 0), PXD_OPEN_KIND_GMAIL_PROXY);
	assert_int_equal(classify(mp, "192.0.2.1", "x ImageProxy", 0), PXD_OPEN_KIND_OTHER_PROXY);
	assert_int_equal(classify(mp, "192.0.2.1", "imageproxy", 0), PXD_OPEN_KIND_HUMAN);
	assert_int_equal(classify(mp, "192.0.2.1", "has two words in it", 0),
			 PXD_OPEN_KIND_SCANNER);
	assert_int_equal(classify(mp, "192.0.2.1", "has two words in it", 61),
			 PXD_OPEN_KIND_OTHER_PROXY);
	pxd_mail_proxy_free(mp);
}

static void test_bad_rules_name_their_line(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "ip scanner 10.0.0.0/33\n", "line 1: bad prefix length" },
		{ "# c\n\nip scanner 10.0.0.1/24\n", "line 3: host bits set" },
		{ "ip scanner 10.0.0.0\n", "line 1: not a CIDR" },
		{ "ip scanner 300.0.0.0/8\n", "line 1: not an IPv4 or IPv6" },
		{ "ip scanner 10.0.0.0/8 extra\n", "line 1: one CIDR per line" },
		{ "ip human 10.0.0.0/8\n", "line 1: unknown kind" },
		{ "cidr scanner 10.0.0.0/8\n", "line 1: unknown rule" },
		{ "ua-has scanner\n", "line 1: user-agent text" },
		{ "ip scanner 2001:db8::1/32\n", "line 1: host bits set" },
		{ "ip scanner 2001:db8::/129\n", "line 1: bad prefix length" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pxd_mail_proxy *mp = NULL;
		char err[256] = "";

		assert_int_equal(pxd_mail_proxy_load(&mp, cases[i].text, 60, err, sizeof(err)),
				 -EINVAL);
		assert_null(mp);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].want);
	}
}

static void test_empty_rules_mean_everyone_is_human(void **state)
{
	struct pxd_mail_proxy *mp = NULL;
	char err[64];

	(void)state;
	assert_int_equal(pxd_mail_proxy_load(&mp, "# nothing\n", 60, err, sizeof(err)), 0);
	assert_int_equal(classify(mp, "17.1.1.1", GMAIL_UA, 0), PXD_OPEN_KIND_HUMAN);
	assert_int_equal(classify(mp, "2001:db8::", "", 0), PXD_OPEN_KIND_HUMAN);
	pxd_mail_proxy_free(mp);
	pxd_mail_proxy_free(NULL);
}

static void test_kind_names(void **state)
{
	static const char *const want[] = { "human",	   "apple_mpp",	  "gmail_proxy",
					    "yahoo_proxy", "other_proxy", "scanner" };

	(void)state;
	for (int k = 0; k < PXD_OPEN_KIND_COUNT; k++)
		assert_string_equal(pxd_mail_proxy_kind_name((enum pxd_open_kind)k), want[k]);
	assert_string_equal(pxd_mail_proxy_kind_name(PXD_OPEN_KIND_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_embedded_table_classifies_known_fetchers,
						setup_embedded, teardown),
		cmocka_unit_test_setup_teardown(test_address_decides_before_user_agent,
						setup_embedded, teardown),
		cmocka_unit_test(test_nested_prefixes_most_specific_wins),
		cmocka_unit_test(test_whole_space_and_repeated_prefix),
		cmocka_unit_test(test_random_rules_match_a_linear_reference),
		cmocka_unit_test(test_user_agent_rules_exact_and_substring_in_order),
		cmocka_unit_test(test_bad_rules_name_their_line),
		cmocka_unit_test(test_empty_rules_mean_everyone_is_human),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests_name("mail_proxy", tests, NULL, NULL);
}
