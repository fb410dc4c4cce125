// SPDX-License-Identifier: MIT
/*
 * xdp_filter.bpf.c - pixeld's first line of defence. For TCP packets to a
 * service port, by precedence: source on the allow list -> PASS; on the deny
 * list (static, or dynamic and not yet expired; /32, /24, /128 and /64 in an
 * exact-match hash, other lengths in an LPM trie) -> DROP; its SYN bucket or
 * its all-packet bucket empty -> DROP; otherwise PASS. Everything else passes
 * untouched. Every verdict is counted per CPU (enum pxd_xdp_counter).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pkt_parse.bpf.h"
#include "token_bucket.bpf.h"
#include "xdp_filter.h"

/* Set by the loader before load (skel->rodata); bit p = TCP port p is ours. */
const volatile __u64 port_bits[PXD_XDP_PORT_WORDS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PXD_XDP_DEFAULT_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pxd_xdp_lpm_v4);
	__type(value, struct pxd_xdp_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PXD_XDP_DEFAULT_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pxd_xdp_lpm_v6);
	__type(value, struct pxd_xdp_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PXD_XDP_DEFAULT_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pxd_xdp_lpm_v4);
	__type(value, struct pxd_xdp_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} deny_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PXD_XDP_DEFAULT_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pxd_xdp_lpm_v6);
	__type(value, struct pxd_xdp_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} deny_v6 SEC(".maps");

/* The /32 and /24 (IPv6: /128 and /64) deny entries, exact match (PXD_XDP_DENY_HASHED). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PXD_XDP_DEFAULT_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pxd_xdp_lpm_v4);
	__type(value, struct pxd_xdp_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} deny_hash_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PXD_XDP_DEFAULT_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pxd_xdp_lpm_v6);
	__type(value, struct pxd_xdp_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} deny_hash_v6 SEC(".maps");

/* The prefilter (PXD_XDP_PREFIX_BITS): 8 MiB, mmap'd by user space to set bits atomically. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PXD_XDP_PREFIX_WORDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pxd_xdp_prefix_word);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} prefix_bits SEC(".maps");

/*
 * Buckets are shared by all CPUs (LRU_HASH), not per CPU: RSS spreads one
 * source's connections over every RX queue, so per-CPU buckets would give a
 * source up to nr_cpus times its burst and rate. The price is the benign race
 * described at tb_take(). Under a flood of spoofed sources the LRU evicts the
 * coldest buckets; an evicted source comes back with a full bucket (fails open).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PXD_XDP_DEFAULT_SOURCES);
	__type(key, __u32);
	__type(value, struct pxd_xdp_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bucket_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PXD_XDP_DEFAULT_SOURCES);
	__type(key, __u64);
	__type(value, struct pxd_xdp_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bucket_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PXD_XDP_COUNTER_COUNT);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pxd_xdp_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} config SEC(".maps");

/* Counts one packet under <counter> on this CPU and returns <action>. */
static __always_inline int count(enum pxd_xdp_counter counter, int action)
{
	__u32 key = counter;
	__u64 *n = bpf_map_lookup_elem(&counters, &key);

	if (n)
		*n += 1;
	return action;
}

/* This CPU's last reading of the coarse clock and the jiffy it was taken in. */
struct clock_cache {
	__u64 jiffies;
	__u64 ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct clock_cache);
} clock_cache SEC(".maps");

/*
 * The packet's time, read once: later calls return the first reading. The
 * coarse clock (CLOCK_MONOTONIC_COARSE, user space's clock for expiries)
 * moves only when the tick advances jiffies, but reading it costs ~20 ns on
 * a virtual machine where bpf_jiffies64() is one load; so each CPU keeps the
 * reading of the current jiffy and reads the clock again only when jiffies
 * moved. The timekeeper advances just after jiffies, so a reading taken in
 * between lags by one tick for that jiffy: within the tick of resolution
 * that buckets and expiries need.
 */
static __always_inline __u64 clock_now(const struct pxd_xdp_config *cfg, __u64 *now)
{
	struct clock_cache *cc;
	__u32 zero = 0;
	__u64 j;

	if (*now)
		return *now;
	cc = bpf_map_lookup_elem(&clock_cache, &zero);
	if (!cc) {
		*now = bpf_ktime_get_coarse_ns() + cfg->clock_offset_ns;
		return *now;
	}
	j = bpf_jiffies64();
	if (cc->jiffies != j) {
		cc->ns = bpf_ktime_get_coarse_ns();
		cc->jiffies = j;
	}
	*now = cc->ns + cfg->clock_offset_ns;
	return *now;
}

/* The counter a live deny entry drops under, or PXD_XDP_COUNTER_COUNT when <e> has expired. */
static __always_inline enum pxd_xdp_counter
entry_verdict(const struct pxd_xdp_entry *e, const struct pxd_xdp_config *cfg, __u64 *now)
{
	if (!e->expires_ns)
		return PXD_XDP_COUNTER_DENIED_STATIC;
	if (clock_now(cfg, now) < e->expires_ns)
		return PXD_XDP_COUNTER_DENIED_DYNAMIC;
	return PXD_XDP_COUNTER_COUNT;
}

/* One exact-match probe of a deny hash; an expired entry is deleted (user space sweeps too). */
static __always_inline enum pxd_xdp_counter hash_probe(void *hash, void *key,
						       const struct pxd_xdp_config *cfg, __u64 *now)
{
	struct pxd_xdp_entry *e = bpf_map_lookup_elem(hash, key);
	enum pxd_xdp_counter verdict;

	if (!e)
		return PXD_XDP_COUNTER_COUNT;
	verdict = entry_verdict(e, cfg, now);
	if (verdict == PXD_XDP_COUNTER_COUNT)
		bpf_map_delete_elem(hash, key);
	return verdict;
}

/*
 * The longest-prefix walk of the deny trie, which holds the lengths the hash does not. An
 * expired entry is deleted and the lookup repeated once, so a shorter static prefix under an
 * expired dynamic one still applies.
 */
static __always_inline enum pxd_xdp_counter trie_probe(void *trie, __u32 *lpm_key, __u32 full_len,
						       const struct pxd_xdp_config *cfg, __u64 *now)
{
	struct pxd_xdp_entry *e = bpf_map_lookup_elem(trie, lpm_key);
	enum pxd_xdp_counter verdict;

	if (!e)
		return PXD_XDP_COUNTER_COUNT;
	verdict = entry_verdict(e, cfg, now);
	if (verdict != PXD_XDP_COUNTER_COUNT)
		return verdict;
	*lpm_key = e->prefixlen;
	bpf_map_delete_elem(trie, lpm_key);
	*lpm_key = full_len;
	e = bpf_map_lookup_elem(trie, lpm_key);
	return e ? entry_verdict(e, cfg, now) : PXD_XDP_COUNTER_COUNT;
}

/*
 * Looks the source up in the deny list where its prefilter bits say an entry may be: the
 * host entry in the hash, then the network entry (/24, /64) in the hash, then the trie for
 * every other length. The first live entry found decides the counter (static or dynamic).
 * Returns the counter to drop under, or PXD_XDP_COUNTER_COUNT when no live entry covers the
 * source. A NULL <pw> (cannot happen below the map's size) means look everywhere.
 */
static __always_inline enum pxd_xdp_counter deny_lookup(void *hash, void *trie, __u32 *lpm_key,
							void *net_key, __u32 full_len,
							const struct pxd_xdp_prefix_word *pw,
							__u64 bit, const struct pxd_xdp_config *cfg,
							__u64 *now)
{
	enum pxd_xdp_counter verdict;

	if (!pw || (pw->deny_host & bit)) {
		verdict = hash_probe(hash, lpm_key, cfg, now);
		if (verdict != PXD_XDP_COUNTER_COUNT)
			return verdict;
	}
	if (!pw || (pw->deny_net & bit)) {
		verdict = hash_probe(hash, net_key, cfg, now);
		if (verdict != PXD_XDP_COUNTER_COUNT)
			return verdict;
	}
	if (!pw || (pw->deny_trie & bit))
		return trie_probe(trie, lpm_key, full_len, cfg, now);
	return PXD_XDP_COUNTER_COUNT;
}

/* True when the source in <lpm_key> is on the allow list <allow>. */
static __always_inline int allowed(void *allow, __u32 *lpm_key)
{
	return bpf_map_lookup_elem(allow, lpm_key) != NULL;
}

/*
 * The prefilter word for the source whose address starts at <addr> and, in <*bit>, its bit
 * (see PXD_XDP_PREFIX_BITS). The array lookup is inlined by the verifier: a bounds check and
 * an index, no hashing.
 */
static __always_inline struct pxd_xdp_prefix_word *prefix_word(const __u8 *addr, __u64 *bit)
{
	__u32 top = (__u32)addr[0] << 16 | (__u32)addr[1] << 8 | addr[2];
	__u32 idx = top >> 6;

	*bit = 1ull << (top & 63);
	return bpf_map_lookup_elem(&prefix_bits, &idx);
}

/* The lists of one address family, as constants once inlined (what the verifier needs). */
struct family_maps {
	void *allow;
	void *deny_hash;
	void *deny_trie;
	void *buckets;
	__u32 full_len;
};

/*
 * The verdict for a TCP packet from one source. <lpm_key> points at a
 * pxd_xdp_lpm_v4/v6 on the stack holding the full-length source address,
 * <net_key> at the same with the /24 or /64 prefix length and host bits zero;
 * <bucket_key> at its /32 or /64.
 *
 * Sources whose prefilter bits are clear (no list entry ever came near them)
 * skip the list lookups: that is every packet of nearly every client. The
 * allow list wins over the deny list and the buckets, but it only changes a
 * verdict that would be DROP, so it is looked up only then. The ALLOWED
 * counter therefore counts the packets the allow list let through that would
 * otherwise have been dropped. An allowed source still spends its bucket's
 * tokens; it is just never dropped for an empty bucket.
 */
static __always_inline int source_verdict(const struct family_maps *fm, __u32 *lpm_key,
					  void *net_key, const __u8 *addr, void *bucket_key,
					  int syn)
{
	struct pxd_xdp_bucket fresh = {};
	struct pxd_xdp_prefix_word *pw;
	enum pxd_xdp_counter verdict;
	struct pxd_xdp_config *cfg;
	struct pxd_xdp_bucket *b;
	__u32 zero = 0;
	__u64 now = 0;
	__u64 bit;
	int use_syn;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return count(PXD_XDP_COUNTER_PASSED, XDP_PASS);
	pw = prefix_word(addr, &bit);
	verdict = deny_lookup(fm->deny_hash, fm->deny_trie, lpm_key, net_key, fm->full_len, pw, bit,
			      cfg, &now);
	if (verdict != PXD_XDP_COUNTER_COUNT)
		goto drop;

	use_syn = syn && cfg->syn_interval_ns;
	if (!use_syn && !cfg->pkt_interval_ns)
		return count(PXD_XDP_COUNTER_PASSED, XDP_PASS);
	clock_now(cfg, &now);
	b = bpf_map_lookup_elem(fm->buckets, bucket_key);
	if (!b)
		b = &fresh;
	verdict = PXD_XDP_COUNTER_RATE_LIMITED_SYN;
	if (use_syn && !tb_take(&b->syn_tat_ns, now, cfg->syn_interval_ns, cfg->syn_tolerance_ns))
		goto drop;
	verdict = PXD_XDP_COUNTER_RATE_LIMITED;
	if (!tb_take(&b->pkt_tat_ns, now, cfg->pkt_interval_ns, cfg->pkt_tolerance_ns))
		goto drop;
	/* A new source: another CPU may have inserted it meanwhile; NOEXIST keeps theirs. */
	if (b == &fresh)
		bpf_map_update_elem(fm->buckets, bucket_key, &fresh, BPF_NOEXIST);
	return count(PXD_XDP_COUNTER_PASSED, XDP_PASS);
drop:
	if ((!pw || (pw->allow & bit)) && allowed(fm->allow, lpm_key))
		return count(PXD_XDP_COUNTER_ALLOWED, XDP_PASS);
	return count(verdict, XDP_DROP);
}

static __always_inline int is_service_port(__be16 port)
{
	__u16 p = bpf_ntohs(port);

	return (port_bits[p >> 6] >> (p & 63)) & 1;
}

SEC("xdp")
int xdp_ingress(struct xdp_md *ctx)
{
	struct pkt_cursor c = { .pos = (void *)(long)ctx->data,
				.end = (void *)(long)ctx->data_end };
	struct pxd_xdp_lpm_v4 key4, net4;
	struct pxd_xdp_lpm_v6 key6, net6;
	struct ipv6hdr *ip6h = NULL;
	struct iphdr *iph = NULL;
	struct tcphdr *tcph;
	__u64 src64;
	__u32 src32;
	int proto;
	int l4;
	int syn;

	proto = pkt_parse_eth(&c);
	if (proto < 0)
		return count(PXD_XDP_COUNTER_MALFORMED, XDP_PASS);
	if (proto == ETH_P_IP)
		l4 = pkt_parse_ipv4(&c, &iph);
	else if (proto == ETH_P_IPV6)
		l4 = pkt_parse_ipv6(&c, &ip6h);
	else
		return count(PXD_XDP_COUNTER_NOT_SERVICE, XDP_PASS);
	if (l4 < 0)
		return count(PXD_XDP_COUNTER_MALFORMED, XDP_PASS);
	if (l4 != IPPROTO_TCP)
		return count(PXD_XDP_COUNTER_NOT_SERVICE, XDP_PASS);
	if (pkt_parse_tcp(&c, &tcph) < 0)
		return count(PXD_XDP_COUNTER_MALFORMED, XDP_PASS);
	if (!is_service_port(tcph->dest))
		return count(PXD_XDP_COUNTER_NOT_SERVICE, XDP_PASS);
	syn = tcph->syn && !tcph->ack;

	if (iph) {
		struct family_maps fm = { &allow_v4, &deny_hash_v4, &deny_v4, &bucket_v4, 32 };

		key4.prefixlen = 32;
		__builtin_memcpy(key4.addr, &iph->saddr, sizeof(key4.addr));
		net4 = key4;
		net4.prefixlen = PXD_XDP_HASH_V4_NET;
		net4.addr[3] = 0;
		src32 = iph->saddr;
		return source_verdict(&fm, &key4.prefixlen, &net4, key4.addr, &src32, syn);
	}
	if (ip6h) {
		struct family_maps fm = { &allow_v6, &deny_hash_v6, &deny_v6, &bucket_v6, 128 };

		key6.prefixlen = 128;
		__builtin_memcpy(key6.addr, &ip6h->saddr, sizeof(key6.addr));
		net6.prefixlen = PXD_XDP_HASH_V6_NET;
		__builtin_memcpy(net6.addr, key6.addr, 8);
		__builtin_memset(net6.addr + 8, 0, 8);
		__builtin_memcpy(&src64, &ip6h->saddr, sizeof(src64));
		return source_verdict(&fm, &key6.prefixlen, &net6, key6.addr, &src64, syn);
	}
	return count(PXD_XDP_COUNTER_MALFORMED, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
