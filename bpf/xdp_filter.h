/* SPDX-License-Identifier: MIT */
/*
 * xdp_filter.h - the ABI between bpf/xdp_filter.bpf.c and user space
 * (daemon/xdp/xdp_ctl.c, daemon/xdp/xdp_maps.c, pixelctl, tests, bench): map names,
 * pin directory, map keys and values, the counter enum. Fixed-width types and
 * explicit padding only, no libc, so both compilers lay it out the same way.
 */
#ifndef PXD_XDP_FILTER_H
#define PXD_XDP_FILTER_H

#include <linux/types.h>

/* Where pixeld pins its maps unless [xdp] pin_dir says otherwise. */
#define PXD_XDP_PIN_DIR "/sys/fs/bpf/pixeld"

/* The program (named for its hook) and the maps, as bpftool and pins show them. */
#define PXD_XDP_PROG_NAME "xdp_ingress"
#define PXD_XDP_MAP_ALLOW_V4 "allow_v4"
#define PXD_XDP_MAP_ALLOW_V6 "allow_v6"
#define PXD_XDP_MAP_DENY_V4 "deny_v4"
#define PXD_XDP_MAP_DENY_V6 "deny_v6"
#define PXD_XDP_MAP_DENY_HASH_V4 "deny_hash_v4"
#define PXD_XDP_MAP_DENY_HASH_V6 "deny_hash_v6"
#define PXD_XDP_MAP_PREFIX_BITS "prefix_bits"
#define PXD_XDP_MAP_BUCKET_V4 "bucket_v4"
#define PXD_XDP_MAP_BUCKET_V6 "bucket_v6"
#define PXD_XDP_MAP_COUNTERS "counters"
#define PXD_XDP_MAP_CONFIG "config"

/* Default capacities; user space may resize before load ([xdp] max_cidrs, max_sources). */
#define PXD_XDP_DEFAULT_CIDRS 65536
#define PXD_XDP_DEFAULT_SOURCES 131072

/*
 * Per-CPU packet counters, one slot per verdict reason. Each CPU writes only
 * its own slot and an XDP program runs to completion on one CPU, so a plain
 * increment is exact; readers sum the slots over the possible CPUs.
 */
enum pxd_xdp_counter {
	PXD_XDP_COUNTER_NOT_SERVICE = 0, /* pass: not TCP to a service port (or no L4 visible) */
	PXD_XDP_COUNTER_MALFORMED, /* pass: truncated or invalid headers; the stack drops them */
	PXD_XDP_COUNTER_ALLOWED,   /* pass: would be dropped, but the source is allowed */
	PXD_XDP_COUNTER_PASSED,	   /* pass: every check passed */
	PXD_XDP_COUNTER_DENIED_STATIC,	  /* drop: deny entry without expiry */
	PXD_XDP_COUNTER_DENIED_DYNAMIC,	  /* drop: deny entry not yet expired */
	PXD_XDP_COUNTER_RATE_LIMITED_SYN, /* drop: the source's SYN bucket is empty */
	PXD_XDP_COUNTER_RATE_LIMITED,	  /* drop: the source's all-packet bucket is empty */
	PXD_XDP_COUNTER_COUNT,		  /* number of counters; keep last */
};

/*
 * LPM trie keys for allow_* and deny_*: the kernel wants the prefix length
 * first (struct bpf_lpm_trie_key), then the address in network byte order.
 */
struct pxd_xdp_lpm_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct pxd_xdp_lpm_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/*
 * Deny entries of the lengths lists and bot blocks use most live in an exact-match hash
 * (deny_hash_*, keyed by the same structs with the host bits zero): a hash probe costs the
 * same whatever the list holds, a trie walk grows with its depth. IPv4 /32 and /24, IPv6
 * /128 and /64; every other length stays in the LPM trie (deny_*). Allow entries are all in
 * the trie: the allow list is only consulted for a packet that would be dropped.
 */
#define PXD_XDP_HASH_V4_HOST 32
#define PXD_XDP_HASH_V4_NET 24
#define PXD_XDP_HASH_V6_HOST 128
#define PXD_XDP_HASH_V6_NET 64

/* True when a deny entry of <prefixlen> for the family (<v6> 0 or 1) lives in the hash. */
#define PXD_XDP_DENY_HASHED(v6, prefixlen)                                                \
	((v6) ? (prefixlen) == PXD_XDP_HASH_V6_HOST || (prefixlen) == PXD_XDP_HASH_V6_NET \
	      : (prefixlen) == PXD_XDP_HASH_V4_HOST || (prefixlen) == PXD_XDP_HASH_V4_NET)

/*
 * prefix_bits: a prefilter in front of every list lookup. For each run of addresses sharing
 * their first 24 bits (an IPv4 /24; for IPv6 the first 24 bits, both families share the
 * bits) it says which lookups can find something there: a deny host entry (/32, /128), a
 * deny network entry (/24, /64), a deny entry in the trie (other lengths), an allow entry.
 * A packet skips each lookup whose bit is clear; most legitimate packets skip them all. User
 * space sets the bits (atomic OR through the mmap'd map) before it inserts the entry and
 * never clears them, so a set bit may be stale (it costs the lookup it would have saved) but
 * a clear bit is never wrong. One element covers 64 consecutive runs: bit (top24 & 63) of
 * element (top24 >> 6).
 */
#define PXD_XDP_PREFIX_BITS 24
#define PXD_XDP_PREFIX_WORDS ((1u << PXD_XDP_PREFIX_BITS) / 64)

struct pxd_xdp_prefix_word {
	__u64 deny_host;
	__u64 deny_net;
	__u64 deny_trie;
	__u64 allow;
};

/* Who put an allow/deny entry there: `lists reload` replaces only FILE entries. */
enum pxd_xdp_origin {
	PXD_XDP_ORIGIN_FILE = 0, /* deny_file / allow_file */
	PXD_XDP_ORIGIN_MANUAL,	 /* pixelctl block / allow */
	PXD_XDP_ORIGIN_BOT,	 /* pixeld saw a bot user agent (bot_block = ua+ip) */
	PXD_XDP_ORIGIN_COUNT,	 /* number of origins; keep last */
};

/*
 * Value of allow_* and deny_*. <expires_ns> is on the program's clock,
 * bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC_COARSE); 0 means never. The program ignores it on
 * allow entries, which user space always writes with 0. <prefixlen> repeats the key's: a lookup
 * returns only the value of the longest match, and the program needs the matched key to delete an
 * expired entry.
 */
struct pxd_xdp_entry {
	__u64 expires_ns;
	__u32 origin; /* enum pxd_xdp_origin */
	__u32 prefixlen;
};

/*
 * Value of bucket_v4 (key: the IPv4 source, network order) and bucket_v6
 * (key: the first 8 bytes of the IPv6 source, its /64). Each bucket is one
 * GCRA "theoretical arrival time": the bucket is full when it lies in the
 * past and empty when it lies more than the tolerance in the future. One
 * word per bucket means a concurrent update from another CPU can at worst
 * let one extra packet through, never tear the state.
 */
struct pxd_xdp_bucket {
	__u64 syn_tat_ns; /* new connections (SYN without ACK) */
	__u64 pkt_tat_ns; /* every packet to a service port */
};

/*
 * The single entry of the config array: settings that change at runtime
 * (SIGHUP) and what the loader recorded about the attachment. A bucket is
 * off when its interval is 0. tolerance = (burst - 1) * interval, so exactly
 * <burst> packets pass at once from a full bucket.
 */
struct pxd_xdp_config {
	__u64 syn_interval_ns; /* ns per SYN token: 1e9 / syn_rate */
	__u64 syn_tolerance_ns;
	__u64 pkt_interval_ns; /* ns per packet token: 1e9 / rate */
	__u64 pkt_tolerance_ns;
	/* Test hook: added to the program's clock so tests move time without
	 * sleeping. pixeld always writes 0. */
	__u64 clock_offset_ns;
	/* Written by the loader for `pixelctl xdp status`; the program ignores them. */
	__u32 ifindex;
	__u32 attach_mode; /* enum pxd_xdp_attach */
	__u32 prog_id;
	__u32 _pad;
};

/* How the program is attached, as recorded in pxd_xdp_config.attach_mode. */
enum pxd_xdp_attach {
	PXD_XDP_ATTACH_NONE = 0,
	PXD_XDP_ATTACH_NATIVE,	/* driver mode */
	PXD_XDP_ATTACH_GENERIC, /* skb mode */
	PXD_XDP_ATTACH_COUNT,	/* number of modes; keep last */
};

/* The service-port bitmap in the program's rodata: bit p set = TCP port p is ours. */
#define PXD_XDP_PORT_WORDS (65536 / 64)

_Static_assert(sizeof(struct pxd_xdp_lpm_v4) == 8, "lpm_v4 layout");
_Static_assert(sizeof(struct pxd_xdp_lpm_v6) == 20, "lpm_v6 layout");
_Static_assert(sizeof(struct pxd_xdp_entry) == 16, "entry layout");
_Static_assert(sizeof(struct pxd_xdp_bucket) == 16, "bucket layout");
_Static_assert(sizeof(struct pxd_xdp_config) == 56, "config layout");
_Static_assert(sizeof(struct pxd_xdp_prefix_word) == 32, "prefix word layout");

#endif
