// SPDX-License-Identifier: MIT
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

void pxd_xdp_maps_init(struct pxd_xdp_maps *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(map_table); i++)
		*map_fd(m, i) = -1;
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
	return 0;
fail:
	pxd_xdp_maps_close(m);
	return err;
}

void pxd_xdp_maps_close(struct pxd_xdp_maps *m)
{
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

static void mask_host_bits(struct pxd_conf_cidr *c)
{
	unsigned bytes = c->family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned bit = i * 8;

		if (bit >= c->prefix)
			c->addr[i] = 0;
		else if (c->prefix - bit < 8)
			c->addr[i] &= (uint8_t)(0xff << (8 - (c->prefix - bit)));
	}
}

int pxd_xdp_cidr_parse(const char *s, struct pxd_conf_cidr *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;
	unsigned long prefix;
	char *end;

	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	prefix = max;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		prefix = strtoul(slash + 1, &end, 10);
		if (errno || *end || prefix > max)
			return -EINVAL;
	}
	out->prefix = (uint8_t)prefix;
	mask_host_bits(out);
	return 0;
}

void pxd_xdp_cidr_format(const struct pxd_conf_cidr *c, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, addr, sizeof(addr)))
		snprintf(addr, sizeof(addr), "?");
	snprintf(buf, len, "%s/%u", addr, c->prefix);
}

int pxd_xdp_cidr_from_sockaddr(const struct sockaddr *sa, struct pxd_conf_cidr *out)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		out->family = AF_INET;
		out->prefix = 32;
		memcpy(out->addr, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	if (memcmp(sin6->sin6_addr.s6_addr, v4mapped, sizeof(v4mapped)) == 0) {
		out->family = AF_INET;
		out->prefix = 32;
		memcpy(out->addr, sin6->sin6_addr.s6_addr + 12, 4);
		return 0;
	}
	out->family = AF_INET6;
	out->prefix = 64;
	memcpy(out->addr, sin6->sin6_addr.s6_addr, 8);
	return 0;
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

static int list_fd(const struct pxd_xdp_maps *m, enum pxd_xdp_list list, int family)
{
	if (list == PXD_XDP_LIST_ALLOW)
		return family == AF_INET ? m->allow_v4 : m->allow_v6;
	return family == AF_INET ? m->deny_v4 : m->deny_v6;
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
	int fd = list_fd(m, list, c->family);
	union lpm_key key;

	if (list == PXD_XDP_LIST_DENY)
		e.expires_ns = expires_ns;
	make_key(c, &key);
	/* A trie lookup returns the longest match; the stored prefixlen says whether it is exact.
	 */
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
	if (bpf_map_delete_elem(list_fd(m, list, c->family), &key) < 0)
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

int pxd_xdp_maps_foreach(const struct pxd_xdp_maps *m, enum pxd_xdp_list list, pxd_xdp_entry_fn *fn,
			 void *arg)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int ret = 0;

	for (size_t f = 0; f < ARRAY_SIZE(families) && !ret; f++) {
		int fd = list_fd(m, list, families[f]);
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

static int cidr_cmp(const void *a, const void *b)
{
	const struct pxd_conf_cidr *x = a;
	const struct pxd_conf_cidr *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

struct cidr_set {
	struct pxd_conf_cidr *v;
	size_t n;
	size_t cap;
};

static int set_push(struct cidr_set *s, const struct pxd_conf_cidr *c)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct pxd_conf_cidr *p = realloc(s->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = *c;
	return 0;
}

/* Reads <path> into <s>; on a bad line fills <err> with file:line and the value. */
static int read_list_file(const char *path, struct cidr_set *s, char *err, size_t errlen)
{
	char line[512];
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot open: %s (check the path in [xdp])", path,
			 strerror(-ret));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		struct pxd_conf_cidr c;
		char *p = line;
		char *end;

		lineno++;
		end = strchr(p, '#');
		if (end)
			*end = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p &&
		       (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!*p)
			continue;
		if (pxd_xdp_cidr_parse(p, &c) < 0) {
			snprintf(err, errlen,
				 "%s:%u: \"%.64s\" is not a CIDR (write one per line, e.g. "
				 "192.0.2.0/24 or 2001:db8::/32)",
				 path, lineno, p);
			ret = -EINVAL;
			break;
		}
		ret = set_push(s, &c);
		if (ret) {
			snprintf(err, errlen, "%s: out of memory at line %u", path, lineno);
			break;
		}
	}
	if (!ret && ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	}
	fclose(f);
	return ret;
}

struct prune_ctx {
	const struct pxd_xdp_maps *m;
	enum pxd_xdp_list list;
	const struct cidr_set *keep;
	int err;
};

static int prune_file_entry(const struct pxd_conf_cidr *c, const struct pxd_xdp_entry *e, void *arg)
{
	struct prune_ctx *ctx = arg;
	int ret;

	if (e->origin != PXD_XDP_ORIGIN_FILE)
		return 0;
	if (ctx->keep->n && bsearch(c, ctx->keep->v, ctx->keep->n, sizeof(*c), cidr_cmp))
		return 0;
	ret = pxd_xdp_maps_del(ctx->m, ctx->list, c);
	if (ret && ret != -ENOENT && !ctx->err)
		ctx->err = ret;
	return 0;
}

ssize_t pxd_xdp_maps_load_file(const struct pxd_xdp_maps *m, enum pxd_xdp_list list,
			       const char *path, char *err, size_t errlen)
{
	struct cidr_set set = { 0 };
	struct prune_ctx ctx = { .m = m, .list = list, .keep = &set };
	char text[PXD_XDP_CIDR_STRLEN];
	ssize_t ret;

	if (path && *path) {
		ret = read_list_file(path, &set, err, errlen);
		if (ret)
			goto out;
	}
	if (set.n)
		qsort(set.v, set.n, sizeof(*set.v), cidr_cmp);
	for (size_t i = 0; i < set.n; i++) {
		ret = pxd_xdp_maps_add(m, list, &set.v[i], PXD_XDP_ORIGIN_FILE, 0);
		if (ret) {
			pxd_xdp_cidr_format(&set.v[i], text, sizeof(text));
			snprintf(err, errlen, "%s: cannot add %s: %s (raise [xdp] max_cidrs?)",
				 path, text, strerror((int)-ret));
			goto out;
		}
	}
	ret = pxd_xdp_maps_foreach(m, list, prune_file_entry, &ctx);
	if (!ret)
		ret = ctx.err;
	if (ret) {
		snprintf(err, errlen, "removing stale entries of %s: %s",
			 path && *path ? path : "-", strerror((int)-ret));
		goto out;
	}
	ret = (ssize_t)set.n;
out:
	free(set.v);
	return ret;
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
