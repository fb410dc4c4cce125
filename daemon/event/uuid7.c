// SPDX-License-Identifier: MIT
/*
 * UUIDv7 ids: a 48-bit millisecond time, a 26-bit counter that keeps ids
 * of one millisecond in order, and xoshiro256** bits seeded once from
 * getrandom(2). No syscall after init; the state's own thread.
 */
#include "uuid7.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#define COUNTER_BITS 26
#define COUNTER_MAX ((1u << COUNTER_BITS) - 1)
#define TS_MAX ((INT64_C(1) << 48) - 1)

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** 1.0 (Blackman and Vigna): fast, 256-bit state, passes BigCrush. */
static uint64_t next_random(struct pxd_uuid7 *u)
{
	uint64_t *s = u->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* A random counter start with its top bit clear, leaving room for at least
 * 2^25 increments before it overflows. */
static uint32_t counter_start(struct pxd_uuid7 *u)
{
	return (uint32_t)(next_random(u) >> 39);
}

int pxd_uuid7_init(struct pxd_uuid7 *u)
{
	size_t got = 0;

	memset(u, 0, sizeof(*u));
	while (got < sizeof(u->s)) {
		ssize_t n = getrandom((char *)u->s + got, sizeof(u->s) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	/* xoshiro's one bad state; 2^-256 likely, but then it would emit zeros. */
	if (!(u->s[0] | u->s[1] | u->s[2] | u->s[3]))
		u->s[0] = 0x9e3779b97f4a7c15ull;
	u->counter = counter_start(u);
	return 0;
}

static void put_hex(char *out, uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = digits - 1; i >= 0; i--) {
		out[i] = hex[v & 0xf];
		v >>= 4;
	}
}

void pxd_uuid7_next(struct pxd_uuid7 *u, int64_t now_ms, char out[PXD_UUID7_LEN + 1])
{
	uint64_t rnd = next_random(u);
	uint64_t ts;

	if (now_ms > TS_MAX)
		now_ms = TS_MAX;
	if (now_ms > u->last_ms) {
		u->last_ms = now_ms;
		u->counter = counter_start(u);
	} else if (u->counter < COUNTER_MAX) {
		u->counter++;
	} else {
		u->last_ms++;
		u->counter = counter_start(u);
	}
	ts = (uint64_t)u->last_ms & (uint64_t)TS_MAX;

	put_hex(out, ts >> 16, 8);
	out[8] = '-';
	put_hex(out + 9, ts & 0xffff, 4);
	out[13] = '-';
	put_hex(out + 14, 0x7000u | (u->counter >> 14), 4);
	out[18] = '-';
	put_hex(out + 19, 0x8000u | (u->counter & 0x3fffu), 4);
	out[23] = '-';
	put_hex(out + 24, rnd >> 16, 12);
	out[PXD_UUID7_LEN] = '\0';
}
