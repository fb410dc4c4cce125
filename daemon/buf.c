// SPDX-License-Identifier: MIT
/*
 * The growable byte buffer and pxd_array_grow(): doubling growth, always
 * NUL-terminated, -ENOMEM on failure with the contents kept. Cold paths only;
 * the buffer's thread.
 */
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pxd_buf_reserve(struct pxd_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->len + n <= b->cap)
		return 0;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int pxd_buf_append(struct pxd_buf *b, const void *p, size_t n)
{
	int err = pxd_buf_reserve(b, n + 1);

	if (err)
		return err;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int pxd_buf_puts(struct pxd_buf *b, const char *s)
{
	return pxd_buf_append(b, s, strlen(s));
}

int pxd_buf_printf(struct pxd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	int err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	err = pxd_buf_reserve(b, (size_t)n + 1);
	if (err)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int pxd_array_grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 16;
	void *p;

	if (n < *cap)
		return 0;
	p = reallocarray(*arr, ncap, size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

void pxd_buf_free(struct pxd_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}
