// SPDX-License-Identifier: MIT
/*
 * CRC-32C: the SSE4.2 crc32 instruction when the CPU has it (checked once),
 * slicing-by-8 tables otherwise, built once. Any thread.
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#include "compiler.h"

#define POLY_REFLECTED 0x82f63b78u

/*
 * Slicing-by-8 (Kounavis and Berry, "A Systematic Approach to Building High
 * Performance Software-based CRC Generators", 2005): table[k][b] is the CRC of
 * byte b followed by k zero bytes, so eight table lookups fold eight input bytes
 * at once. 8 KiB, built once on first use.
 */
static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_build(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;

		for (int i = 0; i < 8; i++)
			c = (c >> 1) ^ (POLY_REFLECTED & (0u - (c & 1)));
		table[0][b] = c;
	}
	for (uint32_t b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++)
			table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xff];
}

/* The tables read the input as little-endian words; x86 and arm64 Linux both are. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "slicing-by-8 assumes little-endian");

uint32_t pxd_crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t c = ~crc;

	pthread_once(&table_once, table_build);
	for (; len && ((uintptr_t)p & 7); len--)
		c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		w ^= c;
		c = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
		    table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^
		    table[2][(w >> 40) & 0xff] ^ table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
	}
	while (len--)
		c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
	return ~c;
}

#if defined(__x86_64__)

/*
 * The crc32 instruction has a 3-cycle latency and 1-cycle throughput; one
 * dependency chain of 8-byte steps runs at ~2.7 bytes/cycle, which is plenty
 * for journal records of a few hundred bytes (the split into three chains
 * that large buffers use would need a combine step that costs more than it
 * saves at that size).
 */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *buf,
							    size_t len)
{
	const unsigned char *p = buf;
	uint64_t c = ~crc;

	for (; len && ((uintptr_t)p & 7); len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

bool pxd_crc32c_hw_available(void)
{
	/* libgcc fills the CPU model in a constructor; this is one load and a test. */
	return __builtin_cpu_supports("sse4.2");
}

uint32_t pxd_crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (likely(__builtin_cpu_supports("sse4.2")))
		return crc32c_hw(crc, buf, len);
	return pxd_crc32c_portable(crc, buf, len);
}

#else

bool pxd_crc32c_hw_available(void)
{
	return false;
}

uint32_t pxd_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return pxd_crc32c_portable(crc, buf, len);
}

#endif
