/* SPDX-License-Identifier: MIT */
/*
 * pkt_parse.bpf.h - bounds-checked cursor parsers for the XDP program:
 * Ethernet with up to two VLAN tags, IPv4 with options, IPv6 with a bounded
 * run of extension headers, TCP. Each helper checks that the header lies
 * inside the frame before reading it, advances the cursor, and returns the
 * next protocol or -1. BPF programs only.
 */
#ifndef PXD_PKT_PARSE_BPF_H
#define PXD_PKT_PARSE_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* More extension headers than this and we cannot see the TCP header: malformed. */
#define PKT_IPV6_MAX_EXT 6
#define PKT_MAX_VLAN 2
/* The fragment offset bits of iphdr.frag_off (the kernel's IP_OFFSET is not UAPI). */
#define PKT_IP_OFFSET 0x1fff

struct pkt_cursor {
	void *pos;
	void *end;
};

struct pkt_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* The common prefix of the IPv6 extension headers we skip (RFC 8200 §4). */
struct pkt_ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct pkt_ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3 | flags */
	__be32 id;
};

/*
 * Skips the Ethernet header and up to PKT_MAX_VLAN 802.1Q/802.1ad tags.
 * Returns the inner EtherType in host order, or -1 when the frame ends first.
 */
static __always_inline int pkt_parse_eth(struct pkt_cursor *c)
{
	struct ethhdr *eth = c->pos;
	__u16 proto;

	if ((void *)(eth + 1) > c->end)
		return -1;
	c->pos = eth + 1;
	proto = bpf_ntohs(eth->h_proto);
#pragma unroll
	for (int i = 0; i < PKT_MAX_VLAN; i++) {
		struct pkt_vlan_hdr *vh = c->pos;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if ((void *)(vh + 1) > c->end)
			return -1;
		c->pos = vh + 1;
		proto = bpf_ntohs(vh->proto);
	}
	return proto;
}

/*
 * Skips an IPv4 header including options and sets <*iph>. Returns the L4
 * protocol, IPPROTO_NONE for a non-first fragment (no L4 header to see), or
 * -1 for a short frame, a version other than 4 or an IHL below 5.
 */
static __always_inline int pkt_parse_ipv4(struct pkt_cursor *c, struct iphdr **iph)
{
	struct iphdr *h = c->pos;
	__u32 len;

	if ((void *)(h + 1) > c->end)
		return -1;
	if (h->version != 4 || h->ihl < 5)
		return -1;
	len = h->ihl * 4;
	if (c->pos + len > c->end)
		return -1;
	c->pos += len;
	*iph = h;
	if (h->frag_off & bpf_htons(PKT_IP_OFFSET))
		return IPPROTO_NONE;
	return h->protocol;
}

static __always_inline int pkt_ipv6_is_ext(__u8 next)
{
	return next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS ||
	       next == IPPROTO_AH || next == IPPROTO_FRAGMENT;
}

/*
 * Skips an IPv6 header and the extension headers a TCP segment may carry
 * (hop-by-hop, routing, destination options, fragment, AH), at most
 * PKT_IPV6_MAX_EXT of them, and sets <*ip6h>. Returns the L4 protocol,
 * IPPROTO_NONE for a non-first fragment, or -1 for a short frame, a version
 * other than 6, or more extension headers than the bound.
 */
static __always_inline int pkt_parse_ipv6(struct pkt_cursor *c, struct ipv6hdr **ip6h)
{
	struct ipv6hdr *h = c->pos;
	__u8 next;

	if ((void *)(h + 1) > c->end)
		return -1;
	if (h->version != 6)
		return -1;
	c->pos = h + 1;
	*ip6h = h;
	next = h->nexthdr;
#pragma unroll
	for (int i = 0; i < PKT_IPV6_MAX_EXT; i++) {
		struct pkt_ipv6_ext *ext = c->pos;
		struct pkt_ipv6_frag *frag = c->pos;

		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(ext + 1) > c->end)
				return -1;
			next = ext->nexthdr;
			c->pos += (ext->hdrlen + 1) * 8;
			break;
		case IPPROTO_AH: /* RFC 4302: length in 4-byte units, minus 2 */
			if ((void *)(ext + 1) > c->end)
				return -1;
			next = ext->nexthdr;
			c->pos += (ext->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if ((void *)(frag + 1) > c->end)
				return -1;
			if (frag->frag_off & bpf_htons(0xfff8))
				return IPPROTO_NONE;
			next = frag->nexthdr;
			c->pos = frag + 1;
			break;
		default:
			return next;
		}
	}
	return pkt_ipv6_is_ext(next) ? -1 : next;
}

/*
 * Checks the TCP header including its options and sets <*tcph>. Returns
 * IPPROTO_TCP, or -1 for a short frame or a data offset below 5.
 */
static __always_inline int pkt_parse_tcp(struct pkt_cursor *c, struct tcphdr **tcph)
{
	struct tcphdr *h = c->pos;
	__u32 len;

	if ((void *)(h + 1) > c->end)
		return -1;
	len = h->doff * 4;
	if (len < sizeof(*h) || c->pos + len > c->end)
		return -1;
	c->pos += len;
	*tcph = h;
	return IPPROTO_TCP;
}

#endif
