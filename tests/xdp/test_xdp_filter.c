// SPDX-License-Identifier: MIT
/*
 * The XDP program's parsing on crafted frames through BPF_PROG_TEST_RUN:
 * what passes untouched, VLANs, IP options, fragments, IPv6 extension
 * headers, every truncation and malformed header; and its pins.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "xdp_filter_test.h"

static void test_ipv4_syn_to_service_port_passes(void **state)
{
	struct xdp_fixture *f = *state;

	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.10", .flags = TCP_SYN }), XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_PASSED), 1);
}

static void test_ipv6_syn_to_service_port_passes(void **state)
{
	struct xdp_fixture *f = *state;

	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8::10", .flags = TCP_SYN }),
			 XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_PASSED), 1);
}

static void test_pins_are_created_and_reopened(void **state)
{
	struct xdp_fixture *f = *state;
	struct pxd_xdp_maps pinned;
	struct pxd_xdp_config cfg = { .syn_interval_ns = 12345 };
	struct pxd_xdp_config back;

	assert_int_equal(pxd_xdp_maps_open_pinned(f->pin_dir, &pinned), 0);
	assert_int_equal(pxd_xdp_maps_set_config(&pinned, &cfg), 0);
	assert_int_equal(pxd_xdp_maps_get_config(&f->maps, &back), 0);
	assert_int_equal(back.syn_interval_ns, 12345);
	pxd_xdp_maps_close(&pinned);
	assert_int_equal(pinned.config, -1);
	assert_int_equal(pxd_xdp_maps_open_pinned("/sys/fs/bpf/pxd-test-none", &pinned), -ENOENT);
}

static void test_other_ports_pass_untouched(void **state)
{
	struct xdp_fixture *f = *state;

	block(f, PXD_XDP_LIST_DENY, "192.0.2.0/24", 0);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.10", .dport = OTHER_PORT }),
			 XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.10", .dport = SERVICE_PORT2 }),
			 XDP_DROP);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_NOT_SERVICE), 1);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_STATIC), 1);
}

static void test_non_tcp_passes_untouched(void **state)
{
	struct xdp_fixture *f = *state;
	uint8_t arp[60] = { 0 };

	block(f, PXD_XDP_LIST_DENY, "0.0.0.0/0", 0);
	block(f, PXD_XDP_LIST_DENY, "::/0", 0);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.1", .proto = IPPROTO_UDP }),
			 XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.1", .proto = IPPROTO_ICMP }),
			 XDP_PASS);
	assert_int_equal(
	    run(f, &(struct spec){ .v6 = 1, .src = "2001:db8::1", .proto = IPPROTO_UDP }),
	    XDP_PASS);
	put16(arp + 12, ETH_P_ARP);
	assert_int_equal(run_frame(f, arp, sizeof(arp)), XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_NOT_SERVICE), 4);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.1" }), XDP_DROP);
}

static void test_vlan_and_qinq_are_parsed(void **state)
{
	struct xdp_fixture *f = *state;

	block(f, PXD_XDP_LIST_DENY, "192.0.2.10/32", 0);
	block(f, PXD_XDP_LIST_DENY, "2001:db8::10/128", 0);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.10", .vlans = 1 }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.10", .vlans = 2 }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8::10", .vlans = 2 }),
			 XDP_DROP);
	/* A third tag is beyond the parser's bound: not ours to judge. */
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.10", .vlans = 3 }), XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_STATIC), 3);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_NOT_SERVICE), 1);
}

static void test_ipv4_options_and_fragments(void **state)
{
	struct xdp_fixture *f = *state;

	block(f, PXD_XDP_LIST_DENY, "192.0.2.10/32", 0);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.10", .ip_opt_words = 10 }),
			 XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.10", .tcp_opt_words = 3 }),
			 XDP_DROP);
	/* First fragment (MF set, offset 0) carries the TCP header; later ones do not. */
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.10", .frag = 0x2000 }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.10", .frag = 0x2000 | 185 }),
			 XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_STATIC), 3);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_NOT_SERVICE), 1);
}

static void test_ipv6_extension_headers(void **state)
{
	struct xdp_fixture *f = *state;
	struct spec s = { .v6 = 1, .src = "2001:db8::10" };

	block(f, PXD_XDP_LIST_DENY, "2001:db8::/32", 0);
	s.nexts = 3;
	memcpy(s.exts, (uint8_t[]){ IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS }, 3);
	assert_int_equal(run(f, &s), XDP_DROP);
	s.nexts = 1;
	s.exts[0] = IPPROTO_FRAGMENT;
	s.frag = 0x0001; /* first fragment, M flag */
	assert_int_equal(run(f, &s), XDP_DROP);
	s.frag = 0x0008 | 1; /* offset 1: no TCP header here */
	assert_int_equal(run(f, &s), XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_NOT_SERVICE), 1);
	/* Six extension headers is the bound; a seventh hides the TCP header. */
	s.frag = 0;
	s.nexts = 6;
	memset(s.exts, IPPROTO_DSTOPTS, 6);
	assert_int_equal(run(f, &s), XDP_DROP);
	s.nexts = 7;
	memset(s.exts, IPPROTO_DSTOPTS, 7);
	assert_int_equal(run(f, &s), XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_MALFORMED), 1);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_STATIC), 3);
}

/* Every prefix of a frame shorter than the whole passes as malformed; the whole is dropped. */
static void check_truncations(struct xdp_fixture *f, const struct spec *s)
{
	uint8_t frame[FRAME_MAX];
	size_t len = build(frame, s);
	uint64_t before = counter(f, PXD_XDP_COUNTER_MALFORMED);

	/* The kernel refuses test frames shorter than an Ethernet header. */
	for (size_t n = ETH_HLEN; n < len; n++) {
		uint8_t *copy = malloc(n);

		assert_non_null(copy);
		memcpy(copy, frame, n);
		assert_int_equal(run_frame(f, copy, n), XDP_PASS);
		free(copy);
	}
	assert_int_equal(counter(f, PXD_XDP_COUNTER_MALFORMED) - before, len - ETH_HLEN);
	assert_int_equal(run_frame(f, frame, len), XDP_DROP);
}

static void test_truncated_headers_at_every_length(void **state)
{
	struct xdp_fixture *f = *state;
	struct spec v6ext = { .v6 = 1, .src = "2001:db8::10", .vlans = 2, .nexts = 2 };

	block(f, PXD_XDP_LIST_DENY, "192.0.2.10/32", 0);
	block(f, PXD_XDP_LIST_DENY, "2001:db8::10/128", 0);
	memcpy(v6ext.exts, (uint8_t[]){ IPPROTO_HOPOPTS, IPPROTO_FRAGMENT }, 2);
	check_truncations(f, &(struct spec){ .src = "192.0.2.10", .flags = TCP_SYN });
	check_truncations(
	    f, &(struct spec){
		   .src = "192.0.2.10", .vlans = 1, .ip_opt_words = 2, .tcp_opt_words = 2 });
	check_truncations(f, &(struct spec){ .v6 = 1, .src = "2001:db8::10" });
	check_truncations(f, &v6ext);
}

static void test_invalid_headers_are_malformed(void **state)
{
	struct xdp_fixture *f = *state;

	block(f, PXD_XDP_LIST_DENY, "0.0.0.0/0", 0);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.1", .ihl = 4 }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.1", .version = 6 }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.1", .doff = 4 }), XDP_PASS);
	/* A data offset pointing past the end of the frame. */
	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.1", .doff = 15 }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8::1", .version = 4 }),
			 XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_MALFORMED), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ipv4_syn_to_service_port_passes, xdp_reset),
		cmocka_unit_test_setup(test_ipv6_syn_to_service_port_passes, xdp_reset),
		cmocka_unit_test_setup(test_pins_are_created_and_reopened, xdp_reset),
		cmocka_unit_test_setup(test_other_ports_pass_untouched, xdp_reset),
		cmocka_unit_test_setup(test_non_tcp_passes_untouched, xdp_reset),
		cmocka_unit_test_setup(test_vlan_and_qinq_are_parsed, xdp_reset),
		cmocka_unit_test_setup(test_ipv4_options_and_fragments, xdp_reset),
		cmocka_unit_test_setup(test_ipv6_extension_headers, xdp_reset),
		cmocka_unit_test_setup(test_truncated_headers_at_every_length, xdp_reset),
		cmocka_unit_test_setup(test_invalid_headers_are_malformed, xdp_reset),
	};

	return cmocka_run_group_tests_name("xdp_filter", tests, xdp_group_setup,
					   xdp_group_teardown);
}
