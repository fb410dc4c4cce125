/* SPDX-License-Identifier: MIT */
/*
 * xdp_filter_test.h - the fixture of the XDP filter tests (header-only,
 * tests only): the program loaded from the skeleton with its maps pinned under
 * a directory of its own, a frame builder for BPF_PROG_TEST_RUN, and map
 * helpers over daemon/xdp/xdp_maps.c. Time moves through the config map's
 * clock offset. Needs root (CAP_BPF + CAP_SYS_ADMIN) and a kernel with BPF and
 * BTF. Include after <cmocka.h>.
 */
#ifndef PXD_XDP_FILTER_TEST_H
#define PXD_XDP_FILTER_TEST_H

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

struct xdp_fixture {
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

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline size_t build_l4(uint8_t *b, const struct spec *s)
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
static inline size_t build(uint8_t *b, const struct spec *s)
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

static inline int run_frame(struct xdp_fixture *f, const uint8_t *frame, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(f->prog_fd, &opts), 0);
	return (int)opts.retval;
}

static inline int run(struct xdp_fixture *f, const struct spec *s)
{
	uint8_t frame[FRAME_MAX];

	return run_frame(f, frame, build(frame, s));
}

static inline uint64_t counter(struct xdp_fixture *f, enum pxd_xdp_counter c)
{
	uint64_t v[PXD_XDP_COUNTER_COUNT];

	assert_int_equal(pxd_xdp_maps_counters(&f->maps, v), 0);
	return v[c];
}

static inline void block(struct xdp_fixture *f, enum pxd_xdp_list list, const char *cidr,
			 uint64_t expires)
{
	struct pxd_conf_cidr c;

	assert_int_equal(pxd_xdp_cidr_parse(cidr, &c), 0);
	assert_int_equal(pxd_xdp_maps_add(&f->maps, list, &c, PXD_XDP_ORIGIN_MANUAL, expires), 0);
}

static inline void set_buckets(struct xdp_fixture *f, uint64_t syn_interval, uint32_t syn_burst,
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

static inline void advance_clock(struct xdp_fixture *f, uint64_t ns)
{
	struct pxd_xdp_config cfg;

	assert_int_equal(pxd_xdp_maps_get_config(&f->maps, &cfg), 0);
	cfg.clock_offset_ns += ns;
	assert_int_equal(pxd_xdp_maps_set_config(&f->maps, &cfg), 0);
}

static inline int delete_entry(const struct pxd_conf_cidr *c, const struct pxd_xdp_entry *e,
			       void *arg)
{
	struct xdp_fixture *f = arg;

	(void)e;
	assert_int_equal(pxd_xdp_maps_del(&f->maps, PXD_XDP_LIST_ALLOW, c) == 0 ||
			     pxd_xdp_maps_del(&f->maps, PXD_XDP_LIST_DENY, c) == 0,
			 1);
	return 0;
}

static inline void clear_hash(int fd, size_t key_size)
{
	uint8_t key[16];

	assert_true(key_size <= sizeof(key));
	while (bpf_map_get_next_key(fd, NULL, key) == 0)
		assert_int_equal(bpf_map_delete_elem(fd, key), 0);
}

static inline int count_entry(const struct pxd_conf_cidr *c, const struct pxd_xdp_entry *e,
			      void *arg)
{
	(void)c;
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static inline int list_len(struct xdp_fixture *f, enum pxd_xdp_list list)
{
	int n = 0;

	assert_int_equal(pxd_xdp_maps_foreach(&f->maps, list, count_entry, &n), 0);
	return n;
}

/* Every test starts from empty lists and buckets, zero counters, buckets off. */
static inline int xdp_reset(void **state)
{
	struct xdp_fixture *f = *state;
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

static inline void set_port(struct xdp_filter_bpf *skel, uint16_t port)
{
	skel->rodata->port_bits[port >> 6] |= 1ull << (port & 63);
}

static inline int xdp_group_setup(void **state)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct xdp_fixture *f = calloc(1, sizeof(*f));
	int err;

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
	err = pxd_xdp_maps_from_object(f->skel->obj, &f->maps);
	if (err < 0) {
		fprintf(stderr, "opening the XDP maps failed: %s\n", strerror(-err));
		xdp_filter_bpf__destroy(f->skel);
		pxd_xdp_maps_unpin(f->pin_dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int xdp_group_teardown(void **state)
{
	struct xdp_fixture *f = *state;

	pxd_xdp_maps_close(&f->maps);
	xdp_filter_bpf__destroy(f->skel);
	assert_int_equal(pxd_xdp_maps_unpin(f->pin_dir), 0);
	free(f);
	return 0;
}

#endif
