// SPDX-License-Identifier: MIT
/*
 * payload_json.c - platform bodies written directly, as jansson's compact
 * dump wrote them (payload_json.h).
 */
#include "adapters/payload_json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"

void pxd_payload_out_init(struct pxd_payload_out *o, struct pxd_buf *b)
{
	*o = (struct pxd_payload_out){ .b = b };
}

static void raw(struct pxd_payload_out *o, const char *p, size_t n)
{
	struct pxd_buf *b = o->b;

	/* Once the buffer has grown to a batch, every append fits: copy
	 * without pxd_buf_append()'s call (it runs ~100 times an event). */
	if (likely(!o->err && b->len + n < b->cap)) {
		memcpy(b->p + b->len, p, n);
		b->len += n;
		b->p[b->len] = '\0';
		return;
	}
	if (!o->err)
		o->err = pxd_buf_append(b, p, n);
}

/* One byte, as raw() writes it, without a copy call (brackets, commas and
 * quotes are a third of a body's appends). */
static inline void raw1(struct pxd_payload_out *o, char c)
{
	struct pxd_buf *b = o->b;

	if (likely(!o->err && b->len + 1 < b->cap)) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
		return;
	}
	raw(o, &c, 1);
}

static void sep(struct pxd_payload_out *o)
{
	if (o->comma)
		raw1(o, ',');
}

void pxd_payload_out_open(struct pxd_payload_out *o, char bracket)
{
	sep(o);
	raw1(o, bracket);
	o->comma = false;
}

void pxd_payload_out_close(struct pxd_payload_out *o, char bracket)
{
	raw1(o, bracket);
	o->comma = true;
}

/*
 * [,]"<s>"<tail>: bytes that need no escaping, quoted, after the comma that
 * is due, in one copy when it fits (every member's key, most values).
 */
static inline void quoted(struct pxd_payload_out *o, const char *s, size_t n, char tail)
{
	struct pxd_buf *b = o->b;

	if (likely(!o->err && b->len + n + 4 < b->cap)) {
		char *w = b->p + b->len;

		if (o->comma)
			*w++ = ',';
		*w++ = '"';
		memcpy(w, s, n);
		w += n;
		*w++ = '"';
		if (tail)
			*w++ = tail;
		*w = '\0';
		b->len = (size_t)(w - b->p);
		return;
	}
	sep(o);
	raw1(o, '"');
	raw(o, s, n);
	raw1(o, '"');
	if (tail)
		raw1(o, tail);
}

void pxd_payload_out_keyn(struct pxd_payload_out *o, const char *key, size_t n)
{
	quoted(o, key, n, ':');
	o->comma = false;
}

/* Code point <cp> as jansson writes it inside a string: the two-character
 * escapes, \u00XX (upper-case hex) for other controls, UTF-8 otherwise. */
static void put_cp(struct pxd_payload_out *o, unsigned cp)
{
	static const char two[] = "\"\"\\\\\bb\ff\nn\rr\tt";
	char u[8];
	size_t len;

	for (size_t i = 0; i + 1 < sizeof(two); i += 2) {
		if ((unsigned char)two[i] == cp) {
			char esc[2] = { '\\', two[i + 1] };

			raw(o, esc, 2);
			return;
		}
	}
	if (cp < 0x20) {
		snprintf(u, sizeof(u), "\\u%04X", cp);
		raw(o, u, 6);
		return;
	}
	len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	for (size_t i = len - 1; i > 0; i--, cp >>= 6)
		u[i] = (char)(0x80 | (cp & 0x3f));
	u[0] = (char)(len == 1 ? cp : (len == 2 ? 0xc0 : len == 3 ? 0xe0 : 0xf0) | cp);
	raw(o, u, len);
}

void pxd_payload_out_str(struct pxd_payload_out *o, const char *s, size_t n)
{
	size_t run = 0;

	sep(o);
	raw(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		raw(o, s + run, i - run);
		put_cp(o, c);
		run = i + 1;
	}
	raw(o, s + run, n - run);
	raw(o, "\"", 1);
	o->comma = true;
}

void pxd_payload_out_jv_str(struct pxd_payload_out *o, const struct pxd_jv *s)
{
	const char *p = s->p;
	const char *end = s->p + s->n;
	const char *run = p;

	if (!s->escaped) {
		quoted(o, s->p, s->n, 0);
		o->comma = true;
		return;
	}
	sep(o);
	raw(o, "\"", 1);
	while (p < end) {
		unsigned cp;
		int n;

		if (*p != '\\') {
			p++;
			continue;
		}
		raw(o, run, (size_t)(p - run));
		n = pxd_jv_escape(p + 1, end, &cp);
		if (n < 0) {
			o->err = o->err ? o->err : -EINVAL;
			return;
		}
		put_cp(o, cp);
		p += 1 + n;
		run = p;
	}
	raw(o, run, (size_t)(end - run));
	raw(o, "\"", 1);
	o->comma = true;
}

void pxd_payload_out_jv_key(struct pxd_payload_out *o, const struct pxd_jv *k)
{
	pxd_payload_out_jv_str(o, k);
	raw(o, ":", 1);
	o->comma = false;
}

void pxd_payload_out_int(struct pxd_payload_out *o, int64_t v)
{
	char text[24];
	char *p = text + sizeof(text);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	/* By hand rather than snprintf(): two or more per event sent. */
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	sep(o);
	raw(o, p, (size_t)(text + sizeof(text) - p));
	o->comma = true;
}

void pxd_payload_out_bool(struct pxd_payload_out *o, bool v)
{
	sep(o);
	raw(o, v ? "true" : "false", v ? 4 : 5);
	o->comma = true;
}

void pxd_payload_out_real(struct pxd_payload_out *o, double v)
{
	char text[40];
	int n = snprintf(text, sizeof(text), "%.15g", v);
	char *e = strchr(text, 'e');

	if (!e && !strchr(text, '.')) {
		memcpy(text + n, ".0", 3);
		n += 2;
	}
	if (e) {
		char *digits = e + 1 + (e[1] == '-');
		char *from = e[1] == '+' ? e + 2 : digits;

		while (*from == '0' && from[1])
			from++;
		memmove(digits, from, strlen(from) + 1);
		n = (int)strlen(text);
	}
	sep(o);
	raw(o, text, (size_t)n);
	o->comma = true;
}

/*
 * The common case of pxd_payload_out_jv_real() without formatting a double:
 * a number written in fixed notation with at most DBL_DIG (15) significant
 * digits reads back to the double "%.15g" prints as those same digits (the
 * guarantee DBL_DIG names), so the text itself, trailing fraction zeros
 * dropped and ".0" added when no fraction is left, is what
 * pxd_payload_out_real() would write, as long as "%.15g" picks fixed
 * notation too (decimal exponent -4 to 14). False, writing nothing, for
 * anything else (exponents, more digits, zero and its sign).
 */
static bool real_from_text(struct pxd_payload_out *o, const struct pxd_jv *v)
{
	const char *p = v->p, *end = v->p + v->n, *int_end, *frac, *frac_end;
	int sig, exp10;

	if (p < end && *p == '-')
		p++;
	for (int_end = p; int_end < end && *int_end >= '0' && *int_end <= '9'; int_end++)
		;
	frac = frac_end = int_end;
	if (int_end < end) {
		if (*int_end != '.')
			return false; /* an exponent */
		frac = int_end + 1;
		for (frac_end = frac; frac_end < end && *frac_end >= '0' && *frac_end <= '9';
		     frac_end++)
			;
		if (frac_end != end)
			return false;
		while (frac_end > frac && frac_end[-1] == '0')
			frac_end--;
	}
	if (int_end - p == 1 && *p == '0') {
		const char *lead = frac;

		while (lead < frac_end && *lead == '0')
			lead++;
		if (lead == frac_end)
			return false; /* zero: its sign is the double's business */
		sig = (int)(frac_end - lead);
		exp10 = -(int)(lead - frac) - 1;
	} else {
		sig = (int)(int_end - p + (frac_end - frac));
		exp10 = (int)(int_end - p) - 1;
	}
	if (sig > 15 || exp10 < -4 || exp10 >= 15)
		return false;
	sep(o);
	raw(o, v->p, (size_t)(int_end - v->p));
	if (frac_end > frac) {
		raw(o, ".", 1);
		raw(o, frac, (size_t)(frac_end - frac));
	} else {
		raw(o, ".0", 2);
	}
	o->comma = true;
	return true;
}

void pxd_payload_out_jv_real(struct pxd_payload_out *o, const struct pxd_jv *v)
{
	if (!pxd_jv_is_number(v)) {
		o->err = o->err ? o->err : -EINVAL;
		return;
	}
	if (!real_from_text(o, v))
		pxd_payload_out_real(o, pxd_jv_number(v));
}

void pxd_payload_out_jv(struct pxd_payload_out *o, const struct pxd_jv *v)
{
	struct pxd_jv_iter it;
	struct pxd_jv k, m;

	switch (v->type) {
	case PXD_JV_STRING:
		pxd_payload_out_jv_str(o, v);
		return;
	case PXD_JV_INTEGER:
		pxd_payload_out_int(o, pxd_jv_int(v));
		return;
	case PXD_JV_REAL:
		pxd_payload_out_jv_real(o, v);
		return;
	case PXD_JV_TRUE:
	case PXD_JV_FALSE:
	case PXD_JV_NULL:
		sep(o);
		raw(o, v->p, v->n);
		o->comma = true;
		return;
	case PXD_JV_OBJECT:
	case PXD_JV_ARRAY:
		pxd_payload_out_open(o, v->type == PXD_JV_OBJECT ? '{' : '[');
		pxd_jv_iter_init(&it, v);
		while (pxd_jv_next(&it, v->type == PXD_JV_OBJECT ? &k : NULL, &m)) {
			if (v->type == PXD_JV_OBJECT)
				pxd_payload_out_jv_key(o, &k);
			pxd_payload_out_jv(o, &m);
		}
		pxd_payload_out_close(o, v->type == PXD_JV_OBJECT ? '}' : ']');
		return;
	default:
		o->err = o->err ? o->err : -EINVAL;
	}
}

void pxd_payload_out_member(struct pxd_payload_out *o, const char *key, const struct pxd_jv *v)
{
	pxd_payload_out_key(o, key);
	pxd_payload_out_jv(o, v);
}

void pxd_payload_out_drop_empty(struct pxd_payload_out *o, const struct pxd_payload_mark *m)
{
	struct pxd_buf *b = o->b;

	if (o->err || b->len < m->len + 3 || memcmp(b->p + b->len - 3, ":{}", 3))
		return;
	b->len = m->len;
	b->p[b->len] = '\0';
	o->comma = m->comma;
}
