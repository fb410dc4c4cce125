/* SPDX-License-Identifier: MIT */
/*
 * rng.h - pixelload's request generator randomness: xorshift64*, seeded by
 * --seed so the same seed builds the same requests. The state is the
 * caller's; main builds the pool with it before the threads start.
 */
#ifndef PL_RNG_H
#define PL_RNG_H

#include <stdbool.h>
#include <stdint.h>

/* ---- inline definitions ---- */

/** Returns the next 64 random bits of state <s> (never 0 unless <s> starts at 0). */
static inline uint64_t pl_rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/** Returns a number in [0, <n>) (n > 0). */
static inline unsigned pl_rng_below(uint64_t *s, unsigned n)
{
	return (unsigned)(pl_rng_next(s) % n);
}

/** Returns true with probability <p>. */
static inline bool pl_rng_chance(uint64_t *s, double p)
{
	return (double)(pl_rng_next(s) >> 11) * 0x1.0p-53 < p;
}

#endif
