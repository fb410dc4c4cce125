// SPDX-License-Identifier: MIT
/*
 * Bounded gzip inflating for request bodies: one zlib stream per ingest
 * thread, inflateReset() between bodies (no allocation per request), and
 * output capped at the caller's buffer. Ingest thread of the state only.
 */
#include "http_gunzip.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

struct pxd_gunzip {
	z_stream zs;
};

int pxd_gunzip_new(struct pxd_gunzip **out)
{
	struct pxd_gunzip *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	/* 16 + MAX_WBITS: a gzip wrapper only (no raw deflate, no zlib header). */
	if (inflateInit2(&g->zs, 16 + MAX_WBITS) != Z_OK) {
		free(g);
		return -ENOMEM;
	}
	*out = g;
	return 0;
}

void pxd_gunzip_free(struct pxd_gunzip *g)
{
	if (!g)
		return;
	inflateEnd(&g->zs);
	free(g);
}

int pxd_gunzip_inflate(struct pxd_gunzip *g, struct pxd_sv in, char *out, size_t cap, size_t *len)
{
	z_stream *zs = &g->zs;
	int zrc;

	*len = 0;
	if (!in.n || in.n > UINT32_MAX || cap > UINT32_MAX)
		return -EINVAL;
	if (inflateReset(zs) != Z_OK)
		return -EINVAL;
	zs->next_in = (Bytef *)(uintptr_t)in.p;
	zs->avail_in = (uInt)in.n;
	zs->next_out = (Bytef *)out;
	zs->avail_out = (uInt)cap;
	/* Each pass makes progress or ends; the bound only guards against a zlib surprise. */
	for (unsigned pass = 0;; pass++) {
		if (pass > (1u << 20))
			return -EINVAL;
		zrc = inflate(zs, Z_NO_FLUSH);
		if (zrc == Z_STREAM_END) {
			/* Another member may follow (gzip files may be concatenated). */
			if (!zs->avail_in)
				break;
			if (inflateReset(zs) != Z_OK)
				return -EINVAL;
			continue;
		}
		if (zrc != Z_OK && zrc != Z_BUF_ERROR)
			return -EINVAL;
		if (!zs->avail_out)
			return -EFBIG;
		if (!zs->avail_in)
			return -EINVAL; /* the input ended inside a member */
	}
	*len = cap - zs->avail_out;
	return 0;
}

bool pxd_gunzip_encoding(struct pxd_sv content_encoding, bool *gzip)
{
	struct pxd_sv v = content_encoding;

	*gzip = false;
	if (!v.p || !v.n || pxd_sv_ieq(v, "identity"))
		return true;
	if (pxd_sv_ieq(v, "gzip") || pxd_sv_ieq(v, "x-gzip")) {
		*gzip = true;
		return true;
	}
	return false;
}
