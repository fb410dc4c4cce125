// SPDX-License-Identifier: MIT
/* The XDP program's per-source SYN and packet buckets: exact bursts, refill
 * with time, one bucket per source. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "xdp_filter_test.h"

static void test_syn_bucket_passes_exactly_burst(void **state)
{
	struct xdp_fixture *f = *state;
	struct spec syn = { .src = "192.0.2.20", .flags = TCP_SYN };
	struct spec ack = { .src = "192.0.2.20", .flags = TCP_ACK };

	set_buckets(f, NS, 5, 0, 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(run(f, &syn), XDP_PASS);
	assert_int_equal(run(f, &syn), XDP_DROP);
	assert_int_equal(run(f, &syn), XDP_DROP);
	/* Established traffic is not a new connection: no SYN bucket, and no packet bucket. */
	for (int i = 0; i < 20; i++)
		assert_int_equal(run(f, &ack), XDP_PASS);
	/* A SYN-ACK is not a new inbound connection either. */
	syn.flags = TCP_SYN | TCP_ACK;
	assert_int_equal(run(f, &syn), XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_RATE_LIMITED_SYN), 2);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_PASSED), 26);
}

static void test_syn_bucket_refills_with_time(void **state)
{
	struct xdp_fixture *f = *state;
	struct spec syn = { .src = "192.0.2.21", .flags = TCP_SYN };

	set_buckets(f, NS, 5, 0, 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(run(f, &syn), XDP_PASS);
	assert_int_equal(run(f, &syn), XDP_DROP);
	advance_clock(f, 3 * NS);
	for (int i = 0; i < 3; i++)
		assert_int_equal(run(f, &syn), XDP_PASS);
	assert_int_equal(run(f, &syn), XDP_DROP);
	/* A long quiet spell fills the bucket to <burst>, not beyond. */
	advance_clock(f, 3600 * NS);
	for (int i = 0; i < 5; i++)
		assert_int_equal(run(f, &syn), XDP_PASS);
	assert_int_equal(run(f, &syn), XDP_DROP);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_RATE_LIMITED_SYN), 3);
}

static void test_packet_bucket_limits_all_packets(void **state)
{
	struct xdp_fixture *f = *state;
	struct spec ack = { .src = "192.0.2.22", .flags = TCP_ACK };

	set_buckets(f, 0, 1, NS, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(run(f, &ack), XDP_PASS);
	assert_int_equal(run(f, &ack), XDP_DROP);
	advance_clock(f, NS);
	assert_int_equal(run(f, &ack), XDP_PASS);
	assert_int_equal(run(f, &ack), XDP_DROP);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_RATE_LIMITED), 2);
	/* Other ports are not ours: never limited. */
	ack.dport = OTHER_PORT;
	assert_int_equal(run(f, &ack), XDP_PASS);
}

static void test_buckets_are_per_source(void **state)
{
	struct xdp_fixture *f = *state;
	struct spec a = { .src = "192.0.2.30", .flags = TCP_SYN };
	struct spec b = { .src = "192.0.2.31", .flags = TCP_SYN };
	struct spec v6a = { .v6 = 1, .src = "2001:db8:0:1::1", .flags = TCP_SYN };
	struct spec v6a2 = { .v6 = 1, .src = "2001:db8:0:1::2", .flags = TCP_SYN };
	struct spec v6b = { .v6 = 1, .src = "2001:db8:0:2::1", .flags = TCP_SYN };

	set_buckets(f, NS, 3, 0, 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(run(f, &a), XDP_PASS);
	assert_int_equal(run(f, &a), XDP_DROP);
	for (int i = 0; i < 3; i++)
		assert_int_equal(run(f, &b), XDP_PASS);
	/* IPv6 sources share the bucket of their /64. */
	assert_int_equal(run(f, &v6a), XDP_PASS);
	assert_int_equal(run(f, &v6a2), XDP_PASS);
	assert_int_equal(run(f, &v6a), XDP_PASS);
	assert_int_equal(run(f, &v6a2), XDP_DROP);
	assert_int_equal(run(f, &v6b), XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_RATE_LIMITED_SYN), 2);
	assert_int_equal(pxd_xdp_maps_fill(f->maps.bucket_v4), 2);
	assert_int_equal(pxd_xdp_maps_fill(f->maps.bucket_v6), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_syn_bucket_passes_exactly_burst, xdp_reset),
		cmocka_unit_test_setup(test_syn_bucket_refills_with_time, xdp_reset),
		cmocka_unit_test_setup(test_packet_bucket_limits_all_packets, xdp_reset),
		cmocka_unit_test_setup(test_buckets_are_per_source, xdp_reset),
	};

	return cmocka_run_group_tests_name("xdp_buckets", tests, xdp_group_setup,
					   xdp_group_teardown);
}
