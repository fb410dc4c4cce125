// SPDX-License-Identifier: MIT
/*
 * xdp_testrun - what each verdict of the XDP filter costs, in ns per packet,
 * measured with BPF_PROG_TEST_RUN (the same frame run <repeat> times inside
 * the kernel), next to xdp-tools' xdp-filter (its "deny listed IPv4 sources"
 * program, xdpfilt_alw_ip.o from Debian's libxdp1, loaded with the same list)
 * and an empty XDP program as the floor. Prints one table. Needs root.
 *
 * usage: xdp_testrun [-n REPEAT] [-r ROUNDS] [-f XDPFILT_OBJECT]
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xdp_filter.h"
#include "xdp_filter.skel.h"
#include "xdp_maps.h"

#define SERVICE_PORT 80
#define DENY_HOSTS 10000 /* /32 entries in every deny list, ours and xdp-filter's */
#define DENY_NETS 1000	 /* /24 entries in ours (xdp-filter has no prefixes) */
#define ALLOW_NETS 100

/* xdp-filter's map value flag for "match the source address" (common_kern_user.h). */
#define XDPFILT_FLAG_SRC 1

static const char *const xdpfilt_candidates[] = {
	"/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_ip.o",
	"/usr/lib/aarch64-linux-gnu/bpf/xdpfilt_alw_ip.o",
	"/usr/lib/bpf/xdpfilt_alw_ip.o",
	"/usr/local/lib/bpf/xdpfilt_alw_ip.o",
};

enum prog_kind {
	PROG_EMPTY = 0,
	PROG_XDPFILT,
	PROG_OURS,
	PROG_COUNT, /* number of programs; keep last */
};

/* How the SYN bucket is set for a row. */
enum bucket_kind {
	BUCKET_OFF = 0,
	BUCKET_ROOM,  /* 1 ns per token and a huge burst: never empties */
	BUCKET_EMPTY, /* burst 1, one token a second, spent before timing */
	BUCKET_COUNT, /* number of settings; keep last */
};

/* 10.0.115.255 is host_addr(7 * 4242 + 1): on both deny lists. DYNAMIC sits next to
 * it in the same dense part of the trie, blocked with an expiry. */
#define LISTED "10.0.115.255"
#define DYNAMIC "10.0.116.1"
/* Not listed, but in a /24 that holds denied /32s: its prefilter bit sends it to the hash. */
#define NEIGHBOUR "10.0.115.254"
/* The one deny entry of a length the hash does not hold: the trie's path. */
#define TRIE_NET "100.64.0.0/16"

#define SYN 0x02
#define ACK 0x10

static const struct spec {
	const char *what;
	enum prog_kind prog;
	const char *src;
	unsigned port;
	unsigned flags; /* TCP flags */
	int want;	/* the verdict, checked before timing */
	enum bucket_kind bucket;
} specs[] = {
	{ "empty XDP program (floor)", PROG_EMPTY, "198.18.0.1", SERVICE_PORT, SYN, XDP_PASS,
	  BUCKET_OFF },
	{ "xdp-filter alw_ip: listed source, dropped", PROG_XDPFILT, LISTED, SERVICE_PORT, SYN,
	  XDP_DROP, BUCKET_OFF },
	{ "xdp-filter alw_ip: other source, passed", PROG_XDPFILT, "198.18.0.1", SERVICE_PORT, SYN,
	  XDP_PASS, BUCKET_OFF },
	{ "pixeld: not a service port, passed", PROG_OURS, LISTED, 22, SYN, XDP_PASS, BUCKET_OFF },
	{ "pixeld: ACK, no list hit, SYN limit on, passed", PROG_OURS, "198.18.0.1", SERVICE_PORT,
	  ACK, XDP_PASS, BUCKET_ROOM },
	{ "pixeld: SYN, no list hit, SYN limit on, passed", PROG_OURS, "198.18.0.1", SERVICE_PORT,
	  SYN, XDP_PASS, BUCKET_ROOM },
	{ "pixeld: SYN, no list hit, bucket empty, dropped", PROG_OURS, "198.18.0.2", SERVICE_PORT,
	  SYN, XDP_DROP, BUCKET_EMPTY },
	{ "pixeld: SYN over IPv6, SYN limit on, passed", PROG_OURS, "2001:db8:1::7", SERVICE_PORT,
	  SYN, XDP_PASS, BUCKET_ROOM },
	{ "pixeld: static deny /32, dropped", PROG_OURS, LISTED, SERVICE_PORT, SYN, XDP_DROP,
	  BUCKET_ROOM },
	{ "pixeld: static deny /24, dropped", PROG_OURS, "172.17.3.9", SERVICE_PORT, SYN, XDP_DROP,
	  BUCKET_ROOM },
	{ "pixeld: dynamic deny /32 (clock read), dropped", PROG_OURS, DYNAMIC, SERVICE_PORT, SYN,
	  XDP_DROP, BUCKET_ROOM },
	{ "pixeld: denied but on the allow list, passed", PROG_OURS, "172.17.5.9", SERVICE_PORT,
	  SYN, XDP_PASS, BUCKET_ROOM },
	{ "pixeld: static deny /16 (trie), dropped", PROG_OURS, "100.64.1.1", SERVICE_PORT, SYN,
	  XDP_DROP, BUCKET_ROOM },
	{ "pixeld: SYN, neighbour of denied /32s, passed", PROG_OURS, NEIGHBOUR, SERVICE_PORT, SYN,
	  XDP_PASS, BUCKET_ROOM },
};

struct row {
	const struct spec *spec;
	int prog_fd;
	unsigned char frame[128];
	size_t len;
	double round_ns[32];
	double ns;
};

#define NROWS (sizeof(specs) / sizeof(specs[0]))
/* The peer every drop path is compared with: xdp-filter dropping a listed source. */
#define XDPFILT_DROP_ROW 1

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* A TCP segment to <port> from <src> (IPv4 or IPv6 text) with TCP flags <flags>. */
static size_t make_frame(unsigned char *b, const char *src, unsigned port, unsigned flags)
{
	int v6 = strchr(src, ':') != NULL;
	size_t ip = 14;
	size_t tcp = ip + (v6 ? 40 : 20);

	memset(b, 0, 128);
	put16(b + 12, v6 ? ETH_P_IPV6 : ETH_P_IP);
	if (v6) {
		b[ip] = 0x60;
		put16(b + ip + 4, 40);
		b[ip + 6] = IPPROTO_TCP;
		b[ip + 7] = 64;
		inet_pton(AF_INET6, src, b + ip + 8);
		inet_pton(AF_INET6, "2001:db8:ffff::1", b + ip + 24);
	} else {
		b[ip] = 0x45;
		put16(b + ip + 2, 60);
		b[ip + 8] = 64;
		b[ip + 9] = IPPROTO_TCP;
		inet_pton(AF_INET, src, b + ip + 12);
		inet_pton(AF_INET, "198.51.100.1", b + ip + 16);
	}
	put16(b + tcp, 40000);
	put16(b + tcp + 2, port);
	b[tcp + 12] = 10 << 4; /* 40-byte header: 20 of options, as a real SYN has */
	b[tcp + 13] = (unsigned char)flags;
	put16(b + tcp + 14, 65535);
	return tcp + 40;
}

static int run_once(const struct row *r, __u32 repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = r->frame, .data_size_in = (__u32)r->len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(r->prog_fd, &opts))
		return -errno;
	if ((int)opts.retval != r->spec->want) {
		fprintf(stderr, "xdp_testrun: %s: verdict %u, expected %d\n", r->spec->what,
			opts.retval, r->spec->want);
		return -EINVAL;
	}
	/* The kernel's own figure: mean ns per run of the program, excluding the
	 * times the loop yielded the CPU (bpf_test_timer), so a busy machine
	 * disturbs it less than wall time would. */
	*ns = opts.duration;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

static int empty_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_empty", "GPL", insns, 2, NULL);
}

static void host_addr(unsigned i, char *buf, size_t len)
{
	snprintf(buf, len, "10.%u.%u.%u", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
}

/* Our filter: ports {80}, DENY_HOSTS + DENY_NETS deny entries, ALLOW_NETS allow entries. */
static struct xdp_filter_bpf *load_ours(struct pxd_xdp_maps *m, uint64_t *now)
{
	struct xdp_filter_bpf *skel = xdp_filter_bpf__open();
	struct bpf_map *map;
	struct pxd_conf_cidr c;
	char text[64];

	pxd_xdp_maps_init(m);
	if (!skel)
		return NULL;
	bpf_object__for_each_map(map, skel->obj) bpf_map__set_pin_path(map, NULL);
	skel->rodata->port_bits[SERVICE_PORT >> 6] |= 1ull << (SERVICE_PORT & 63);
	if (xdp_filter_bpf__load(skel))
		goto fail;
	if (pxd_xdp_maps_from_object(skel->obj, m))
		goto fail;
	*now = pxd_xdp_maps_now(m);
	for (unsigned i = 0; i < DENY_HOSTS; i++) {
		host_addr(i * 7 + 1, text, sizeof(text));
		if (pxd_xdp_cidr_parse(text, &c) ||
		    pxd_xdp_maps_add(m, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_FILE, 0))
			goto fail;
	}
	for (unsigned i = 0; i < DENY_NETS; i++) {
		snprintf(text, sizeof(text), "172.%u.%u.0/24", 16 + i / 256, i % 256);
		if (pxd_xdp_cidr_parse(text, &c) ||
		    pxd_xdp_maps_add(m, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_FILE, 0))
			goto fail;
	}
	for (unsigned i = 0; i < ALLOW_NETS; i++) {
		snprintf(text, sizeof(text), "192.168.%u.0/24", i);
		if (pxd_xdp_cidr_parse(text, &c) ||
		    pxd_xdp_maps_add(m, PXD_XDP_LIST_ALLOW, &c, PXD_XDP_ORIGIN_FILE, 0))
			goto fail;
	}
	/* An allowed /24 inside the denied 172.16.0.0/24 to 172.19.231.0/24. */
	if (pxd_xdp_cidr_parse("172.17.5.0/24", &c) ||
	    pxd_xdp_maps_add(m, PXD_XDP_LIST_ALLOW, &c, PXD_XDP_ORIGIN_FILE, 0))
		goto fail;
	if (pxd_xdp_cidr_parse(TRIE_NET, &c) ||
	    pxd_xdp_maps_add(m, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_FILE, 0))
		goto fail;
	if (pxd_xdp_cidr_parse(DYNAMIC, &c) ||
	    pxd_xdp_maps_add(m, PXD_XDP_LIST_DENY, &c, PXD_XDP_ORIGIN_BOT,
			     *now + 3600 * 1000000000ull))
		goto fail;
	return skel;
fail:
	pxd_xdp_maps_close(m);
	xdp_filter_bpf__destroy(skel);
	return NULL;
}

/* xdp-filter with the same DENY_HOSTS sources in its hash (a per-CPU value each). */
static struct bpf_object *load_xdpfilt(const char *path, int *prog_fd)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	int ncpu = libbpf_num_possible_cpus();
	struct bpf_program *prog;
	struct bpf_map *map;
	__u64 *vals;
	int fd;

	if (!obj || ncpu <= 0)
		return NULL;
	bpf_object__for_each_map(map, obj)
	{
		bpf_map__set_pin_path(map, NULL);
		if (strcmp(bpf_map__name(map), "filter_ipv4") == 0)
			bpf_map__set_max_entries(map, PXD_XDP_DEFAULT_CIDRS);
	}
	if (bpf_object__load(obj))
		goto fail;
	prog = bpf_object__next_program(obj, NULL);
	fd = bpf_object__find_map_fd_by_name(obj, "filter_ipv4");
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!prog || fd < 0 || !vals)
		goto fail;
	for (int c = 0; c < ncpu; c++)
		vals[c] = XDPFILT_FLAG_SRC;
	for (unsigned i = 0; i < DENY_HOSTS; i++) {
		char text[32];
		__u32 key;

		host_addr(i * 7 + 1, text, sizeof(text));
		inet_pton(AF_INET, text, &key);
		if (bpf_map_update_elem(fd, &key, vals, BPF_ANY)) {
			free(vals);
			goto fail;
		}
	}
	free(vals);
	*prog_fd = bpf_program__fd(prog);
	return obj;
fail:
	bpf_object__close(obj);
	return NULL;
}

static const char *find_xdpfilt(void)
{
	for (size_t i = 0; i < sizeof(xdpfilt_candidates) / sizeof(xdpfilt_candidates[0]); i++)
		if (access(xdpfilt_candidates[i], R_OK) == 0)
			return xdpfilt_candidates[i];
	return NULL;
}

static void set_bucket(const struct pxd_xdp_maps *m, enum bucket_kind kind)
{
	struct pxd_xdp_config cfg = { 0 };

	if (kind == BUCKET_ROOM) {
		cfg.syn_interval_ns = 1;
		cfg.syn_tolerance_ns = 1ull << 50;
	} else if (kind == BUCKET_EMPTY) {
		cfg.syn_interval_ns = 1000000000ull;
	}
	pxd_xdp_maps_set_config(m, &cfg);
}

/* Sends <r>'s frame once, unchecked: takes the one token of a burst-1 bucket. */
static void spend_token(const struct row *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = r->frame, .data_size_in = (__u32)r->len,
		    .repeat = 1);

	bpf_prog_test_run_opts(r->prog_fd, &opts);
}

/*
 * One round: every row once, in table order, so load from the rest of the
 * machine falls on all rows of a round alike and the ratios between rows of
 * one run hold even when the absolute figures drift between rounds.
 */
static int measure_round(struct row *rows, size_t n, const struct pxd_xdp_maps *m, __u32 repeat,
			 int round)
{
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		int err;

		set_bucket(m, r->spec->bucket);
		if (r->spec->bucket == BUCKET_EMPTY)
			spend_token(r);
		err = run_once(r, repeat, &r->round_ns[round]);
		if (err)
			return err;
	}
	return 0;
}

/* Each row's median over <rounds> rounds. */
static void take_medians(struct row *rows, size_t n, int rounds)
{
	for (size_t i = 0; i < n; i++) {
		qsort(rows[i].round_ns, (size_t)rounds, sizeof(rows[i].round_ns[0]), cmp_double);
		rows[i].ns = rows[i].round_ns[rounds / 2];
	}
}

int main(int argc, char **argv)
{
	const char *xdpfilt_path = NULL;
	struct xdp_filter_bpf *ours = NULL;
	struct bpf_object *xdpfilt = NULL;
	struct pxd_xdp_maps m;
	__u32 repeat = 1000000;
	int rounds = 5;
	int empty_fd = -1;
	int xdpfilt_fd = -1;
	struct row rows[NROWS];
	int prog_fds[PROG_COUNT];
	uint64_t now;
	int ret = 1;
	int opt;

	while ((opt = getopt(argc, argv, "n:r:f:")) != -1) {
		switch (opt) {
		case 'n':
			repeat = (__u32)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'f':
			xdpfilt_path = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-n REPEAT] [-r ROUNDS] [-f XDPFILT_OBJECT]\n",
				argv[0]);
			return 2;
		}
	}
	if (!repeat || rounds < 1 || rounds > 31) {
		fprintf(stderr, "xdp_testrun: -n must be > 0 and -r from 1 to 31\n");
		return 2;
	}
	libbpf_set_print(silent);
	if (!xdpfilt_path)
		xdpfilt_path = find_xdpfilt();
	if (!xdpfilt_path) {
		fprintf(stderr, "xdp_testrun: no xdpfilt_alw_ip.o (apt install xdp-tools; dpkg -L "
				"libxdp1 shows where it lies; or pass -f PATH)\n");
		return 1;
	}
	empty_fd = empty_prog();
	ours = load_ours(&m, &now);
	xdpfilt = load_xdpfilt(xdpfilt_path, &xdpfilt_fd);
	if (empty_fd < 0 || !ours || !xdpfilt) {
		fprintf(stderr, "xdp_testrun: loading the programs failed: %s (run as root)\n",
			strerror(errno));
		goto out;
	}
	prog_fds[PROG_EMPTY] = empty_fd;
	prog_fds[PROG_XDPFILT] = xdpfilt_fd;
	prog_fds[PROG_OURS] = bpf_program__fd(ours->progs.xdp_ingress);
	for (size_t i = 0; i < NROWS; i++) {
		struct row *r = &rows[i];

		r->spec = &specs[i];
		r->prog_fd = prog_fds[r->spec->prog];
		r->len = make_frame(r->frame, r->spec->src, r->spec->port, r->spec->flags);
	}
	for (int round = 0; round < rounds; round++)
		if (measure_round(rows, NROWS, &m, repeat, round))
			goto out;
	take_medians(rows, NROWS, rounds);
	printf("XDP verdict cost, BPF_PROG_TEST_RUN, %u runs x %d rounds (median; each round runs "
	       "every row), %zu-byte frames\n",
	       repeat, rounds, rows[0].len);
	printf("deny lists: %d /32 (both), %d /24 and %s (pixeld only); allow: %d /24 (pixeld); "
	       "SYN limit on: a bucket that never empties\nxdp-filter: %s\n\n",
	       DENY_HOSTS, DENY_NETS, TRIE_NET, ALLOW_NETS, xdpfilt_path);
	printf("| %-48s | %9s | %10s | %15s |\n", "path", "ns/packet", "over floor",
	       "/ xdp-filter drop");
	printf("|%.50s|%.10s:|%.11s:|%.18s:|\n",
	       "--------------------------------------------------", "----------", "-----------",
	       "------------------");
	for (size_t i = 0; i < NROWS; i++)
		printf("| %-48s | %9.0f | %10.0f | %17.2f |\n", rows[i].spec->what, rows[i].ns,
		       rows[i].ns - rows[0].ns, rows[i].ns / rows[XDPFILT_DROP_ROW].ns);
	ret = 0;
out:
	bpf_object__close(xdpfilt);
	if (ours)
		pxd_xdp_maps_close(&m);
	xdp_filter_bpf__destroy(ours);
	if (empty_fd >= 0)
		close(empty_fd);
	return ret;
}
