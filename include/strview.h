/* SPDX-License-Identifier: MIT */
/*
 * strview.h - (pointer, length) string views used by every parser. A view
 * never owns its bytes: it points into a buffer whose owner outlives it.
 * Header-only; any thread.
 */
#ifndef PXD_STRVIEW_H
#define PXD_STRVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct pxd_sv {
	const char *p;
	size_t n;
};

#define PXD_SV(lit) ((struct pxd_sv){ (lit), sizeof(lit) - 1 })
#define PXD_SV_NULL ((struct pxd_sv){ NULL, 0 })

/* inline definitions */

static inline struct pxd_sv pxd_sv_make(const char *p, size_t n)
{
	return (struct pxd_sv){ p, n };
}

static inline struct pxd_sv pxd_sv_cstr(const char *s)
{
	return (struct pxd_sv){ s, s ? strlen(s) : 0 };
}

static inline bool pxd_sv_empty(struct pxd_sv s)
{
	return s.n == 0;
}

static inline bool pxd_sv_eq(struct pxd_sv a, struct pxd_sv b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline bool pxd_sv_eq_lit(struct pxd_sv a, const char *lit)
{
	size_t n = strlen(lit);

	return a.n == n && (n == 0 || memcmp(a.p, lit, n) == 0);
}

/* ASCII case-insensitive comparison, for header names and tokens. */
static inline bool pxd_sv_ieq(struct pxd_sv a, const char *lit)
{
	size_t n = strlen(lit);

	return a.n == n && (n == 0 || strncasecmp(a.p, lit, n) == 0);
}

static inline bool pxd_sv_starts_with(struct pxd_sv a, const char *lit)
{
	size_t n = strlen(lit);

	return a.n >= n && (n == 0 || memcmp(a.p, lit, n) == 0);
}

#endif
