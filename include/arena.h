/* SPDX-License-Identifier: MIT */
/*
 * arena.h - a per-thread bump arena, reset after every request, and the
 * jansson allocator hooks that draw from it. An ingest thread binds its own
 * arena; jansson values it then creates (beacon bodies) cost no malloc and no
 * free. Threads with no arena (dispatchers, main) get plain malloc/free.
 * The arena and its counters belong to the thread that bound it.
 */
#ifndef PXD_ARENA_H
#define PXD_ARENA_H

#include <stddef.h>
#include <stdint.h>

/* Enough for a 1 MiB /s2s/events body of 1,000 events parsed by jansson
 * (a 64 KiB beacon of 500 small events takes about 710 KiB, see
 * tests/unit/test_arena.c); only the pages a request touches are ever
 * resident. A body built to be expensive (64 KiB of "{}," takes 5 MiB)
 * spills over to malloc, counted. */
#define PXD_ARENA_DEFAULT_SIZE (16u * 1024u * 1024u)

/*
 * One block of <cap> bytes handed out front to back in 16-byte aligned
 * pieces; nothing is freed until pxd_arena_reset() forgets them all.
 */
struct pxd_arena {
	char *base;
	size_t cap;
	size_t used;
	size_t high_water;  /* most bytes used between two resets, ever */
	uint64_t fallbacks; /* allocations that did not fit and went to malloc */
};

/*
 * Allocates the arena's block (<cap> bytes, rounded up to 16) and binds the
 * arena to the calling thread, so the jansson hooks on this thread use it.
 * Returns 0, -EINVAL (<cap> is 0), -EBUSY (the thread already has one) or
 * -ENOMEM. Cold path, once per thread.
 */
int pxd_arena_init(struct pxd_arena *a, size_t cap);

/* Unbinds the arena from the calling thread (which must be the one that
 * called init) and frees its block. Accepts a zeroed or finished arena.
 * Every jansson value made from it must already be released. */
void pxd_arena_fini(struct pxd_arena *a);

/*
 * Returns <n> bytes, 16-byte aligned, from <a>, or NULL when they do not fit
 * (the caller decides what to do; the jansson hook falls back to malloc).
 * Never a syscall.
 */
void *pxd_arena_alloc(struct pxd_arena *a, size_t n);

/* Forgets every allocation; the next one starts at the beginning. Call it
 * after each request, once the request's jansson values are released. */
void pxd_arena_reset(struct pxd_arena *a);

/* Returns the arena bound to the calling thread, or NULL. */
struct pxd_arena *pxd_arena_current(void);

/*
 * Routes jansson's allocations through the calling thread's arena: malloc
 * takes from it (or from malloc, counted in <fallbacks>, when it is full or
 * the thread has none); free of a pointer inside the thread's arena is a
 * no-op and any other pointer goes to free(). Call once on the main thread
 * before any jansson function runs (jansson's own rule for
 * json_set_alloc_funcs).
 *
 * Consequences for callers: a jansson value made while an arena is bound
 * must be released on the same thread before pxd_arena_reset(); and strings
 * jansson returns for free() (json_dumps) must not be made on such a thread
 * (use json_dumpb into a buffer).
 */
void pxd_arena_install_jansson(void);

#endif
