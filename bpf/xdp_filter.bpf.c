// SPDX-License-Identifier: MIT
/*
 * xdp_filter.bpf.c - pixeld's first line of defence. For TCP packets to a
 * service port, by precedence: source on the allow list -> PASS; on the deny
 * list (static, or dynamic and not yet expired) -> DROP; its SYN bucket or
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

/*
 * The packet's time, read once: later calls return the first reading. The
 * coarse clock (CLOCK_MONOTONIC_COARSE, one tick of resolution) costs a
 * fraction of bpf_ktime_get_ns() on virtual machines; buckets and expiries
 * need no better than a tick.
 */
static __always_inline __u64 clock_now(const struct pxd_xdp_config *cfg, __u64 *now)
{
	if (!*now)
		*now = bpf_ktime_get_coarse_ns() + cfg->clock_offset_ns;
	return *now;
}

/*
 * Looks the source up in <deny>. Returns the counter to drop under, or
 * PXD_XDP_COUNTER_COUNT when no live entry covers it. An expired entry is
 * deleted (user space sweeps too) and the lookup repeated once, so a shorter
 * static prefix under an expired dynamic one still applies.
 */
static __always_inline enum pxd_xdp_counter deny_lookup(void *deny, __u32 *lpm_key, __u32 full_len,
							const struct pxd_xdp_config *cfg,
							__u64 *now)
{
	struct pxd_xdp_entry *e = bpf_map_lookup_elem(deny, lpm_key);

	if (!e)
		return PXD_XDP_COUNTER_COUNT;
	if (!e->expires_ns)
		return PXD_XDP_COUNTER_DENIED_STATIC;
	if (clock_now(cfg, now) < e->expires_ns)
		return PXD_XDP_COUNTER_DENIED_DYNAMIC;
	*lpm_key = e->prefixlen;
	bpf_map_delete_elem(deny, lpm_key);
	*lpm_key = full_len;
	e = bpf_map_lookup_elem(deny, lpm_key);
	if (!e)
		return PXD_XDP_COUNTER_COUNT;
	if (!e->expires_ns)
		return PXD_XDP_COUNTER_DENIED_STATIC;
	if (*now < e->expires_ns)
		return PXD_XDP_COUNTER_DENIED_DYNAMIC;
	return PXD_XDP_COUNTER_COUNT;
}

/* True when the source in <lpm_key> is on the allow list <allow>. */
static __always_inline int allowed(void *allow, __u32 *lpm_key)
{
	return bpf_map_lookup_elem(allow, lpm_key) != NULL;
}

/*
 * The verdict for a TCP packet from one source. <lpm_key> points at a
 * pxd_xdp_lpm_v4/v6 on the stack holding the full-length source address;
 * <bucket_key> at its /32 or /64. The map arguments are constants once
 * inlined, which is what the verifier needs.
 *
 * The allow list wins over the deny list and the buckets, but it only
 * changes a verdict that would be DROP, so it is looked up only then: the
 * common case (no deny entry, bucket not empty) skips one trie walk. The
 * ALLOWED counter therefore counts the packets the allow list let through
 * that would otherwise have been dropped. An allowed source still spends
 * its bucket's tokens; it is just never dropped for an empty bucket.
 */
static __always_inline int source_verdict(void *allow, void *deny, __u32 *lpm_key, __u32 full_len,
					  void *buckets, void *bucket_key, int syn)
{
	struct pxd_xdp_bucket fresh = {};
	enum pxd_xdp_counter verdict;
	struct pxd_xdp_config *cfg;
	struct pxd_xdp_bucket *b;
	__u32 zero = 0;
	__u64 now = 0;
	int use_syn;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return count(PXD_XDP_COUNTER_PASSED, XDP_PASS);
	verdict = deny_lookup(deny, lpm_key, full_len, cfg, &now);
	if (verdict != PXD_XDP_COUNTER_COUNT)
		goto drop;

	use_syn = syn && cfg->syn_interval_ns;
	if (!use_syn && !cfg->pkt_interval_ns)
		return count(PXD_XDP_COUNTER_PASSED, XDP_PASS);
	clock_now(cfg, &now);
	b = bpf_map_lookup_elem(buckets, bucket_key);
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
		bpf_map_update_elem(buckets, bucket_key, &fresh, BPF_NOEXIST);
	return count(PXD_XDP_COUNTER_PASSED, XDP_PASS);
drop:
	if (allowed(allow, lpm_key))
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
	struct pxd_xdp_lpm_v4 key4;
	struct pxd_xdp_lpm_v6 key6;
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
		key4.prefixlen = 32;
		__builtin_memcpy(key4.addr, &iph->saddr, sizeof(key4.addr));
		src32 = iph->saddr;
		return source_verdict(&allow_v4, &deny_v4, &key4.prefixlen, 32, &bucket_v4, &src32,
				      syn);
	}
	if (ip6h) {
		key6.prefixlen = 128;
		__builtin_memcpy(key6.addr, &ip6h->saddr, sizeof(key6.addr));
		__builtin_memcpy(&src64, &ip6h->saddr, sizeof(src64));
		return source_verdict(&allow_v6, &deny_v6, &key6.prefixlen, 128, &bucket_v6, &src64,
				      syn);
	}
	return count(PXD_XDP_COUNTER_MALFORMED, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
