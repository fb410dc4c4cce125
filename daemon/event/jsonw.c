// SPDX-License-Identifier: MIT
/*
 * The JSON writer: a byte-class table picks out what needs escaping, UTF-8 is
 * checked per sequence (bad bytes become U+FFFD), doubles get the fewest
 * digits (15..17) that read back exactly, short decimals without printf.
 * Writes only into the caller's buffer; its caller's thread.
 */
#include "jsonw.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "json_plain.h"

enum byte_class {
	BYTE_PLAIN = 0, /* copied as it is */
	BYTE_ESCAPE,	/* '"', '\\' or a control character */
	BYTE_HIGH,	/* >= 0x80: part of a UTF-8 sequence, or garbage */
};

/* One row per 16 bytes; clang-format would put each on its own line. */
#define E BYTE_ESCAPE
#define H BYTE_HIGH
/* clang-format off */
static const unsigned char byte_class[256] = {
	/* 0x00-0x1f: control characters */
	E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E,
	E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E,
	/* 0x20-0x7f: '"' (0x22) and '\\' (0x5c) only */
	0, 0, E, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, E, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x80-0xff */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
};
/* clang-format on */
#undef E
#undef H

static const char hex_digits[] = "0123456789abcdef";

/* Checks that <n> more bytes fit, keeping one for the final NUL. */
static inline bool reserve(struct pxd_jsonw *w, size_t n)
{
	if (unlikely(w->err))
		return false;
	if (unlikely(w->cap - w->len <= n)) {
		w->err = -ENOSPC;
		return false;
	}
	return true;
}

static inline void put(struct pxd_jsonw *w, const void *p, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

static inline void putc1(struct pxd_jsonw *w, char c)
{
	if (!reserve(w, 1))
		return;
	w->p[w->len++] = c;
}

static inline void separate(struct pxd_jsonw *w)
{
	if (w->need_comma)
		putc1(w, ',');
}

void pxd_jsonw_init(struct pxd_jsonw *w, char *buf, size_t cap)
{
	w->p = buf;
	w->len = 0;
	w->cap = cap;
	w->err = cap ? 0 : -ENOSPC;
	w->need_comma = false;
}

static void open_container(struct pxd_jsonw *w, char c)
{
	separate(w);
	putc1(w, c);
	w->need_comma = false;
}

static void close_container(struct pxd_jsonw *w, char c)
{
	putc1(w, c);
	w->need_comma = true;
}

void pxd_jsonw_object_begin(struct pxd_jsonw *w)
{
	open_container(w, '{');
}

void pxd_jsonw_object_end(struct pxd_jsonw *w)
{
	close_container(w, '}');
}

void pxd_jsonw_array_begin(struct pxd_jsonw *w)
{
	open_container(w, '[');
}

void pxd_jsonw_array_end(struct pxd_jsonw *w)
{
	close_container(w, ']');
}

size_t pxd_jsonw_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80;
	unsigned char hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* The second byte's range excludes overlongs (E0, F0), surrogates
	 * (ED) and code points above U+10FFFF (F4). */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static void put_escape(struct pxd_jsonw *w, unsigned char c)
{
	char u[6] = { '\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 0xf] };
	char two[2] = { '\\', 0 };

	switch (c) {
	case '"':
	case '\\':
		two[1] = (char)c;
		break;
	case '\b':
		two[1] = 'b';
		break;
	case '\f':
		two[1] = 'f';
		break;
	case '\n':
		two[1] = 'n';
		break;
	case '\r':
		two[1] = 'r';
		break;
	case '\t':
		two[1] = 't';
		break;
	default:
		put(w, u, sizeof(u));
		return;
	}
	put(w, two, sizeof(two));
}

/* Writes <s> escaped (no quotes); runs of plain bytes go out in one copy,
 * found a word at a time. */
static void put_escaped(struct pxd_jsonw *w, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = 0;
	size_t i = 0;

	while (i < n) {
		enum byte_class cls;
		size_t seq;

		i += pxd_json_plain_run(s + i, n - i);
		if (i == n)
			break;
		cls = byte_class[u[i]];
		put(w, s + start, i - start);
		if (cls == BYTE_ESCAPE) {
			put_escape(w, u[i]);
			i++;
		} else {
			seq = pxd_jsonw_utf8_len(u + i, n - i);
			if (seq) {
				put(w, s + i, seq);
				i += seq;
			} else {
				put(w, "\xef\xbf\xbd", 3); /* U+FFFD */
				i++;
			}
		}
		start = i;
	}
	put(w, s + start, n - start);
}

static void put_quoted(struct pxd_jsonw *w, const char *s, size_t n)
{
	putc1(w, '"');
	put_escaped(w, s, n);
	putc1(w, '"');
}

void pxd_jsonw_str_open(struct pxd_jsonw *w)
{
	separate(w);
	putc1(w, '"');
}

void pxd_jsonw_str_part(struct pxd_jsonw *w, const char *s, size_t n)
{
	put_escaped(w, s, n);
}

void pxd_jsonw_str_close(struct pxd_jsonw *w, bool key)
{
	putc1(w, '"');
	if (key)
		putc1(w, ':');
	w->need_comma = !key;
}

void pxd_jsonw_key(struct pxd_jsonw *w, const char *k, size_t n)
{
	separate(w);
	put_quoted(w, k, n);
	putc1(w, ':');
	w->need_comma = false;
}

void pxd_jsonw_key_quoted(struct pxd_jsonw *w, const char *qk, size_t n)
{
	separate(w);
	put(w, qk, n);
	w->need_comma = false;
}

void pxd_jsonw_string(struct pxd_jsonw *w, const char *s, size_t n)
{
	separate(w);
	put_quoted(w, s, n);
	w->need_comma = true;
}

/* <u> in decimal, ending at <end>; returns where it starts. */
static char *put_digits(char *end, uint64_t u)
{
	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	return end;
}

void pxd_jsonw_int(struct pxd_jsonw *w, int64_t v)
{
	char tmp[24];
	char *end = tmp + sizeof(tmp);
	/* Negating in unsigned arithmetic keeps INT64_MIN defined. */
	char *p = put_digits(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);

	if (v < 0)
		*--p = '-';
	separate(w);
	put(w, p, (size_t)(end - p));
	w->need_comma = true;
}

/*
 * The text "%.15g" gives <v> when it is m / 10^k for an integer m below
 * 10^15 and k <= 6 (a price, a count, a rate): the smallest such k, m with
 * its point put in. The division is correctly rounded, so m / 10^k == v
 * says that reading the text back gives <v>; below 10^15 and from 10^-4 up
 * "%.15g" writes no exponent and strips the trailing zeros, so the bytes
 * are the same. Returns the length, or 0 for the general path (snprintf).
 */
static int short_decimal(double v, char *tmp, size_t cap)
{
	static const double pow10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6 };
	double a = fabs(v);
	char *end = tmp + cap;
	char *p;

	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (int k = 0; k < (int)ARRAY_SIZE(pow10); k++) {
		double scaled = a * pow10[k];
		uint64_t m;

		if (scaled >= 1e15)
			return 0;
		m = (uint64_t)(scaled + 0.5);
		if ((double)m / pow10[k] != a)
			continue;
		p = put_digits(end, m);
		for (int d = (int)(end - p); d <= k; d++)
			*--p = '0'; /* 0.05: the zeros before the digits */
		if (k) {
			memmove(p - 1, p, (size_t)(end - p - k));
			p--;
			end[-k - 1] = '.';
		}
		if (v < 0)
			*--p = '-';
		memmove(tmp, p, (size_t)(end - p));
		return (int)(end - p);
	}
	return 0;
}

void pxd_jsonw_double(struct pxd_jsonw *w, double v)
{
	char tmp[32];
	int n;

	if (!isfinite(v)) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	n = short_decimal(v, tmp, sizeof(tmp));
	/* 17 significant digits always round-trip; fewer usually do and read
	 * better (99.99, not 99.989999999999995). */
	for (int prec = 15; !n && prec <= 17; prec++) {
		n = snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (prec < 17 && strtod(tmp, NULL) != v)
			n = 0;
	}
	separate(w);
	put(w, tmp, (size_t)n);
	w->need_comma = true;
}

void pxd_jsonw_bool(struct pxd_jsonw *w, bool v)
{
	separate(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
	w->need_comma = true;
}

void pxd_jsonw_null(struct pxd_jsonw *w)
{
	separate(w);
	put(w, "null", 4);
	w->need_comma = true;
}

void pxd_jsonw_raw(struct pxd_jsonw *w, const char *json, size_t n)
{
	separate(w);
	put(w, json, n);
	w->need_comma = true;
}

ssize_t pxd_jsonw_finish(struct pxd_jsonw *w)
{
	if (w->err)
		return w->err;
	w->p[w->len] = '\0';
	return (ssize_t)w->len;
}
