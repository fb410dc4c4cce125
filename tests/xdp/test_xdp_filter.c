// SPDX-License-Identifier: MIT
/*
 * test_xdp_filter.c - the XDP program on crafted frames through
 * BPF_PROG_TEST_RUN, loaded from the skeleton with its maps pinned under a
 * directory of its own, and the user-space map operations (daemon/xdp_maps.c)
 * against the real maps. Time moves through the config map's clock offset.
 * Needs root (CAP_BPF + CAP_SYS_ADMIN) and a kernel with BPF and BTF.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xdp_filter.h"
#include "xdp_filter.skel.h"
#include "xdp_maps.h"

#define NS 1000000000ull
#define SERVICE_PORT 80
#define SERVICE_PORT2 8080
#define OTHER_PORT 22
#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define FRAME_MAX 512

struct fixture {
	struct xdp_filter_bpf *skel;
	struct pxd_xdp_maps maps;
	int prog_fd;
	char pin_dir[64];
};

/* What build() puts in a frame; zero fields take the ordinary value. */
struct spec {
	int v6;
	const char *src;
	uint16_t dport; /* 0: SERVICE_PORT */
	uint8_t flags;	/* TCP flags byte */
	int vlans;	/* 0..3 tags; the outer one 802.1ad when there are two or more */
	uint8_t proto;	/* 0: TCP */
	uint8_t ip_opt_words;
	uint8_t ihl;	 /* IPv4 header length field override */
	uint8_t version; /* IP version nibble override */
	uint16_t frag;	 /* IPv4 frag_off or IPv6 fragment header offset field, host order */
	uint8_t doff;	 /* TCP data offset override */
	uint8_t tcp_opt_words;
	uint8_t exts[8]; /* IPv6 extension headers, in order */
	int nexts;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t build_l4(uint8_t *b, const struct spec *s)
{
	uint8_t proto = s->proto ? s->proto : IPPROTO_TCP;
	uint16_t dport = s->dport ? s->dport : SERVICE_PORT;

	put16(b, 40000);
	put16(b + 2, dport);
	if (proto == IPPROTO_TCP) {
		uint8_t doff = s->doff ? s->doff : (uint8_t)(5 + s->tcp_opt_words);

		b[12] = (uint8_t)(doff << 4);
		b[13] = s->flags;
		put16(b + 14, 65535);
		for (int i = 0; i < s->tcp_opt_words * 4; i++)
			b[20 + i] = 1; /* NOP */
		return 20 + (size_t)s->tcp_opt_words * 4;
	}
	put16(b + 4, 8); /* UDP length / ICMP checksum: content is irrelevant */
	return 8;
}

/* Writes the frame <s> describes into <b>; returns its length. */
static size_t build(uint8_t *b, const struct spec *s)
{
	uint8_t proto = s->proto ? s->proto : IPPROTO_TCP;
	size_t off = 12;
	size_t l4;

	memset(b, 0, FRAME_MAX);
	memcpy(b, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	for (int i = 0; i < s->vlans; i++) {
		put16(b + off, i == 0 && s->vlans > 1 ? ETH_P_8021AD : ETH_P_8021Q);
		put16(b + off + 2, (uint16_t)(100 + i));
		off += 4;
	}
	put16(b + off, s->v6 ? ETH_P_IPV6 : ETH_P_IP);
	off += 2;
	if (!s->v6) {
		uint8_t *ip = b + off;
		uint8_t ihl = (uint8_t)(5 + s->ip_opt_words);

		ip[0] = (uint8_t)((s->version ? s->version : 4) << 4 | (s->ihl ? s->ihl : ihl));
		put16(ip + 6, s->frag);
		ip[8] = 64;
		ip[9] = proto;
		assert_int_equal(inet_pton(AF_INET, s->src, ip + 12), 1);
		inet_pton(AF_INET, "198.51.100.1", ip + 16);
		for (int i = 20; i < ihl * 4; i++)
			ip[i] = 1; /* NOP options */
		off += (size_t)ihl * 4;
		l4 = build_l4(b + off, s);
		put16(ip + 2, (uint16_t)(ihl * 4 + l4));
		return off + l4;
	}
	uint8_t *ip6 = b + off;
	uint8_t *next = ip6 + 6;

	ip6[0] = (uint8_t)((s->version ? s->version : 6) << 4);
	ip6[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, s->src, ip6 + 8), 1);
	inet_pton(AF_INET6, "2001:db8:ffff::1", ip6 + 24);
	off += 40;
	for (int i = 0; i < s->nexts; i++) {
		*next = s->exts[i];
		next = b + off;
		if (s->exts[i] == IPPROTO_FRAGMENT)
			put16(b + off + 2, s->frag);
		off += 8; /* hdrlen 0: 8 bytes for every kind we send */
	}
	*next = proto;
	l4 = build_l4(b + off, s);
	put16(ip6 + 4, (uint16_t)(off + l4 - (size_t)(ip6 - b) - 40));
	return off + l4;
}

static int run_frame(struct fixture *f, const uint8_t *frame, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(f->prog_fd, &opts), 0);
	return (int)opts.retval;
}

static int run(struct fixture *f, const struct spec *s)
{
	uint8_t frame[FRAME_MAX];

	return run_frame(f, frame, build(frame, s));
}

static uint64_t counter(struct fixture *f, enum pxd_xdp_counter c)
{
	uint64_t v[PXD_XDP_COUNTER_COUNT];

	assert_int_equal(pxd_xdp_maps_counters(&f->maps, v), 0);
	return v[c];
}

static void block(struct fixture *f, enum pxd_xdp_list list, const char *cidr, uint64_t expires)
{
	struct pxd_conf_cidr c;

	assert_int_equal(pxd_xdp_cidr_parse(cidr, &c), 0);
	assert_int_equal(pxd_xdp_maps_add(&f->maps, list, &c, PXD_XDP_ORIGIN_MANUAL, expires), 0);
}

static void set_buckets(struct fixture *f, uint64_t syn_interval, uint32_t syn_burst,
			uint64_t pkt_interval, uint32_t pkt_burst)
{
	struct pxd_xdp_config cfg;

	assert_int_equal(pxd_xdp_maps_get_config(&f->maps, &cfg), 0);
	cfg.syn_interval_ns = syn_interval;
	cfg.syn_tolerance_ns = syn_interval * (syn_burst - 1);
	cfg.pkt_interval_ns = pkt_interval;
	cfg.pkt_tolerance_ns = pkt_interval * (pkt_burst - 1);
	assert_int_equal(pxd_xdp_maps_set_config(&f->maps, &cfg), 0);
}

static void advance_clock(struct fixture *f, uint64_t ns)
{
	struct pxd_xdp_config cfg;

	assert_int_equal(pxd_xdp_maps_get_config(&f->maps, &cfg), 0);
	cfg.clock_offset_ns += ns;
	assert_int_equal(pxd_xdp_maps_set_config(&f->maps, &cfg), 0);
}

static int delete_entry(const struct pxd_conf_cidr *c, const struct pxd_xdp_entry *e, void *arg)
{
	struct fixture *f = arg;

	(void)e;
	assert_int_equal(pxd_xdp_maps_del(&f->maps, PXD_XDP_LIST_ALLOW, c) == 0 ||
			     pxd_xdp_maps_del(&f->maps, PXD_XDP_LIST_DENY, c) == 0,
			 1);
	return 0;
}

static void clear_hash(int fd, size_t key_size)
{
	uint8_t key[16];

	assert_true(key_size <= sizeof(key));
	while (bpf_map_get_next_key(fd, NULL, key) == 0)
		assert_int_equal(bpf_map_delete_elem(fd, key), 0);
}

static int count_entry(const struct pxd_conf_cidr *c, const struct pxd_xdp_entry *e, void *arg)
{
	(void)c;
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static int list_len(struct fixture *f, enum pxd_xdp_list list)
{
	int n = 0;

	assert_int_equal(pxd_xdp_maps_foreach(&f->maps, list, count_entry, &n), 0);
	return n;
}

/* Every test starts from empty lists and buckets, zero counters, buckets off. */
static int reset(void **state)
{
	struct fixture *f = *state;
	struct pxd_xdp_config cfg = { 0 };
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *zeros = calloc((size_t)ncpu, sizeof(uint64_t));

	assert_non_null(zeros);
	assert_int_equal(pxd_xdp_maps_foreach(&f->maps, PXD_XDP_LIST_ALLOW, delete_entry, f), 0);
	assert_int_equal(pxd_xdp_maps_foreach(&f->maps, PXD_XDP_LIST_DENY, delete_entry, f), 0);
	clear_hash(f->maps.bucket_v4, sizeof(__u32));
	clear_hash(f->maps.bucket_v6, sizeof(__u64));
	for (__u32 k = 0; k < PXD_XDP_COUNTER_COUNT; k++)
		assert_int_equal(bpf_map_update_elem(f->maps.counters, &k, zeros, BPF_ANY), 0);
	free(zeros);
	assert_int_equal(pxd_xdp_maps_set_config(&f->maps, &cfg), 0);
	return 0;
}

static void set_port(struct xdp_filter_bpf *skel, uint16_t port)
{
	skel->rodata->port_bits[port >> 6] |= 1ull << (port & 63);
}

static int group_setup(void **state)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->pin_dir, sizeof(f->pin_dir), "/sys/fs/bpf/pxd-test-xdp-%d", (int)getpid());
	if (pxd_xdp_maps_prepare_pin_dir(f->pin_dir) < 0) {
		fprintf(stderr, "no bpffs under /sys/fs/bpf: run as root\n");
		free(f);
		return -1;
	}
	opts.pin_root_path = f->pin_dir;
	f->skel = xdp_filter_bpf__open_opts(&opts);
	if (!f->skel) {
		free(f);
		return -1;
	}
	set_port(f->skel, SERVICE_PORT);
	set_port(f->skel, SERVICE_PORT2);
	if (xdp_filter_bpf__load(f->skel) < 0) {
		fprintf(stderr, "loading the XDP program failed: %s\n", strerror(errno));
		xdp_filter_bpf__destroy(f->skel);
		pxd_xdp_maps_unpin(f->pin_dir);
		free(f);
		return -1;
	}
	f->prog_fd = bpf_program__fd(f->skel->progs.xdp_ingress);
	f->maps.allow_v4 = bpf_map__fd(f->skel->maps.allow_v4);
	f->maps.allow_v6 = bpf_map__fd(f->skel->maps.allow_v6);
	f->maps.deny_v4 = bpf_map__fd(f->skel->maps.deny_v4);
	f->maps.deny_v6 = bpf_map__fd(f->skel->maps.deny_v6);
	f->maps.bucket_v4 = bpf_map__fd(f->skel->maps.bucket_v4);
	f->maps.bucket_v6 = bpf_map__fd(f->skel->maps.bucket_v6);
	f->maps.counters = bpf_map__fd(f->skel->maps.counters);
	f->maps.config = bpf_map__fd(f->skel->maps.config);
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	xdp_filter_bpf__destroy(f->skel);
	assert_int_equal(pxd_xdp_maps_unpin(f->pin_dir), 0);
	free(f);
	return 0;
}

static void test_ipv4_syn_to_service_port_passes(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, &(struct spec){ .src = "192.0.2.10", .flags = TCP_SYN }), XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_PASSED), 1);
}

static void test_ipv6_syn_to_service_port_passes(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8::10", .flags = TCP_SYN }),
			 XDP_PASS);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_PASSED), 1);
}

static void test_pins_are_created_and_reopened(void **state)
{
	struct fixture *f = *state;
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
	struct fixture *f = *state;

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
	struct fixture *f = *state;
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
	struct fixture *f = *state;

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
	struct fixture *f = *state;

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
	struct fixture *f = *state;
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
static void check_truncations(struct fixture *f, const struct spec *s)
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
	struct fixture *f = *state;
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
	struct fixture *f = *state;

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

static void test_allow_beats_deny(void **state)
{
	struct fixture *f = *state;

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
	struct fixture *f = *state;

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
	struct fixture *f = *state;

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
	struct fixture *f = *state;

	block(f, PXD_XDP_LIST_DENY, "2001:db8:aaaa::/48", 0);
	block(f, PXD_XDP_LIST_DENY, "2001:db8:bbbb::1/128", 0);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8:aaaa:1::1" }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8:aaab::1" }), XDP_PASS);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8:bbbb::1" }), XDP_DROP);
	assert_int_equal(run(f, &(struct spec){ .v6 = 1, .src = "2001:db8:bbbb::2" }), XDP_PASS);
}

static void test_dynamic_entry_expires(void **state)
{
	struct fixture *f = *state;
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
	/* The program deleted the expired entry it met. */
	assert_int_equal(bpf_map_lookup_elem(f->maps.deny_v4, &key, &e), -ENOENT);
	assert_int_equal(pxd_xdp_cidr_parse("192.0.2.50", &c), 0);
	assert_int_equal(pxd_xdp_maps_del(&f->maps, PXD_XDP_LIST_DENY, &c), -ENOENT);
}

static void test_expired_entry_uncovers_static_prefix(void **state)
{
	struct fixture *f = *state;

	block(f, PXD_XDP_LIST_DENY, "10.0.0.0/8", 0);
	block(f, PXD_XDP_LIST_DENY, "10.9.9.9/32", pxd_xdp_maps_now(&f->maps) + NS);
	assert_int_equal(run(f, &(struct spec){ .src = "10.9.9.9" }), XDP_DROP);
	advance_clock(f, 2 * NS);
	assert_int_equal(run(f, &(struct spec){ .src = "10.9.9.9" }), XDP_DROP);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_DYNAMIC), 1);
	assert_int_equal(counter(f, PXD_XDP_COUNTER_DENIED_STATIC), 1);
	assert_int_equal(list_len(f, PXD_XDP_LIST_DENY), 1);
}

static void test_syn_bucket_passes_exactly_burst(void **state)
{
	struct fixture *f = *state;
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
	struct fixture *f = *state;
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
	struct fixture *f = *state;
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
	struct fixture *f = *state;
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

static void test_add_keeps_the_stronger_entry(void **state)
{
	struct fixture *f = *state;
	struct pxd_xdp_lpm_v4 key = { .prefixlen = 24, .addr = { 192, 0, 2, 0 } };
	struct pxd_conf_cidr c;
	struct pxd_xdp_entry e;

	assert_int_equal(pxd_xdp_cidr_parse("192.0.2.0/24", &c), 0);
	assert_int_equal(pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_FILE, 0),
			 0);
	/* A bot block does not shorten a static entry. */
	assert_int_equal(pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_BOT, 5),
			 0);
	assert_int_equal(bpf_map_lookup_elem(f->maps.deny_v4, &key, &e), 0);
	assert_int_equal(e.expires_ns, 0);
	assert_int_equal(e.origin, PXD_XDP_ORIGIN_FILE);
	/* A manual static block takes it over, and a file reload then leaves it alone. */
	assert_int_equal(
	    pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_MANUAL, 0), 0);
	assert_int_equal(pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_FILE, 0),
			 0);
	assert_int_equal(bpf_map_lookup_elem(f->maps.deny_v4, &key, &e), 0);
	assert_int_equal(e.origin, PXD_XDP_ORIGIN_MANUAL);
	/* Between dynamic entries the later expiry wins. */
	assert_int_equal(pxd_xdp_cidr_parse("192.0.2.9", &c), 0);
	key.prefixlen = 32;
	key.addr[3] = 9;
	assert_int_equal(pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_BOT, 100),
			 0);
	assert_int_equal(pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_BOT, 50),
			 0);
	assert_int_equal(bpf_map_lookup_elem(f->maps.deny_v4, &key, &e), 0);
	assert_int_equal(e.expires_ns, 100);
	assert_int_equal(pxd_xdp_maps_add(&f->maps, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_BOT, 200),
			 0);
	assert_int_equal(bpf_map_lookup_elem(f->maps.deny_v4, &key, &e), 0);
	assert_int_equal(e.expires_ns, 200);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_list_file_load_and_reload(void **state)
{
	struct fixture *f = *state;
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
	struct fixture *f = *state;
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
		cmocka_unit_test_setup(test_ipv4_syn_to_service_port_passes, reset),
		cmocka_unit_test_setup(test_ipv6_syn_to_service_port_passes, reset),
		cmocka_unit_test_setup(test_pins_are_created_and_reopened, reset),
		cmocka_unit_test_setup(test_other_ports_pass_untouched, reset),
		cmocka_unit_test_setup(test_non_tcp_passes_untouched, reset),
		cmocka_unit_test_setup(test_vlan_and_qinq_are_parsed, reset),
		cmocka_unit_test_setup(test_ipv4_options_and_fragments, reset),
		cmocka_unit_test_setup(test_ipv6_extension_headers, reset),
		cmocka_unit_test_setup(test_truncated_headers_at_every_length, reset),
		cmocka_unit_test_setup(test_invalid_headers_are_malformed, reset),
		cmocka_unit_test_setup(test_allow_beats_deny, reset),
		cmocka_unit_test_setup(test_allow_skips_rate_limits, reset),
		cmocka_unit_test_setup(test_deny_by_prefix_8_and_32, reset),
		cmocka_unit_test_setup(test_deny_ipv6_prefixes, reset),
		cmocka_unit_test_setup(test_dynamic_entry_expires, reset),
		cmocka_unit_test_setup(test_expired_entry_uncovers_static_prefix, reset),
		cmocka_unit_test_setup(test_syn_bucket_passes_exactly_burst, reset),
		cmocka_unit_test_setup(test_syn_bucket_refills_with_time, reset),
		cmocka_unit_test_setup(test_packet_bucket_limits_all_packets, reset),
		cmocka_unit_test_setup(test_buckets_are_per_source, reset),
		cmocka_unit_test_setup(test_add_keeps_the_stronger_entry, reset),
		cmocka_unit_test_setup(test_list_file_load_and_reload, reset),
		cmocka_unit_test_setup(test_sweep_removes_only_expired, reset),
	};

	return cmocka_run_group_tests_name("xdp_filter", tests, group_setup, group_teardown);
}
