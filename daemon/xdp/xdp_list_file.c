// SPDX-License-Identifier: MIT
/*
 * The XDP list files (xdp.allow_file, xdp.deny_file): one CIDR a line, read
 * whole and checked before the map changes, then added, and the file entries
 * no longer listed removed. Main thread at start and on SIGHUP, or pixelctl.
 */
#include "xdp_maps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
				 "192.0.2.0/24 or 2001:db8::/32, no bits past the prefix)",
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
