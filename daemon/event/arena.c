// SPDX-License-Identifier: MIT
/*
 * The bump arena and the jansson hooks that draw from it: allocation is a
 * pointer bump in the bound thread's block, falling back to malloc (counted)
 * when it is full; free ignores pointers inside the arena. The arena's
 * thread only (an ingest thread, reset after each request).
 */
#include "arena.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"

#define ALIGN 16u

/* The arena bound to this thread; NULL on threads that never bound one. */
static __thread struct pxd_arena *bound;

static size_t round_up(size_t n)
{
	return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

int pxd_arena_init(struct pxd_arena *a, size_t cap)
{
	memset(a, 0, sizeof(*a));
	if (!cap || cap > SIZE_MAX - ALIGN)
		return -EINVAL;
	if (bound)
		return -EBUSY;
	cap = round_up(cap);
	a->base = aligned_alloc(ALIGN, cap);
	if (!a->base)
		return -ENOMEM;
	a->cap = cap;
	bound = a;
	return 0;
}

void pxd_arena_fini(struct pxd_arena *a)
{
	if (bound == a)
		bound = NULL;
	free(a->base);
	memset(a, 0, sizeof(*a));
}

void *pxd_arena_alloc(struct pxd_arena *a, size_t n)
{
	size_t need;
	void *p;

	if (unlikely(n > a->cap))
		return NULL;
	need = round_up(n ? n : 1);
	if (unlikely(need > a->cap - a->used))
		return NULL;
	p = a->base + a->used;
	a->used += need;
	if (a->used > a->high_water)
		a->high_water = a->used;
	return p;
}

void pxd_arena_reset(struct pxd_arena *a)
{
	a->used = 0;
}

struct pxd_arena *pxd_arena_current(void)
{
	return bound;
}

static void *json_alloc(size_t n)
{
	struct pxd_arena *a = bound;
	void *p;

	if (a) {
		p = pxd_arena_alloc(a, n);
		if (likely(p))
			return p;
		a->fallbacks++;
	}
	return malloc(n);
}

/* Only this thread's arena is recognised: a value made from an arena is
 * released on its thread (see arena.h), so a pointer outside it came from
 * malloc. The unsigned difference wraps for pointers below the base, so one
 * comparison checks both ends. */
static void json_free(void *p)
{
	struct pxd_arena *a = bound;

	if (a && (uintptr_t)p - (uintptr_t)a->base < a->cap)
		return;
	free(p);
}

void pxd_arena_install_jansson(void)
{
	json_set_alloc_funcs(json_alloc, json_free);
}
