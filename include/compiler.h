/* SPDX-License-Identifier: MIT */
/*
 * compiler.h - small compiler helpers shared by every module: branch hints,
 * ARRAY_SIZE, container_of, cache-line alignment. No state, any thread.
 */
#ifndef PXD_COMPILER_H
#define PXD_COMPILER_H

#include <stddef.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define PXD_CACHELINE 64
#define pxd_cache_aligned __attribute__((aligned(PXD_CACHELINE)))

#define pxd_printf(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))

#define PXD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PXD_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
