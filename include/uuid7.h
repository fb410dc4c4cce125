/* SPDX-License-Identifier: MIT */
/*
 * uuid7.h - RFC 9562 UUIDv7 event ids in lowercase text form, made from a
 * per-thread state: the caller's millisecond clock, a counter that keeps ids
 * of one millisecond in order, and a PRNG seeded once from getrandom(2), so
 * making an id costs no syscall and no lock. A state belongs to one thread.
 */
#ifndef PXD_UUID7_H
#define PXD_UUID7_H

#include <stdint.h>

#define PXD_UUID7_LEN 36 /* "xxxxxxxx-xxxx-7xxx-[89ab]xxx-xxxxxxxxxxxx" */

/*
 * Layout (RFC 9562 §5.7, monotonicity by §6.2 method 1 with a 26-bit
 * counter: the 12 bits of rand_a and the top 14 of rand_b):
 *
 *   48 bits  unix_ts_ms    the later of the caller's clock and the last id's
 *    4 bits  version       0111
 *   12 bits  counter[25:14]
 *    2 bits  variant       10
 *   14 bits  counter[13:0]
 *   48 bits  random        fresh for every id
 *
 * The counter restarts from a random value below 2^25 at each new
 * millisecond, so at least 2^25 ids fit in one millisecond before it
 * overflows; then the timestamp moves on by 1 ms (§6.2 allows that) and ids
 * stay ordered. A clock that steps back keeps the last timestamp.
 */
struct pxd_uuid7 {
	uint64_t s[4];	 /* xoshiro256** state */
	int64_t last_ms; /* timestamp of the last id */
	uint32_t counter;
};

/* Seeds <u> from getrandom(2). Returns 0 or -errno (-ENOSYS, -EIO...).
 * Cold path: once per thread. */
int pxd_uuid7_init(struct pxd_uuid7 *u);

/*
 * Writes the next id for the wall-clock time <now_ms> (Unix ms) to <out>:
 * PXD_UUID7_LEN lowercase characters and a NUL. Ids from one state compare
 * (as strings) strictly increasing. Never fails, no syscall.
 */
void pxd_uuid7_next(struct pxd_uuid7 *u, int64_t now_ms, char out[PXD_UUID7_LEN + 1]);

#endif
