/* SPDX-License-Identifier: MIT */
/*
 * json_plain.h - the scan every JSON string on the hot path goes through:
 * how many bytes from here need no second look (not a control character,
 * '"', '\\' or a byte >= 0x80). The writer (jsonw.c) copies such runs
 * unescaped; the beacon decoder (event_beacon.c) and the line reader
 * (event_line.c) skip them to the closing quote. Pure functions, any thread.
 *
 * Strings are most of an event's bytes and most of their bytes are plain,
 * so the run is found 16 bytes at a time where SSE2 is there (every x86-64:
 * a signed compare with 0x20 flags control characters and the bytes >= 0x80
 * at once), else 8 at a time in a word, then a byte at a time for the tail.
 */
#ifndef PXD_JSON_PLAIN_H
#define PXD_JSON_PLAIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Bytes from <s> (<n> of them) before the first that needs a look. */
static inline size_t pxd_json_plain_run(const char *s, size_t n)
{
	size_t i = 0;

#if defined(__SSE2__)
	const __m128i space = _mm_set1_epi8(0x20);
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i m =
		    _mm_or_si128(_mm_cmplt_epi8(x, space),
				 _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);

		if (bits)
			return i + (size_t)__builtin_ctz(bits);
	}
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/*
	 * A byte is flagged when it is below 0x20, equal to '"' or '\\' (the
	 * zero-byte test on x ^ c), or has its high bit set. A borrow can flag
	 * a byte only above one already flagged, so the lowest flag is the
	 * first such byte (the first byte is the lowest, little-endian).
	 */
	for (; i + 8 <= n; i += 8) {
		const uint64_t ones = UINT64_C(0x0101010101010101);
		const uint64_t high = UINT64_C(0x8080808080808080);
		uint64_t x;
		uint64_t q;
		uint64_t b;
		uint64_t m;

		memcpy(&x, s + i, sizeof(x));
		q = x ^ (ones * '"');
		b = x ^ (ones * '\\');
		m = (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x) & high;
		if (m)
			return i + (size_t)(__builtin_ctzll(m) >> 3);
	}
#endif
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
			break;
	}
	return i;
}

#endif
