/* SPDX-License-Identifier: MIT */
/*
 * mock_count.h - the mock's counting mode (--count-key), for benchmarks:
 * events in a platform body are counted by a scan for one key instead of
 * being parsed and checked, so the mock costs a fraction of what the
 * sender under test does. Main thread; no state.
 */
#ifndef PXD_MOCK_COUNT_H
#define PXD_MOCK_COUNT_H

#include <stddef.h>

/* How many times "<key>" (at most 100 bytes): occurs in the <n> bytes of <body> (NULL counts 0). */
size_t pxd_mock_count(const char *body, size_t n, const char *key);

#endif
