// SPDX-License-Identifier: MIT
/*
 * The XDP filter's pinned maps from user space: opening them and their pin
 * directory, allow and deny entries (add, delete, iterate, expire), counters
 * and the runtime config. Each operation is one or a few bpf(2) calls on fds
 * that stay read-only after open, so any thread (pixeld's main thread, pixelctl).
 */
#include "xdp_maps.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"

static const struct {
	const char *name;
	size_t off;
} map_table[] = {
	{ PXD_XDP_MAP_ALLOW_V4, offsetof(struct pxd_xdp_maps, allow_v4) },
	{ PXD_XDP_MAP_ALLOW_V6, offsetof(struct pxd_xdp_maps, allow_v6) },
	{ PXD_XDP_MAP_DENY_V4, offsetof(struct pxd_xdp_maps, deny_v4) },
	{ PXD_XDP_MAP_DENY_V6, offsetof(struct pxd_xdp_maps, deny_v6) },
	{ PXD_XDP_MAP_DENY_HASH_V4, offsetof(struct pxd_xdp_maps, deny_hash_v4) },
	{ PXD_XDP_MAP_DENY_HASH_V6, offsetof(struct pxd_xdp_maps, deny_hash_v6) },
	{ PXD_XDP_MAP_PREFIX_BITS, offsetof(struct pxd_xdp_maps, prefix_bits) },
	{ PXD_XDP_MAP_BUCKET_V4, offsetof(struct pxd_xdp_maps, bucket_v4) },
	{ PXD_XDP_MAP_BUCKET_V6, offsetof(struct pxd_xdp_maps, bucket_v6) },
	{ PXD_XDP_MAP_COUNTERS, offsetof(struct pxd_xdp_maps, counters) },
	{ PXD_XDP_MAP_CONFIG, offsetof(struct pxd_xdp_maps, config) },
};

static const struct {
	const char *verdict;
	const char *reason;
} counter_labels[PXD_XDP_COUNTER_COUNT] = {
	[PXD_XDP_COUNTER_NOT_SERVICE] = { "pass", "not_service" },
	[PXD_XDP_COUNTER_MALFORMED] = { "pass", "malformed" },
	[PXD_XDP_COUNTER_ALLOWED] = { "pass", "allowed" },
	[PXD_XDP_COUNTER_PASSED] = { "pass", "passed" },
	[PXD_XDP_COUNTER_DENIED_STATIC] = { "drop", "denied_static" },
	[PXD_XDP_COUNTER_DENIED_DYNAMIC] = { "drop", "denied_dynamic" },
	[PXD_XDP_COUNTER_RATE_LIMITED_SYN] = { "drop", "rate_limited_syn" },
	[PXD_XDP_COUNTER_RATE_LIMITED] = { "drop", "rate_limited" },
};

static const char *const origin_names[PXD_XDP_ORIGIN_COUNT] = {
	[PXD_XDP_ORIGIN_FILE] = "file",
	[PXD_XDP_ORIGIN_MANUAL] = "manual",
	[PXD_XDP_ORIGIN_BOT] = "bot",
};

/* Either LPM key; both start with prefixlen, as the trie wants. */
union lpm_key {
	__u32 prefixlen;
	struct pxd_xdp_lpm_v4 v4;
	struct pxd_xdp_lpm_v6 v6;
};

static int *map_fd(struct pxd_xdp_maps *m, size_t i)
{
	return (int *)((char *)m + map_table[i].off);
}

int pxd_xdp_maps_nth(const struct pxd_xdp_maps *m, size_t i, const char **name)
{
	if (i >= ARRAY_SIZE(map_table))
		return -ENOENT;
	*name = map_table[i].name;
	return *(const int *)((const char *)m + map_table[i].off);
}

#define PREFIX_BITS_SIZE ((size_t)PXD_XDP_PREFIX_WORDS * sizeof(struct pxd_xdp_prefix_word))

void pxd_xdp_maps_init(struct pxd_xdp_maps *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(map_table); i++)
		*map_fd(m, i) = -1;
	m->bits = NULL;
}

/* Maps the prefilter so bits can be set with an atomic OR, which no bpf(2) update offers. */
static int map_bits(struct pxd_xdp_maps *m)
{
	void *p =
	    mmap(NULL, PREFIX_BITS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, m->prefix_bits, 0);

	if (p == MAP_FAILED)
		return -errno;
	m->bits = p;
	return 0;
}

int pxd_xdp_maps_from_object(const struct bpf_object *obj, struct pxd_xdp_maps *m)
{
	int err;

	pxd_xdp_maps_init(m);
	for (size_t i = 0; i < ARRAY_SIZE(map_table); i++) {
		int fd = bpf_object__find_map_fd_by_name(obj, map_table[i].name);

		if (fd < 0) {
			err = -ENOENT;
			goto fail;
		}
		fd = dup(fd);
		if (fd < 0) {
			err = -errno;
			goto fail;
		}
		*map_fd(m, i) = fd;
	}
	err = map_bits(m);
	if (!err)
		return 0;
fail:
	pxd_xdp_maps_close(m);
	return err;
}

int pxd_xdp_maps_open_pinned(const char *pin_dir, struct pxd_xdp_maps *m)
{
	char path[PATH_MAX];
	int err = 0;

	pxd_xdp_maps_init(m);
	for (size_t i = 0; i < ARRAY_SIZE(map_table); i++) {
		int fd;

		if (snprintf(path, sizeof(path), "%s/%s", pin_dir, map_table[i].name) >=
		    (int)sizeof(path)) {
			err = -ENAMETOOLONG;
			goto fail;
		}
		fd = bpf_obj_get(path);
		if (fd < 0) {
			err = -errno;
			goto fail;
		}
		*map_fd(m, i) = fd;
	}
	err = map_bits(m);
	if (!err)
		return 0;
fail:
	pxd_xdp_maps_close(m);
	return err;
}

void pxd_xdp_maps_close(struct pxd_xdp_maps *m)
{
	if (m->bits)
		munmap(m->bits, PREFIX_BITS_SIZE);
	m->bits = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(map_table); i++) {
		int *fd = map_fd(m, i);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

int pxd_xdp_maps_prepare_pin_dir(const char *pin_dir)
{
	char copy[PATH_MAX];
	struct statfs st;
	const char *parent;

	if (snprintf(copy, sizeof(copy), "%s", pin_dir) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	parent = dirname(copy);
	if (statfs(parent, &st) < 0)
		return -errno;
	if (st.f_type == BPF_FS_MAGIC)
		return 0;
	if (strcmp(parent, "/sys/fs/bpf") != 0)
		return -ENOTDIR;
	if (mount("bpf", parent, "bpf", 0, "mode=0700") < 0)
		return -errno;
	return 0;
}

int pxd_xdp_maps_unpin(const char *pin_dir)
{
	char path[PATH_MAX];
	int err = 0;

	for (size_t i = 0; i < ARRAY_SIZE(map_table); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, map_table[i].name);
		if (unlink(path) < 0 && errno != ENOENT && !err)
			err = -errno;
	}
	if (rmdir(pin_dir) < 0 && errno != ENOENT && !err)
		err = -errno;
	return err;
}

uint64_t pxd_xdp_maps_now(const struct pxd_xdp_maps *m)
{
	struct pxd_xdp_config cfg = { 0 };
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if (m->config >= 0)
		pxd_xdp_maps_get_config(m, &cfg);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + cfg.clock_offset_ns;
}

/* The map an entry for <c> lives in. */
static int list_fd(const struct pxd_xdp_maps *m, enum pxd_xdp_list list,
		   const struct pxd_conf_cidr *c)
{
	bool v6 = c->family == AF_INET6;

	if (list == PXD_XDP_LIST_ALLOW)
		return v6 ? m->allow_v6 : m->allow_v4;
	if (PXD_XDP_DENY_HASHED(v6, c->prefix))
		return v6 ? m->deny_hash_v6 : m->deny_hash_v4;
	return v6 ? m->deny_v6 : m->deny_v4;
}

/* Which word of a prefilter element says "an entry like <c> of <list> may be here". */
static __u64 *prefix_word_for(struct pxd_xdp_prefix_word *w, enum pxd_xdp_list list,
			      const struct pxd_conf_cidr *c)
{
	bool v6 = c->family == AF_INET6;

	if (list == PXD_XDP_LIST_ALLOW)
		return &w->allow;
	if (c->prefix == (v6 ? PXD_XDP_HASH_V6_HOST : PXD_XDP_HASH_V4_HOST))
		return &w->deny_host;
	if (c->prefix == (v6 ? PXD_XDP_HASH_V6_NET : PXD_XDP_HASH_V4_NET))
		return &w->deny_net;
	return &w->deny_trie;
}

/*
 * Sets the prefilter bits of every first-24-bits block <c> overlaps: one bit for a prefix of
 * 24 bits or more, 2^(24 - prefix) for a shorter one, whole words at a time where they fill
 * them (a /0 is 2^18 word stores, not 2^24 bit ones).
 */
static int mark(const struct pxd_xdp_maps *m, enum pxd_xdp_list list, const struct pxd_conf_cidr *c)
{
	uint64_t n =
	    c->prefix >= PXD_XDP_PREFIX_BITS ? 1 : 1ull << (PXD_XDP_PREFIX_BITS - c->prefix);
	uint64_t first =
	    ((uint64_t)c->addr[0] << 16 | (uint64_t)c->addr[1] << 8 | c->addr[2]) & ~(n - 1);

	if (!m->bits)
		return -EBADF;
	for (uint64_t i = first; i < first + n;) {
		struct pxd_xdp_prefix_word *w = &m->bits[i >> 6];
		__u64 *word = prefix_word_for(w, list, c);
		uint64_t mask = 1ull << (i & 63);

		if (n >= 64) /* then <first> is word-aligned and the run fills whole words */
			mask = ~0ull;
		__atomic_fetch_or(word, mask, __ATOMIC_SEQ_CST);
		i += n >= 64 ? 64 : 1;
	}
	return 0;
}

static void make_key(const struct pxd_conf_cidr *c, union lpm_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = c->prefix;
	if (c->family == AF_INET)
		memcpy(k->v4.addr, c->addr, 4);
	else
		memcpy(k->v6.addr, c->addr, 16);
}

/* True when <old> should stay instead of <new> (see pxd_xdp_maps_add()). */
static bool keep_old(const struct pxd_xdp_entry *old, const struct pxd_xdp_entry *new)
{
	if (!old->expires_ns && new->expires_ns)
		return true;
	if (!old->expires_ns && !new->expires_ns)
		return old->origin == PXD_XDP_ORIGIN_MANUAL && new->origin == PXD_XDP_ORIGIN_FILE;
	if (old->expires_ns && new->expires_ns)
		return old->expires_ns >= new->expires_ns;
	return false;
}

int pxd_xdp_maps_add(const struct pxd_xdp_maps *m, enum pxd_xdp_list list,
		     const struct pxd_conf_cidr *c, enum pxd_xdp_origin origin, uint64_t expires_ns)
{
	struct pxd_xdp_entry e = { .origin = origin, .prefixlen = c->prefix };
	struct pxd_xdp_entry old;
	int fd = list_fd(m, list, c);
	union lpm_key key;
	int err;

	if (list == PXD_XDP_LIST_DENY)
		e.expires_ns = expires_ns;
	/* Before the entry: the program must never see an entry whose bit is clear. */
	err = mark(m, list, c);
	if (err)
		return err;
	make_key(c, &key);
	/* A trie lookup returns the longest match; the stored prefixlen says whether it is exact
	 * (a hash lookup is always exact). */
	if (bpf_map_lookup_elem(fd, &key, &old) == 0 && old.prefixlen == c->prefix &&
	    keep_old(&old, &e))
		return 0;
	if (bpf_map_update_elem(fd, &key, &e, BPF_ANY) < 0)
		return errno == ENOSPC ? -E2BIG : -errno;
	return 0;
}

int pxd_xdp_maps_del(const struct pxd_xdp_maps *m, enum pxd_xdp_list list,
		     const struct pxd_conf_cidr *c)
{
	union lpm_key key;

	make_key(c, &key);
	if (bpf_map_delete_elem(list_fd(m, list, c), &key) < 0)
		return -errno;
	return 0;
}

/* Copies every key of <fd> into a malloc'd array: iterating a trie while deleting restarts it. */
static int collect_keys(int fd, size_t key_size, union lpm_key **keys, size_t *n)
{
	union lpm_key *arr = NULL;
	union lpm_key cur;
	size_t cap = 0;

	*n = 0;
	while (bpf_map_get_next_key(fd, *n ? &arr[*n - 1] : NULL, &cur) == 0) {
		if (*n == cap) {
			union lpm_key *p;

			cap = cap ? cap * 2 : 64;
			p = realloc(arr, cap * sizeof(*arr));
			if (!p) {
				free(arr);
				return -ENOMEM;
			}
			arr = p;
		}
		memset(&arr[*n], 0, sizeof(arr[*n]));
		memcpy(&arr[*n], &cur, key_size);
		(*n)++;
	}
	if (errno != ENOENT) {
		free(arr);
		return -errno;
	}
	*keys = arr;
	return 0;
}

static void key_to_cidr(const union lpm_key *k, int family, struct pxd_conf_cidr *c)
{
	memset(c, 0, sizeof(*c));
	c->family = family;
	c->prefix = (uint8_t)k->prefixlen;
	if (family == AF_INET)
		memcpy(c->addr, k->v4.addr, 4);
	else
		memcpy(c->addr, k->v6.addr, 16);
}

/* The maps of one list in foreach order, with their family. */
static size_t list_maps(const struct pxd_xdp_maps *m, enum pxd_xdp_list list, int fds[4],
			int families[4])
{
	if (list == PXD_XDP_LIST_ALLOW) {
		fds[0] = m->allow_v4;
		fds[1] = m->allow_v6;
		families[0] = AF_INET;
		families[1] = AF_INET6;
		return 2;
	}
	fds[0] = m->deny_hash_v4;
	fds[1] = m->deny_v4;
	fds[2] = m->deny_hash_v6;
	fds[3] = m->deny_v6;
	families[0] = families[1] = AF_INET;
	families[2] = families[3] = AF_INET6;
	return 4;
}

int pxd_xdp_maps_foreach(const struct pxd_xdp_maps *m, enum pxd_xdp_list list, pxd_xdp_entry_fn *fn,
			 void *arg)
{
	int families[4];
	int fds[4];
	size_t nmaps = list_maps(m, list, fds, families);
	int ret = 0;

	for (size_t f = 0; f < nmaps && !ret; f++) {
		int fd = fds[f];
		size_t ksize = families[f] == AF_INET ? sizeof(struct pxd_xdp_lpm_v4)
						      : sizeof(struct pxd_xdp_lpm_v6);
		union lpm_key *keys = NULL;
		size_t n;

		errno = 0;
		ret = collect_keys(fd, ksize, &keys, &n);
		for (size_t i = 0; i < n && !ret; i++) {
			struct pxd_xdp_entry e;
			struct pxd_conf_cidr c;

			if (bpf_map_lookup_elem(fd, &keys[i], &e) < 0 ||
			    e.prefixlen != keys[i].prefixlen)
				continue; /* deleted since the snapshot */
			key_to_cidr(&keys[i], families[f], &c);
			ret = fn(&c, &e, arg);
		}
		free(keys);
	}
	return ret;
}

struct mark_ctx {
	const struct pxd_xdp_maps *m;
	enum pxd_xdp_list list;
};

static int mark_entry(const struct pxd_conf_cidr *c, const struct pxd_xdp_entry *e, void *arg)
{
	const struct mark_ctx *ctx = arg;

	(void)e;
	return mark(ctx->m, ctx->list, c);
}

int pxd_xdp_maps_mark_all(const struct pxd_xdp_maps *m)
{
	for (int list = 0; list < PXD_XDP_LIST_COUNT; list++) {
		struct mark_ctx ctx = { .m = m, .list = (enum pxd_xdp_list)list };
		int err = pxd_xdp_maps_foreach(m, ctx.list, mark_entry, &ctx);

		if (err)
			return err;
	}
	return 0;
}

struct sweep_ctx {
	const struct pxd_xdp_maps *m;
	uint64_t now;
	ssize_t n;
};

static int sweep_entry(const struct pxd_conf_cidr *c, const struct pxd_xdp_entry *e, void *arg)
{
	struct sweep_ctx *ctx = arg;

	if (e->expires_ns && e->expires_ns <= ctx->now &&
	    pxd_xdp_maps_del(ctx->m, PXD_XDP_LIST_DENY, c) == 0)
		ctx->n++;
	return 0;
}

ssize_t pxd_xdp_maps_sweep(const struct pxd_xdp_maps *m, uint64_t now_ns)
{
	struct sweep_ctx ctx = { .m = m, .now = now_ns };
	int ret = pxd_xdp_maps_foreach(m, PXD_XDP_LIST_DENY, sweep_entry, &ctx);

	return ret ? ret : ctx.n;
}

ssize_t pxd_xdp_maps_fill(int fd)
{
	unsigned char prev[64];
	unsigned char cur[64];
	ssize_t n = 0;
	void *pp = NULL;

	/* Keys here are at most 20 bytes; 64 leaves room for any of our maps. */
	while (bpf_map_get_next_key(fd, pp, cur) == 0) {
		memcpy(prev, cur, sizeof(prev));
		pp = prev;
		n++;
	}
	return errno == ENOENT ? n : -errno;
}

int pxd_xdp_maps_counters(const struct pxd_xdp_maps *m, uint64_t out[PXD_XDP_COUNTER_COUNT])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;
	int ret = 0;

	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < PXD_XDP_COUNTER_COUNT; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(m->counters, &k, vals) < 0) {
			ret = -errno;
			break;
		}
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return ret;
}

int pxd_xdp_maps_get_config(const struct pxd_xdp_maps *m, struct pxd_xdp_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(m->config, &zero, cfg) < 0 ? -errno : 0;
}

int pxd_xdp_maps_set_config(const struct pxd_xdp_maps *m, const struct pxd_xdp_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_update_elem(m->config, &zero, cfg, BPF_ANY) < 0 ? -errno : 0;
}

const char *pxd_xdp_counter_verdict(enum pxd_xdp_counter counter)
{
	return (unsigned)counter < PXD_XDP_COUNTER_COUNT ? counter_labels[counter].verdict : "?";
}

const char *pxd_xdp_counter_reason(enum pxd_xdp_counter counter)
{
	return (unsigned)counter < PXD_XDP_COUNTER_COUNT ? counter_labels[counter].reason : "?";
}

const char *pxd_xdp_origin_name(enum pxd_xdp_origin origin)
{
	return (unsigned)origin < PXD_XDP_ORIGIN_COUNT ? origin_names[origin] : "?";
}
