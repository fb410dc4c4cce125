/* SPDX-License-Identifier: MIT */
/*
 * buf.h - a growable malloc-backed byte buffer for the cold paths: admin
 * answers, metrics text, outbound request bodies. Never used per request on
 * the ingest path. A buffer belongs to one thread at a time.
 */
#ifndef PXD_BUF_H
#define PXD_BUF_H

#include <stddef.h>

#include "compiler.h"

struct pxd_buf {
	char *p;
	size_t len;
	size_t cap;
};

/* Makes room for <n> more bytes. Returns 0 or -ENOMEM. */
int pxd_buf_reserve(struct pxd_buf *b, size_t n);

/* Appends <n> bytes. Returns 0 or -ENOMEM. */
int pxd_buf_append(struct pxd_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string. Returns 0 or -ENOMEM. */
int pxd_buf_puts(struct pxd_buf *b, const char *s);

/* Appends formatted text (no NUL counted in len). Returns 0 or -ENOMEM. */
int pxd_buf_printf(struct pxd_buf *b, const char *fmt, ...) pxd_printf(2, 3);

/*
 * Makes room for one more element in the array <*arr> of <n> used and <*cap>
 * allocated elements of <size> bytes (doubling). Returns 0 or -ENOMEM; on
 * failure <*arr> is untouched.
 */
int pxd_array_grow(void **arr, size_t *cap, size_t n, size_t size);

/* Releases the memory and empties <b>. Accepts an empty buffer. */
void pxd_buf_free(struct pxd_buf *b);

#endif
