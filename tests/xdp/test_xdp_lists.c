// SPDX-License-Identifier: MIT
/* The XDP allow and deny lists against the loaded program: precedence,
 * prefixes, expiry, the stronger entry kept, list files and the sweep. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test_util.h"
#include "xdp_filter_test.h"

static void test_allow_beats_deny(void **state)
{
	struct xdp_fixture *f = *state;

	block(f, PXD_XDP_LIST_DENY, "10.0.0.0/8", 0);
	block(f, PXD_XDP_LIST_ALLOW, "10.1.2.3/32", 0);
	block(f, PXD_XDP_LIST_DENY, "2001:db8::/32", 0);
	block(f, PXD_XDP_LIST_ALLOW, "2001:db8:1::/48", 0);
	assert_int_equal(run(f, &(struct spec){ .src = "10.1.2.3" }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .src = "10.1.2.4" }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8:1::5" }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8:2::5" }), XDP_DROP);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_ALLOWED), 2);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_STATIC), 2);
}

static void test_allow_skips_rate_limits(void **state)
{
	struct xdp_fixture *f = *state;

	set_buckets(f, NS, 1, NS, 1);
	block(f, PXD_XDP_LIST_ALLOW, "192.0.2.0/24", 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.9", .flags = TCP_SYN }),
				 XDP_PASS);
	/* The first packet had its token; the allow list saved the other nine. */
	assert_int_equal(counter(f, PXD_XDP_COUNTER_PASSED), 1);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_ALLOWED), 9);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_RATE_LIMITED_SYN), 0);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_RATE_LIMITED), 0);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.3.9", .flags = TCP_SYN }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.3.9", .flags = TCP_SYN }), XDP_DROP);
}

static void test_deny_by_prefix_8_and_32(void **state)
{
	struct xdp_fixture *f = *state;

	block(f, PXD_XDP_LIST_DENY, "10.0.0.0/8", 0);
	block(f, PXD_XDP_LIST_DENY, "192.0.2.7/32", 0);
	assert_int_equal(run(f, &(struct spec){ .src = "10.0.0.1" }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .src = "10.255.255.254" }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .src = "11.0.0.1" }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .src = "9.255.255.255" }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.7" }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.8" }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.6" }), XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_STATIC), 3);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_PASSED), 4);
}

static void test_deny_ipv6_prefixes(void **state)
{
	struct xdp_fixture *f = *state;

	block(f, PXD_XDP_LIST_DENY, "2001:db8:aaaa::/48", 0);
	block(f, PXD_XDP_LIST_DENY, "2001:db8:bbbb::1/128", 0);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8:aaaa:1::1" }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8:aaab::1" }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8:bbbb::1" }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8:bbbb::2" }), XDP_PASS);
}

static void test_dynamic_entry_expires(void **state)
{
	struct xdp_fixture *f = *state;
	struct pxd_conf_cidr c;
	struct pxd_xdp_entry e;
	struct pxd_xdp_lpm_v4 key = { .prefixlen = 32, .addr = { 192, 0, 2, 50 } };

	block(f, PXD_XDP_LIST_DENY, "192.0.2.50", pxd_xdp_maps_now(&f->maps) + 10 * NS);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.50" }), XDP_DROP);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_DYNAMIC), 1);
	advance_clock(f, 9 * NS);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.50" }), XDP_DROP);
	advance_clock(f, 2 * NS);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.50" }), XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_DYNAMIC), 2);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_PASSED), 1);
	/* The program deleted the expired entry it met (a /32: from the hash). */
	assert_int_equal(bpf_map_lookup_elem(f->maps.deny_hash_v4, &key, &e), -ENOENT);
	assert_int_equal(pxd_xdp_cidr_parse("192.0.2.50", &c), 0);
	assert_int_equal(pxd_xdp_maps_del(&f->maps, PXD_XDP_LIST_DENY, &c), -ENOENT);
}

static void test_expired_entry_uncovers_static_prefix(void **state)
{
	struct xdp_fixture *f = *state;

	block(f, PXD_XDP_LIST_DENY, "10.0.0.0/8", 0);
	block(f, PXD_XDP_LIST_DENY, "10.9.9.9/32", pxd_xdp_maps_now(&f->maps) + NS);
	assert_int_equal(run(f, &(struct spec){ .src = "10.9.9.9" }), XDP_DROP);
	advance_clock(f, 2 * NS);
	assert_int_equal(run(f, &(struct spec){ .src = "10.9.9.9" }), XDP_DROP);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_DYNAMIC), 1);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_STATIC), 1);
	assert_int_equal(list_len(f, PXD_XDP_LIST_DENY), 1);
}

static void test_add_keeps_the_stronger_entry(void **state)
{
	struct xdp_fixture *f = *state;
	struct pxd_xdp_lpm_v4 key = { .prefixlen = 24, .addr = { 192, 0, 2, 0 } };
	struct pxd_conf_cidr c;
	struct pxd_xdp_entry e;

	assert_int_equal(pxd_xdp_cidr_parse("192.0.2.0/24", &c), 0);
	assert_int_equal(pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_FILE, 0),
			 0);
	/* A bot block does not shorten a static entry. */
	assert_int_equal(pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_BOT, 5),
			 0);
	assert_int_equal(bpf_map_lookup_elem(f->maps.deny_hash_v4, &key, &e), 0);
	assert_int_equal(e.expires_ns, 0);
	assert_int_equal(e.origin, PXD_XDP_ORIGIN_FILE);
	/* A manual static block takes it over, and a file reload then leaves it alone. */
	assert_int_equal(
	    pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_MANUAL, 0), 0);
	assert_int_equal(pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_FILE, 0),
			 0);
	assert_int_equal(bpf_map_lookup_elem(f->maps.deny_hash_v4, &key, &e), 0);
	assert_int_equal(e.origin, PXD_XDP_ORIGIN_MANUAL);
	/* Between dynamic entries the later expiry wins. */
	assert_int_equal(pxd_xdp_cidr_parse("192.0.2.9", &c), 0);
	key.prefixlen = 32;
	key.addr[3] = 9;
	assert_int_equal(pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_BOT, 100),
			 0);
	assert_int_equal(pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_BOT, 50),
			 0);
	assert_int_equal(bpf_map_lookup_elem(f->maps.deny_hash_v4, &key, &e), 0);
	assert_int_equal(e.expires_ns, 100);
	assert_int_equal(pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_BOT, 200),
			 0);
	assert_int_equal(bpf_map_lookup_elem(f->maps.deny_hash_v4, &key, &e), 0);
	assert_int_equal(e.expires_ns, 200);
}

/* Whether exactly <cidr> is a key of the map <fd> (a trie lookup would also match shorter). */
static bool in_map(int fd, const char *cidr)
{
	struct pxd_xdp_lpm_v6 key = { 0 };
	struct pxd_xdp_entry e;
	struct pxd_conf_cidr c;

	assert_int_equal(pxd_xdp_cidr_parse(cidr, &c), 0);
	key.prefixlen = c.prefix;
	memcpy(key.addr, c.addr, c.family == AF_INET ? 4 : 16);
	return bpf_map_lookup_elem(fd, &key, &e) == 0 && e.prefixlen == c.prefix;
}

static int list_has(const struct pxd_conf_cidr *c, const struct pxd_xdp_entry *e, void *arg)
{
	const char *want = arg;
	char text[PXD_XDP_CIDR_STRLEN];

	(void)e;
	pxd_xdp_cidr_format(c, text, sizeof(text));
	return strcmp(text, want) == 0;
}

static void unblock(struct xdp_fixture *f, const char *cidr)
{
	struct pxd_conf_cidr c;

	assert_int_equal(pxd_xdp_cidr_parse(cidr, &c), 0);
	assert_int_equal(pxd_xdp_maps_del(&f->maps, PXD_XDP_LIST_DENY, &c), 0);
	assert_int_equal(pxd_xdp_maps_del(&f->maps, PXD_XDP_LIST_DENY, &c), -ENOENT);
}

/* Each length lands in its map, the program drops from each, listing shows all, removal works. */
static void test_deny_hash_and_trie_split(void **state)
{
	static const struct {
		const char *cidr;
		const char *src;
		int v6;
		int hashed;
	} cases[] = {
		{ "198.51.100.7/32", "198.51.100.7", 0, 1 },
		{ "198.51.101.0/24", "198.51.101.200", 0, 1 },
		{ "198.52.0.0/16", "198.52.77.1", 0, 0 },
		{ "198.51.102.16/28", "198.51.102.20", 0, 0 },
		{ "2001:db8:5::9/128", "2001:db8:5::9", 1, 1 },
		{ "2001:db8:6:1::/64", "2001:db8:6:1::abcd", 1, 1 },
		{ "2001:db8:7::/48", "2001:db8:7:5::1", 1, 0 },
	};
	struct xdp_fixture *f = *state;
	size_t n = sizeof(cases) / sizeof(cases[0]);

	for (size_t i = 0; i < n; i++)
		block(f, PXD_XDP_LIST_DENY, cases[i].cidr, 0);
	assert_int_equal(list_len(f, PXD_XDP_LIST_DENY), n);
	for (size_t i = 0; i < n; i++) {
		int hash = cases[i].v6 ? f->maps.deny_hash_v6 : f->maps.deny_hash_v4;
		int trie = cases[i].v6 ? f->maps.deny_v6 : f->maps.deny_v4;

		assert_int_equal(in_map(hash, cases[i].cidr), cases[i].hashed);
		assert_int_equal(in_map(trie, cases[i].cidr), !cases[i].hashed);
		assert_int_equal(pxd_xdp_maps_foreach(&f->maps, PXD_XDP_LIST_DENY, list_has,
						      (void *)cases[i].cidr),
				 1);
		assert_int_equal(run(f, &(struct spec){ .v6 = cases[i].v6, .src = cases[i].src }),
				 XDP_DROP);
	}
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_STATIC), n);
	/* Neighbours of each entry pass: one host off, one /24 off, outside the /28. */
	assert_int_equal(run(f, &(struct spec){ .src = "198.51.100.8" }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .src = "198.51.103.1" }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .src = "198.51.102.32" }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8:5::8" }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8:6:2::1" }), XDP_PASS);
	for (size_t i = 0; i < n; i++) {
		unblock(f, cases[i].cidr);
		assert_int_equal(run(f, &(struct spec){ .v6 = cases[i].v6, .src = cases[i].src }),
				 XDP_PASS);
	}
	assert_int_equal(list_len(f, PXD_XDP_LIST_DENY), 0);
}

/* A /24 in the hash that expires is deleted by the program and uncovers a /16 in the trie. */
static void test_expired_net_in_hash_uncovers_trie(void **state)
{
	struct xdp_fixture *f = *state;
	struct pxd_xdp_lpm_v4 key = { .prefixlen = 24, .addr = { 203, 0, 113, 0 } };
	struct pxd_xdp_entry e;

	block(f, PXD_XDP_LIST_DENY, "203.0.0.0/16", 0);
	block(f, PXD_XDP_LIST_DENY, "203.0.113.0/24", pxd_xdp_maps_now(&f->maps) + NS);
	assert_int_equal(run(f, &(struct spec){ .src = "203.0.113.9" }), XDP_DROP);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_DYNAMIC), 1);
	advance_clock(f, 2 * NS);
	assert_int_equal(run(f, &(struct spec){ .src = "203.0.113.9" }), XDP_DROP);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_STATIC), 1);
	assert_int_equal(bpf_map_lookup_elem(f->maps.deny_hash_v4, &key, &e), -ENOENT);
	assert_int_equal(list_len(f, PXD_XDP_LIST_DENY), 1);
}

/*
 * The prefilter: an entry written behind pxd_xdp_maps_add()'s back (as pins from a build
 * without the prefilter hold) is skipped until pxd_xdp_maps_mark_all() sets its bits; a
 * short prefix marks every /24 it covers, word-aligned or not.
 */
static void test_prefilter_bits(void **state)
{
	struct xdp_fixture *f = *state;
	struct pxd_xdp_lpm_v4 key = { .prefixlen = 32, .addr = { 100, 100, 1, 1 } };
	struct pxd_xdp_entry e = { .prefixlen = 32 };

	assert_int_equal(bpf_map_update_elem(f->maps.deny_hash_v4, &key, &e, BPF_ANY), 0);
	assert_int_equal(run(f, &(struct spec){ .src = "100.100.1.1" }), XDP_PASS);
	assert_int_equal(pxd_xdp_maps_mark_all(&f->maps), 0);
	assert_int_equal(run(f, &(struct spec){ .src = "100.100.1.1" }), XDP_DROP);

	/* A /20: 16 bits inside one word. A /12: whole words. */
	block(f, PXD_XDP_LIST_DENY, "100.101.16.0/20", 0);
	assert_int_equal(run(f, &(struct spec){ .src = "100.101.16.1" }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .src = "100.101.31.254" }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .src = "100.101.32.1" }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .src = "100.101.15.254" }), XDP_PASS);
	block(f, PXD_XDP_LIST_DENY, "100.112.0.0/12", 0);
	assert_int_equal(run(f, &(struct spec){ .src = "100.112.0.1" }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .src = "100.127.255.254" }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .src = "100.128.0.1" }), XDP_PASS);
	/* An allow entry sets its own bits: an allowed /24 inside the denied /12 passes. */
	block(f, PXD_XDP_LIST_ALLOW, "100.112.5.0/24", 0);
	assert_int_equal(run(f, &(struct spec){ .src = "100.112.5.1" }), XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_ALLOWED), 1);
}

static void write_file(const char *path, const char *text)
{
	assert_int_equal(pxd_test_write_file(path, text, strlen(text), O_TRUNC), 0);
}

static void test_list_file_load_and_reload(void **state)
{
	struct xdp_fixture *f = *state;
	char dir[] = "/tmp/pxd-xdp-lists-XXXXXX";
	char path[64];
	char err[256] = "";

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/deny.txt", dir);
	write_file(path, "# bad neighbours\n10.0.0.0/8\n  192.0.2.1   # one host\n\n"
			 "2001:db8::/32\r\n");
	block(f, PXD_XDP_LIST_DENY, "203.0.113.5", 0);
	assert_int_equal(
	    pxd_xdp_maps_load_file(&f->maps, PXD_XDP_LIST_DENY, path, err, sizeof(err)), 3);
	assert_int_equal(list_len(f, PXD_XDP_LIST_DENY), 4);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.1" }), XDP_DROP);

	/* The new file replaces the file entries; the manual block stays. */
	write_file(path, "192.0.2.2\n");
	assert_int_equal(
	    pxd_xdp_maps_load_file(&f->maps, PXD_XDP_LIST_DENY, path, err, sizeof(err)), 1);
	assert_int_equal(list_len(f, PXD_XDP_LIST_DENY), 2);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.1" }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.2" }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .src = "203.0.113.5" }), XDP_DROP);

	/* A bad line names file:line and changes nothing. */
	write_file(path, "192.0.2.3\n10.0.0.300/8\n");
	assert_int_equal(
	    pxd_xdp_maps_load_file(&f->maps, PXD_XDP_LIST_DENY, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "deny.txt:2: \"10.0.0.300/8\" is not a CIDR"));
	assert_int_equal(list_len(f, PXD_XDP_LIST_DENY), 2);

	/* No file: the file entries go. */
	assert_int_equal(pxd_xdp_maps_load_file(&f->maps, PXD_XDP_LIST_DENY, "", err, sizeof(err)),
			 0);
	assert_int_equal(list_len(f, PXD_XDP_LIST_DENY), 1);
	assert_int_equal(pxd_xdp_maps_load_file(&f->maps, PXD_XDP_LIST_ALLOW, "/nonexistent/allow",
						err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/allow: cannot open"));
	unlink(path);
	rmdir(dir);
}

static void test_sweep_removes_only_expired(void **state)
{
	struct xdp_fixture *f = *state;
	uint64_t now = pxd_xdp_maps_now(&f->maps);

	block(f, PXD_XDP_LIST_DENY, "192.0.2.1", now + NS);
	block(f, PXD_XDP_LIST_DENY, "192.0.2.2", now + 100 * NS);
	block(f, PXD_XDP_LIST_DENY, "2001:db8::1", now + NS);
	block(f, PXD_XDP_LIST_DENY, "192.0.2.3", 0);
	assert_int_equal(pxd_xdp_maps_sweep(&f->maps, now), 0);
	assert_int_equal(pxd_xdp_maps_sweep(&f->maps, now + 2 * NS), 2);
	assert_int_equal(list_len(f, PXD_XDP_LIST_DENY), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_allow_beats_deny, xdp_reset),
		cmocka_unit_test_setup(test_allow_skips_rate_limits, xdp_reset),
		cmocka_unit_test_setup(test_deny_by_prefix_8_and_32, xdp_reset),
		cmocka_unit_test_setup(test_deny_ipv6_prefixes, xdp_reset),
		cmocka_unit_test_setup(test_dynamic_entry_expires, xdp_reset),
		cmocka_unit_test_setup(test_expired_entry_uncovers_static_prefix, xdp_reset),
		cmocka_unit_test_setup(test_add_keeps_the_stronger_entry, xdp_reset),
		cmocka_unit_test_setup(test_list_file_load_and_reload, xdp_reset),
		cmocka_unit_test_setup(test_sweep_removes_only_expired, xdp_reset),
		cmocka_unit_test_setup(test_deny_hash_and_trie_split, xdp_reset),
		cmocka_unit_test_setup(test_expired_net_in_hash_uncovers_trie, xdp_reset),
		cmocka_unit_test_setup(test_prefilter_bits, xdp_reset),
	};

	return cmocka_run_group_tests_name("xdp_lists", tests, xdp_group_setup, xdp_group_teardown);
}
