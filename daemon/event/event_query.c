// SPDX-License-Identifier: MIT
/*
 * The pixel query string to a canonical event: a key table, percent-decoding
 * into the caller's scratch (16 bytes at a time where nothing needs decoding)
 * and views into the query for the rest. One pass, no allocation; the
 * ingest thread, per pixel request.
 */
#include "event_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "compiler.h"

/* What a key sets. */
enum slot_kind {
	SLOT_NONE = 0, /* unknown key: ignored */
	SLOT_EVENT,
	SLOT_ID,
	SLOT_URL,
	SLOT_REF,
	SLOT_TS,
	SLOT_VALUE,
	SLOT_CUR,
	SLOT_OID,
	SLOT_USER,  /* ev->user[field] */
	SLOT_CLICK, /* ev->click[field] */
	SLOT_CUSTOM,
	SLOT_COUNT, /* number of slot kinds; keep last */
};

struct slot {
	enum slot_kind kind;
	int field;
};

#define KEY_IS(k, lit) (memcmp((k), (lit), sizeof(lit) - 1) == 0)

static struct slot user_slot(enum pxd_user_field f)
{
	return (struct slot){ SLOT_USER, f };
}

static struct slot click_slot(enum pxd_click_field f)
{
	return (struct slot){ SLOT_CLICK, f };
}

static struct slot plain_slot(enum slot_kind kind)
{
	return (struct slot){ kind, 0 };
}

/* Keys by length, then by their distinguishing bytes: at most a couple of
 * compares per key. */
static struct slot lookup(const char *k, size_t n)
{
	switch (n) {
	case 1:
		if (k[0] == 'e')
			return plain_slot(SLOT_EVENT);
		if (k[0] == 'v')
			return plain_slot(SLOT_VALUE);
		break;
	case 2:
		if (KEY_IS(k, "id"))
			return plain_slot(SLOT_ID);
		if (KEY_IS(k, "ts"))
			return plain_slot(SLOT_TS);
		if (KEY_IS(k, "em"))
			return user_slot(PXD_USER_FIELD_EMAIL);
		if (KEY_IS(k, "ph"))
			return user_slot(PXD_USER_FIELD_PHONE);
		if (KEY_IS(k, "fn"))
			return user_slot(PXD_USER_FIELD_FIRST_NAME);
		if (KEY_IS(k, "ln"))
			return user_slot(PXD_USER_FIELD_LAST_NAME);
		break;
	case 3:
		switch (k[0]) {
		case 'u':
			if (KEY_IS(k, "url"))
				return plain_slot(SLOT_URL);
			if (KEY_IS(k, "uid"))
				return user_slot(PXD_USER_FIELD_ID);
			break;
		case 'r':
			if (KEY_IS(k, "ref"))
				return plain_slot(SLOT_REF);
			break;
		case 'c':
			if (KEY_IS(k, "cur"))
				return plain_slot(SLOT_CUR);
			break;
		case 'o':
			if (KEY_IS(k, "oid"))
				return plain_slot(SLOT_OID);
			break;
		case 'f':
			if (KEY_IS(k, "fbc"))
				return click_slot(PXD_CLICK_FIELD_FBC);
			if (KEY_IS(k, "fbp"))
				return click_slot(PXD_CLICK_FIELD_FBP);
			break;
		case 't':
			if (KEY_IS(k, "ttp"))
				return click_slot(PXD_CLICK_FIELD_TTP);
			break;
		}
		break;
	case 4:
		if (KEY_IS(k, "epik"))
			return click_slot(PXD_CLICK_FIELD_EPIK);
		break;
	case 5:
		if (KEY_IS(k, "gclid"))
			return click_slot(PXD_CLICK_FIELD_GCLID);
		if (KEY_IS(k, "sccid"))
			return click_slot(PXD_CLICK_FIELD_SCCID);
		break;
	case 6:
		if (KEY_IS(k, "wbraid"))
			return click_slot(PXD_CLICK_FIELD_WBRAID);
		if (KEY_IS(k, "gbraid"))
			return click_slot(PXD_CLICK_FIELD_GBRAID);
		if (KEY_IS(k, "ttclid"))
			return click_slot(PXD_CLICK_FIELD_TTCLID);
		break;
	case 7:
		if (KEY_IS(k, "rdt_cid"))
			return click_slot(PXD_CLICK_FIELD_RDT_CID);
		if (KEY_IS(k, "msclkid"))
			return click_slot(PXD_CLICK_FIELD_MSCLKID);
		break;
	case 9:
		if (KEY_IS(k, "li_fat_id"))
			return click_slot(PXD_CLICK_FIELD_LI_FAT_ID);
		break;
	}
	if (n > 2 && k[0] == 'p' && k[1] == '.')
		return plain_slot(SLOT_CUSTOM);
	return plain_slot(SLOT_NONE);
}

static inline int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

enum decode_err {
	DECODE_OK = 0,
	DECODE_BAD_ESCAPE,
	DECODE_NUL,
	DECODE_ERR_COUNT, /* number of outcomes; keep last */
};

#if defined(__SSE2__)
/* Bytes of the 16 at <s> before the first '%', '+' or '&' (16: none). */
static inline unsigned plain16(const char *s)
{
	__m128i v = _mm_loadu_si128((const __m128i *)s);
	__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('%')),
						_mm_cmpeq_epi8(v, _mm_set1_epi8('+'))),
				   _mm_cmpeq_epi8(v, _mm_set1_epi8('&')));
	unsigned m = (unsigned)_mm_movemask_epi8(hit);

	return m ? (unsigned)__builtin_ctz(m) : 16;
}
#endif

/*
 * Percent-decodes the value at <s> ("+" is a space) up to the '&' that ends
 * it or the end of the query (<n> bytes on), into <out>, which has room for
 * the <n> bytes. <*used> is the raw bytes read, <*outlen> what they decode
 * to; on an error <*at> is the offending byte's index in <s>. Runs with no
 * '%', '+' or '&' are copied 16 bytes at a time: the store may write past
 * the decoded end, but never past <out> + <n> (what is decoded never outruns
 * what is read).
 */
static enum decode_err decode(const char *s, size_t n, char *out, size_t *used, size_t *outlen,
			      size_t *at)
{
	size_t len = 0;
	size_t i = 0;

	while (i < n) {
		unsigned char c;
		int hi;
		int lo;

#if defined(__SSE2__)
		while (i + 16 <= n) {
			unsigned run = plain16(s + i);

			_mm_storeu_si128((__m128i *)(out + len),
					 _mm_loadu_si128((const __m128i *)(s + i)));
			len += run;
			i += run;
			if (run < 16)
				break;
		}
		if (i == n)
			break;
#endif
		c = (unsigned char)s[i];
		if (c == '&')
			break;
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			hi = i + 2 < n ? hex_value((unsigned char)s[i + 1]) : -1;
			lo = hi >= 0 ? hex_value((unsigned char)s[i + 2]) : -1;
			if (lo < 0) {
				*at = i;
				return DECODE_BAD_ESCAPE;
			}
			c = (unsigned char)(hi << 4 | lo);
			if (!c) {
				*at = i;
				return DECODE_NUL;
			}
			i += 2;
		}
		out[len++] = (char)c;
		i++;
	}
	*used = i;
	*outlen = len;
	return DECODE_OK;
}

static bool parse_ts(struct pxd_sv v, int64_t *out)
{
	int64_t ts = 0;

	/* 18 digits cannot overflow int64 */
	if (!v.n || v.n > 18)
		return false;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
		ts = ts * 10 + (v.p[i] - '0');
	}
	*out = ts;
	return true;
}

/* A plain decimal ("9", "9.99", ".5"); <v> is NUL-terminated in scratch.
 * strtod() reads '.' as the point in the "C" locale the daemon keeps. */
static bool parse_value(struct pxd_sv v, double *out)
{
	size_t digits = 0;
	size_t dots = 0;

	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] >= '0' && v.p[i] <= '9')
			digits++;
		else if (v.p[i] == '.' && !dots)
			dots++;
		else
			return false;
	}
	if (!digits)
		return false;
	*out = strtod(v.p, NULL);
	return true;
}

static bool valid_prop_name(const char *s, size_t n)
{
	if (!n || n > PXD_EVENT_PROP_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

static enum pxd_refusal set_custom(struct pxd_event *ev, struct pxd_sv name, struct pxd_sv value,
				   char *detail, size_t dlen)
{
	unsigned i;

	if (pxd_sv_eq_lit(name, "value") || pxd_sv_eq_lit(name, "currency") ||
	    pxd_sv_eq_lit(name, "order_id"))
		return pxd_event_refuse(detail, dlen, "p.%.*s: reserved; send v, cur or oid",
					(int)name.n, name.p);
	for (i = 0; i < ev->ncustom; i++)
		if (pxd_sv_eq(ev->custom[i].name, name))
			break;
	if (i == PXD_EVENT_MAX_CUSTOM)
		return pxd_event_refuse(detail, dlen, "p.*: at most %d custom props",
					PXD_EVENT_MAX_CUSTOM);
	if (i == ev->ncustom)
		ev->ncustom++;
	ev->custom[i].name = name;
	ev->custom[i].value = value;
	return PXD_REFUSAL_NONE;
}

/* Stores the decoded <v> where <s> says; an empty standard value is absent. */
static enum pxd_refusal assign(struct pxd_event *ev, struct slot s, struct pxd_sv key,
			       struct pxd_sv v, char *detail, size_t dlen)
{
	struct pxd_sv set = v.n ? v : PXD_SV_NULL;

	switch (s.kind) {
	case SLOT_EVENT:
		ev->name = set;
		break;
	case SLOT_ID:
		ev->event_id = set;
		break;
	case SLOT_URL:
		ev->url = set;
		break;
	case SLOT_REF:
		ev->referrer = set;
		break;
	case SLOT_TS:
		ev->has_ts = v.n != 0;
		if (v.n && !parse_ts(v, &ev->ts))
			return pxd_event_refuse(detail, dlen,
						"ts: must be an integer (Unix milliseconds)");
		break;
	case SLOT_VALUE:
		ev->has_value = v.n != 0;
		if (v.n && !parse_value(v, &ev->value))
			return pxd_event_refuse(
			    detail, dlen, "v: must be a non-negative decimal number such as 9.99");
		break;
	case SLOT_CUR:
		ev->currency = set;
		break;
	case SLOT_OID:
		ev->order_id = set;
		break;
	case SLOT_USER:
		ev->user[s.field] = set;
		break;
	case SLOT_CLICK:
		ev->click[s.field] = set;
		break;
	case SLOT_CUSTOM:
		return set_custom(ev, pxd_sv_make(key.p + 2, key.n - 2), v, detail, dlen);
	case SLOT_NONE:
	case SLOT_COUNT:
		break;
	}
	return PXD_REFUSAL_NONE;
}

enum pxd_refusal pxd_event_query_parse(const char *q, size_t n, int64_t now_ms,
				       struct pxd_event *ev, char *scratch, size_t scap,
				       char *detail, size_t dlen)
{
	size_t used = 0;
	size_t i = 0;
	enum pxd_refusal r;

	pxd_event_reset(ev);
	ev->source = PXD_EVENT_SOURCE_PIXEL;
	if (scap < n + 1) {
		snprintf(detail, dlen, "query scratch of %zu bytes is below %zu", scap, n + 1);
		return PXD_REFUSAL_INTERNAL;
	}
	while (i < n) {
		size_t k = i;
		struct pxd_sv key;
		struct slot s;
		enum decode_err err;
		size_t raw = 0;
		size_t len = 0;
		size_t at = 0;

		/* Keys are short: a byte loop to the '=' or '&' after one. */
		while (k < n && q[k] != '=' && q[k] != '&')
			k++;
		key = pxd_sv_make(q + i, k - i);
		s = lookup(key.p, key.n);
		if (k < n && q[k] == '=')
			k++;
		if (s.kind == SLOT_NONE) {
			const char *amp = memchr(q + k, '&', n - k);

			i = amp ? (size_t)(amp - q) + 1 : n;
			continue;
		}
		if (s.kind == SLOT_CUSTOM && !valid_prop_name(key.p + 2, key.n - 2))
			return pxd_event_refuse(
			    detail, dlen,
			    "p.*: custom prop names are 1..%d characters of A-Z a-z "
			    "0-9 _",
			    PXD_EVENT_PROP_NAME_MAX);
		/* A decoded value and its NUL take no more bytes than the raw
		 * pair (the NUL stands for the '=', or for the key when there
		 * is none), so <n> + 1 bytes of scratch always suffice, and
		 * what is left of the query always fits where it goes. */
		err = decode(q + k, n - k, scratch + used, &raw, &len, &at);
		if (err == DECODE_BAD_ESCAPE)
			return pxd_event_refuse(
			    detail, dlen,
			    "%.*s: bad percent-escape at offset %zu; write '%%' as %%25",
			    (int)key.n, key.p, k + at);
		if (err == DECODE_NUL)
			return pxd_event_refuse(detail, dlen,
						"%.*s: %%00 (a NUL byte) is not allowed",
						(int)key.n, key.p);
		scratch[used + len] = '\0';
		r = assign(ev, s, key, pxd_sv_make(scratch + used, len), detail, dlen);
		if (r)
			return r;
		used += len + 1;
		i = k + raw + 1;
	}
	if (!ev->name.n)
		ev->name = PXD_SV("PageView");
	return pxd_event_check(ev, now_ms, detail, dlen);
}
