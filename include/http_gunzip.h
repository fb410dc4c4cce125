/* SPDX-License-Identifier: MIT */
/*
 * http_gunzip.h - bounded decompression of Content-Encoding: gzip request
 * bodies. Owns one zlib inflate state, set up once and reset per body, so a
 * request allocates nothing; output stops at the caller's limit, so a gzip
 * bomb costs at most that many bytes of inflating. One ingest thread per
 * state.
 */
#ifndef PXD_HTTP_GUNZIP_H
#define PXD_HTTP_GUNZIP_H

#include <stdbool.h>
#include <stddef.h>

#include "strview.h"

struct pxd_gunzip;

/* Allocates an inflate state (about 40 KiB). Returns 0 and <*out>, or -ENOMEM. Cold path. */
int pxd_gunzip_new(struct pxd_gunzip **out);

/* Releases <g>. Accepts NULL. */
void pxd_gunzip_free(struct pxd_gunzip *g);

/*
 * Inflates the gzip member (or members, as concatenated by some clients) in
 * <in> into <out> (<cap> bytes) and sets <*len>. Returns 0, -EFBIG when the
 * output fills <cap> (inflating stops there: a bomb is refused at the limit;
 * pass one byte more than the largest body accepted), or -EINVAL (not gzip, corrupt, bad checksum
 * or truncated). Trailing bytes after a complete member that are not another member are -EINVAL
 * too. Allocates nothing.
 */
int pxd_gunzip_inflate(struct pxd_gunzip *g, struct pxd_sv in, char *out, size_t cap, size_t *len);

/*
 * Reads a Content-Encoding value: sets <*gzip> for "gzip" or "x-gzip", clears
 * it for none or "identity". Returns false for anything else (deflate, br,
 * a list of codings), which the caller answers with 415.
 */
bool pxd_gunzip_encoding(struct pxd_sv content_encoding, bool *gzip);

#endif
