// SPDX-License-Identifier: MIT
/*
 * Beacon bodies to canonical events in one pass (event_beacon.h): a
 * recursive-descent JSON reader that holds input to jansson's rules (RFC
 * 8259, UTF-8 per RFC 3629, no \u0000, 64-bit integers, finite reals,
 * nesting up to 2048 values deep, no duplicate keys) and fills the event
 * while it reads, with event_json.c's field rules and details. The caller's
 * thread; no allocation.
 */
#include "event_beacon.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "event_json.h"
#include "json_plain.h"
#include "jsonw.h"

#define MAX_DEPTH 2048	 /* jansson's JSON_PARSER_MAX_DEPTH: each value is a level */
#define KEYS_MAX 1024	 /* keys of the open objects checked for duplicates here */
#define SMALL_OBJECT 16	 /* up to this many keys, duplicates are looked for on insertion */
#define KEY_QUOTE_MAX 32 /* of a client's key in a detail */
#define SHORT_MAX 40	 /* longer than every field name and consent word */

enum kind {
	KIND_NULL = 0,
	KIND_TRUE,
	KIND_FALSE,
	KIND_STRING,
	KIND_INT,
	KIND_REAL,
	KIND_OBJECT,
	KIND_ARRAY,
};

/* A value read: for a string the bytes between the quotes as sent (<esc>:
 * with escapes), for a number its text. */
struct tok {
	enum kind k;
	const char *p;
	size_t n;
	bool esc;
};

/* A key of an open object, as an offset into the body. */
struct key {
	uint32_t off;
	uint32_t n;
	uint32_t hash;
	bool esc;
};

/* What is wrong with the body's shape, in rising precedence. */
enum shape {
	SHAPE_OK = 0,
	SHAPE_TOO_LARGE,
	SHAPE_NOT_ARRAY,
	SHAPE_NOT_ONLY,
};

/*
 * The decoder. <scratch> holds props_json from the front (the writer
 * <props>) and decoded strings from the back (<back> bytes), both reset per
 * event; while props are written the writer's end moves down as strings
 * are kept.
 */
struct dec {
	const char *body;
	const char *p;
	const char *end;
	int64_t now_ms;
	char *scratch;
	size_t scap;
	size_t front; /* props_json and its NUL, once written */
	size_t back;
	bool in_props;
	bool props_deep;
	struct pxd_jsonw props;
	pxd_event_beacon_fn *fn;
	void *arg;
	char *detail;
	size_t dlen;
	/* Inside a batch: the element being read, which a refusal names
	 * ("batch[3]."), formatted only then. SIZE_MAX for a single event. */
	size_t batch_at;
	bool failed; /* an event was refused: <r> and <detail> hold why */
	enum pxd_refusal r;
	enum shape shape;
	bool top_array;
	bool batch_mode;
	size_t ntop;
	size_t nbatch;
	bool keys_full;
	unsigned nkeys;
	struct pxd_event ev;
	struct key *keys; /* KEYS_MAX, the caller's; read below <nkeys> only */
};

/* ---- strings as decoded ---- */

struct str_it {
	const unsigned char *p;
	const unsigned char *end;
};

static int hex4(const unsigned char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (c | 0x20) - 'a' + 10;
		else
			return -1;
	}
	return v;
}

static size_t utf8_put(unsigned cp, unsigned char out[4])
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static void it_init(struct str_it *it, const struct tok *t)
{
	it->p = (const unsigned char *)t->p;
	it->end = it->p + t->n;
}

/* Copies the next character of a string lex_string() accepted into <out>
 * and returns its length (1..4), or 0 at the end. */
static size_t it_next(struct str_it *it, unsigned char out[4])
{
	static const char plain[] = "\"\\/\b\f\n\r\t";
	static const char named[] = "\"\\/bfnrt";
	unsigned cp;
	size_t n;

	if (it->p == it->end)
		return 0;
	if (*it->p != '\\') {
		n = *it->p < 0x80 ? 1 : pxd_jsonw_utf8_len(it->p, (size_t)(it->end - it->p));
		memcpy(out, it->p, n);
		it->p += n;
		return n;
	}
	if (it->p[1] != 'u') {
		out[0] = (unsigned char)plain[strchr(named, it->p[1]) - named];
		it->p += 2;
		return 1;
	}
	cp = (unsigned)hex4(it->p + 2);
	it->p += 6;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + ((unsigned)hex4(it->p + 2) - 0xdc00);
		it->p += 6;
	}
	return utf8_put(cp, out);
}

/* Decodes <t> into <out> (t->n bytes suffice) and returns the length. */
static size_t decode(const struct tok *t, char *out)
{
	struct str_it it;
	size_t n = 0;
	size_t c;

	it_init(&it, t);
	while ((c = it_next(&it, (unsigned char *)out + n)))
		n += c;
	return n;
}

/* <t> decoded when it is at most SHORT_MAX bytes, else a view that matches
 * no field name (SHORT_MAX + 1 bytes). */
static struct pxd_sv short_text(const struct tok *t, char buf[SHORT_MAX + 4])
{
	struct str_it it;
	size_t n = 0;
	size_t c;

	if (!t->esc)
		return pxd_sv_make(t->p, t->n);
	it_init(&it, t);
	while (n <= SHORT_MAX && (c = it_next(&it, (unsigned char *)buf + n)))
		n += c;
	return pxd_sv_make(buf, PXD_MIN(n, SHORT_MAX + 1));
}

static uint32_t key_hash(const struct tok *t)
{
	const unsigned char *p = (const unsigned char *)t->p;
	unsigned char ch[4];
	struct str_it it;
	uint32_t h = 2166136261u;
	size_t c;

	if (!t->esc) {
		for (size_t i = 0; i < t->n; i++)
			h = (h ^ p[i]) * 16777619u;
		return h;
	}
	it_init(&it, t);
	while ((c = it_next(&it, ch)))
		for (size_t i = 0; i < c; i++)
			h = (h ^ ch[i]) * 16777619u;
	return h;
}

static struct tok key_tok(const char *body, const struct key *k)
{
	return (struct tok){ KIND_STRING, body + k->off, k->n, k->esc };
}

/* Orders two keys by hash, then by their decoded bytes. */
static int key_cmp(const void *pa, const void *pb, void *body)
{
	const struct key *a = pa;
	const struct key *b = pb;
	struct tok ta = key_tok(body, a);
	struct tok tb = key_tok(body, b);
	unsigned char ca[4];
	unsigned char cb[4];
	struct str_it ia;
	struct str_it ib;
	size_t na;
	size_t nb;
	int c;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (!a->esc && !b->esc) {
		c = memcmp(ta.p, tb.p, PXD_MIN(a->n, b->n));
		return c ? c : (a->n > b->n) - (a->n < b->n);
	}
	it_init(&ia, &ta);
	it_init(&ib, &tb);
	do {
		na = it_next(&ia, ca);
		nb = it_next(&ib, cb);
		c = memcmp(ca, cb, PXD_MIN(na, nb));
		if (c || na != nb)
			return c ? c : (na > nb) - (na < nb);
	} while (na);
	return 0;
}

/* ---- the JSON reader ---- */

static inline void ws(struct dec *d)
{
	while (d->p < d->end && (*d->p == ' ' || *d->p == '\n' || *d->p == '\r' || *d->p == '\t'))
		d->p++;
}

static inline bool at(const struct dec *d, char c)
{
	return d->p < d->end && *d->p == c;
}

/* A string at d->p ('"'), checked as jansson checks it. */
static bool lex_string(struct dec *d, struct tok *t)
{
	const unsigned char *p = (const unsigned char *)d->p + 1;
	const unsigned char *end = (const unsigned char *)d->end;
	int cp;
	int lo;

	t->k = KIND_STRING;
	t->p = (const char *)p;
	t->esc = false;
	for (;;) {
		size_t n;

		p += pxd_json_plain_run((const char *)p, (size_t)(end - p));
		if (p == end)
			return false;
		if (*p == '"')
			break;
		if (*p < 0x20)
			return false;
		if (*p >= 0x80) {
			n = pxd_jsonw_utf8_len(p, (size_t)(end - p));
			if (!n)
				return false;
			p += n;
			continue;
		}
		/* a backslash */
		t->esc = true;
		if (end - p < 2)
			return false;
		if (p[1] != 'u') {
			if (!memchr("\"\\/bfnrt", p[1], 8))
				return false;
			p += 2;
			continue;
		}
		if (end - p < 6 || (cp = hex4(p + 2)) <= 0 || (cp >= 0xdc00 && cp <= 0xdfff))
			return false;
		p += 6;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
				return false;
			lo = hex4(p + 2);
			if (lo < 0xdc00 || lo > 0xdfff)
				return false;
			p += 6;
		}
	}
	t->n = (size_t)((const char *)p - t->p);
	d->p = (const char *)p + 1;
	return true;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * A number at d->p. Integers must fit in 64 bits and reals must be finite,
 * as jansson's; a real can only overflow with 300 or more digits before the
 * point, exponent included, so only then is strtod() asked.
 */
static bool lex_number(struct dec *d, struct tok *t)
{
	const char *s = d->p;
	const char *p = s;
	const char *end = d->end;
	bool neg = *p == '-';
	size_t intdigits;
	long exp = 0;
	bool exp_neg = false;

	t->k = KIND_INT;
	p += neg;
	if (p == end)
		return false;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < end && is_digit(*p))
			p++;
	else
		return false;
	intdigits = (size_t)(p - s) - neg;
	if (p < end && *p == '.') {
		t->k = KIND_REAL;
		if (++p == end || !is_digit(*p))
			return false;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		t->k = KIND_REAL;
		if (++p < end && (*p == '+' || *p == '-'))
			exp_neg = *p++ == '-';
		if (p == end || !is_digit(*p))
			return false;
		for (; p < end && is_digit(*p); p++)
			if (exp < 100000)
				exp = exp * 10 + (*p - '0');
	}
	/* The top level is never a number: one is always followed by one of
	 * these, which also stops strtod() inside the body. */
	if (p == end || !memchr(" \t\r\n,]}", *p, 7))
		return false;
	t->p = s;
	t->n = (size_t)(p - s);
	d->p = p;
	if (t->k == KIND_INT) {
		if (intdigits > 19)
			return false;
		if (intdigits == 19 &&
		    memcmp(s + neg, neg ? "9223372036854775808" : "9223372036854775807", 19) > 0)
			return false;
		return true;
	}
	if ((long)intdigits + (exp_neg ? -exp : exp) >= 300) {
		double v = strtod(s, NULL);

		return v != HUGE_VAL && v != -HUGE_VAL;
	}
	return true;
}

static bool lex_word(struct dec *d, const char *w, size_t n)
{
	if ((size_t)(d->end - d->p) < n || memcmp(d->p, w, n))
		return false;
	d->p += n;
	return true;
}

static int64_t int_value(const struct tok *t)
{
	bool neg = t->p[0] == '-';
	int64_t v = 0;

	/* accumulated on the negative side, where INT64_MIN fits */
	for (size_t i = neg; i < t->n; i++)
		v = v * 10 - (t->p[i] - '0');
	return neg ? v : -v;
}

static bool is_nonneg_int(const struct tok *t)
{
	if (t->k != KIND_INT)
		return false;
	for (size_t i = 1; t->p[0] == '-' && i < t->n; i++)
		if (t->p[i] != '0')
			return false;
	return true;
}

/* A number's value; the text is followed by a delimiter (lex_number). */
static double number_value(const struct tok *t)
{
	return t->k == KIND_INT ? (double)int_value(t) : strtod(t->p, NULL);
}

static bool is_number(const struct tok *t)
{
	return t->k == KIND_INT || t->k == KIND_REAL;
}

/* Keys of an object start at <base> in d->keys; a duplicate is a syntax
 * error (jansson's JSON_REJECT_DUPLICATES). */
static bool key_add(struct dec *d, unsigned base, const struct tok *t)
{
	struct key k = { (uint32_t)(t->p - d->body), (uint32_t)t->n, key_hash(t), t->esc };

	if (d->nkeys == KEYS_MAX) {
		d->keys_full = true;
		return true;
	}
	if (d->nkeys - base < SMALL_OBJECT)
		for (unsigned i = base; i < d->nkeys; i++)
			if (d->keys[i].hash == k.hash && !key_cmp(&d->keys[i], &k, (void *)d->body))
				return false;
	d->keys[d->nkeys++] = k;
	return true;
}

/* A large object's keys, sorted: a duplicate sits next to its twin. */
static bool keys_unique(struct dec *d, unsigned base)
{
	struct key *k = d->keys + base;
	size_t n = d->nkeys - base;

	if (n <= SMALL_OBJECT)
		return true;
	qsort_r(k, n, sizeof(*k), key_cmp, (void *)d->body);
	for (size_t i = 1; i < n; i++)
		if (!key_cmp(&k[i - 1], &k[i], (void *)d->body))
			return false;
	return true;
}

/* Called with d->p on a member's value (after ':' and space), at <depth>;
 * consumes the value. False: a syntax error. */
typedef bool member_fn(struct dec *d, const struct tok *key, unsigned depth, void *ctx);
/* The same for element <i> of an array. */
typedef bool elem_fn(struct dec *d, size_t i, unsigned depth, void *ctx);

/* The object at d->p ('{'), itself at <depth>. */
static bool object(struct dec *d, unsigned depth, member_fn *fn, void *ctx)
{
	unsigned base = d->nkeys;
	struct tok k;
	bool ok;

	d->p++;
	ws(d);
	if (at(d, '}')) {
		d->p++;
		return true;
	}
	for (;;) {
		if (!at(d, '"') || !lex_string(d, &k) || !key_add(d, base, &k))
			return false;
		ws(d);
		if (!at(d, ':'))
			return false;
		d->p++;
		ws(d);
		if (!fn(d, &k, depth + 1, ctx))
			return false;
		ws(d);
		if (at(d, ',')) {
			d->p++;
			ws(d);
			continue;
		}
		if (!at(d, '}'))
			return false;
		d->p++;
		break;
	}
	ok = keys_unique(d, base);
	d->nkeys = base;
	return ok;
}

/* The array at d->p ('['), itself at <depth>; <count> gets its length. */
static bool array(struct dec *d, unsigned depth, elem_fn *fn, void *ctx, size_t *count)
{
	size_t i = 0;

	d->p++;
	ws(d);
	if (at(d, ']')) {
		d->p++;
		*count = 0;
		return true;
	}
	for (;; i++) {
		if (!fn(d, i, depth + 1, ctx))
			return false;
		ws(d);
		if (at(d, ',')) {
			d->p++;
			ws(d);
			continue;
		}
		if (!at(d, ']'))
			return false;
		d->p++;
		break;
	}
	*count = i + 1;
	return true;
}

/* Where a free-form value is copied to: props level <pdepth> of
 * event_json.c's depth rule, or nowhere (NULL <w>). */
struct gen {
	struct dec *d;
	struct pxd_jsonw *w;
	unsigned pdepth;
};

static bool value(struct dec *d, unsigned depth, const struct gen *g, struct tok *t);

static void write_string(struct pxd_jsonw *w, const struct tok *t, bool key)
{
	unsigned char buf[256];
	struct str_it it;
	size_t n = 0;
	size_t c;

	if (!t->esc) {
		if (key)
			pxd_jsonw_key(w, t->p, t->n);
		else
			pxd_jsonw_raw(w, t->p - 1, t->n + 2);
		return;
	}
	pxd_jsonw_str_open(w);
	it_init(&it, t);
	while ((c = it_next(&it, buf + n))) {
		n += c;
		if (n > sizeof(buf) - 4) {
			pxd_jsonw_str_part(w, (const char *)buf, n);
			n = 0;
		}
	}
	pxd_jsonw_str_part(w, (const char *)buf, n);
	pxd_jsonw_str_close(w, key);
}

/* A free-form container's children go one props level down; past event_json.c's
 * PXD_EVENT_JSON_MAX_DEPTH the props are refused and nothing more is written. */
static struct gen child_gen(const struct gen *g)
{
	struct gen c = { g ? g->d : NULL, g ? g->w : NULL, g ? g->pdepth + 1 : 0 };

	if (c.w && g->pdepth >= PXD_EVENT_JSON_MAX_DEPTH) {
		g->d->props_deep = true;
		c.w = NULL;
	}
	return c;
}

static bool gen_member(struct dec *d, const struct tok *key, unsigned depth, void *ctx)
{
	const struct gen *g = ctx;
	struct tok t;

	if (g->w)
		write_string(g->w, key, true);
	return value(d, depth, g, &t);
}

static bool gen_elem(struct dec *d, size_t i, unsigned depth, void *ctx)
{
	struct tok t;

	(void)i;
	return value(d, depth, ctx, &t);
}

/* Any value at d->p, at <depth>, copied compactly to g->w when set. */
static bool value(struct dec *d, unsigned depth, const struct gen *g, struct tok *t)
{
	struct pxd_jsonw *w = g ? g->w : NULL;
	struct gen c;
	size_t n;
	bool ok;

	if (depth > MAX_DEPTH || d->p == d->end)
		return false;
	switch (*d->p) {
	case '"':
		if (!lex_string(d, t))
			return false;
		if (w)
			write_string(w, t, false);
		return true;
	case '{':
	case '[':
		t->k = *d->p == '{' ? KIND_OBJECT : KIND_ARRAY;
		c = child_gen(g);
		if (w && !c.w)
			w = NULL;
		if (w)
			(t->k == KIND_OBJECT ? pxd_jsonw_object_begin : pxd_jsonw_array_begin)(w);
		ok = t->k == KIND_OBJECT ? object(d, depth, gen_member, &c)
					 : array(d, depth, gen_elem, &c, &n);
		if (ok && w)
			(t->k == KIND_OBJECT ? pxd_jsonw_object_end : pxd_jsonw_array_end)(w);
		return ok;
	case 't':
		t->k = KIND_TRUE;
		t->n = 4;
		break;
	case 'f':
		t->k = KIND_FALSE;
		t->n = 5;
		break;
	case 'n':
		t->k = KIND_NULL;
		t->n = 4;
		break;
	default:
		if (*d->p != '-' && !is_digit(*d->p))
			return false;
		if (!lex_number(d, t))
			return false;
		if (w)
			pxd_jsonw_raw(w, t->p, t->n);
		return true;
	}
	/* a literal */
	t->p = d->p;
	t->esc = false;
	if (!lex_word(d, t->k == KIND_TRUE ? "true" : t->k == KIND_FALSE ? "false" : "null", t->n))
		return false;
	if (w)
		pxd_jsonw_raw(w, t->p, t->n);
	return true;
}

static bool skip(struct dec *d, unsigned depth)
{
	struct tok t;

	return value(d, depth, NULL, &t);
}

/* ---- events ---- */

static void fail(struct dec *d, const char *fmt, ...) pxd_printf(2, 3);

/* Records the event's refusal; only the first counts. */
static void fail(struct dec *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->failed)
		return;
	d->failed = true;
	d->r = PXD_REFUSAL_BAD_EVENT;
	n = d->batch_at == SIZE_MAX ? 0 : snprintf(d->detail, d->dlen, "batch[%zu].", d->batch_at);
	if (n >= 0 && (size_t)n < d->dlen) {
		va_start(ap, fmt);
		vsnprintf(d->detail + n, d->dlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
}

/* The quoting rule of event_json.c: cut, non-printables and quotes as '?'. */
static void unknown_key(struct dec *d, const char *group, const struct tok *k)
{
	char q[KEY_QUOTE_MAX + 8];
	unsigned char ch[4];
	struct str_it it;
	size_t i = 0;
	size_t c;

	it_init(&it, k);
	while (i < KEY_QUOTE_MAX && (c = it_next(&it, ch)))
		for (size_t j = 0; j < c && i < KEY_QUOTE_MAX; j++)
			q[i++] = ch[j] < 0x20 || ch[j] > 0x7e || ch[j] == '"' || ch[j] == '\\'
				     ? '?'
				     : (char)ch[j];
	/* more left: of this character or after it */
	if (i == KEY_QUOTE_MAX && (it.p != it.end || (c && ch[0] >= 0xc0 && c > 1))) {
		memcpy(q + i, "...", 3);
		i += 3;
	}
	q[i] = '\0';
	if (!group)
		fail(d, "unknown top-level key \"%s\"", q);
	else
		fail(d, "%s: unknown key \"%s\"", group, q);
}

/* Keeps <t> decoded: a view into the body, or (escapes) into the scratch's back. */
static bool keep(struct dec *d, const struct tok *t, struct pxd_sv *out)
{
	size_t front = d->in_props ? d->props.len : d->front;
	char *dst;

	if (!t->esc) {
		*out = pxd_sv_make(t->p, t->n);
		return true;
	}
	if (d->scap - d->back < front + t->n + 1) {
		fail(d, "body: more than %zu bytes of strings with escapes; send less", d->scap);
		return false;
	}
	d->back += t->n;
	dst = d->scratch + d->scap - d->back;
	*out = pxd_sv_make(dst, decode(t, dst));
	if (d->in_props)
		d->props.cap = d->scap - d->back;
	return true;
}

/* A string member <group>.<name>: null leaves <out> absent. */
static bool string_member(struct dec *d, unsigned depth, const char *group, const char *name,
			  struct pxd_sv *out, struct tok *t)
{
	if (!value(d, depth, NULL, t))
		return false;
	if (t->k == KIND_NULL)
		return true;
	if (t->k != KIND_STRING)
		fail(d, "%s%s%s: must be a string", group ? group : "", group ? "." : "", name);
	else
		keep(d, t, out);
	return true;
}

static int find_name(const struct pxd_sv *names, size_t n, struct pxd_sv k)
{
	for (size_t i = 0; i < n; i++)
		if (pxd_sv_eq(names[i], k))
			return (int)i;
	return -1;
}

struct strings_ctx {
	const char *group;
	const struct pxd_sv *names;
	size_t nnames;
	struct pxd_sv *dst;
};

static bool strings_member(struct dec *d, const struct tok *key, unsigned depth, void *ctx)
{
	const struct strings_ctx *s = ctx;
	char buf[SHORT_MAX + 4];
	struct tok t;
	int f;

	if (d->failed)
		return skip(d, depth);
	f = find_name(s->names, s->nnames, short_text(key, buf));
	if (f < 0) {
		unknown_key(d, s->group, key);
		return skip(d, depth);
	}
	return string_member(d, depth, s->group, s->names[f].p, &s->dst[f], &t);
}

/* user{} and click{}: objects of known string members; null is absent. */
static bool strings_object(struct dec *d, unsigned depth, const char *group,
			   const struct pxd_sv *names, size_t n, struct pxd_sv *dst)
{
	struct strings_ctx s = { group, names, n, dst };
	struct tok t;

	if (at(d, '{'))
		return object(d, depth, strings_member, &s);
	if (!value(d, depth, NULL, &t))
		return false;
	if (t.k != KIND_NULL)
		fail(d, "%s: must be an object", group);
	return true;
}

static bool consent_member(struct dec *d, const struct tok *key, unsigned depth, void *ctx)
{
	char buf[SHORT_MAX + 4];
	struct tok t;
	int f;

	(void)ctx;
	if (d->failed)
		return skip(d, depth);
	f = find_name(pxd_event_consent_names, PXD_CONSENT_FIELD_COUNT, short_text(key, buf));
	if (f < 0) {
		unknown_key(d, "consent", key);
		return skip(d, depth);
	}
	if (!value(d, depth, NULL, &t))
		return false;
	/* anything but the two words is refused by pxd_event_check */
	if (t.k == KIND_STRING)
		d->ev.consent[f] = pxd_event_consent_parse(short_text(&t, buf));
	else if (t.k != KIND_NULL)
		d->ev.consent[f] = PXD_CONSENT_INVALID;
	return true;
}

/* ---- props ---- */

/* What is wrong with an element of content_ids or contents. */
enum item_err {
	ITEM_OK = 0,
	ITEM_NOT_STRING,
	ITEM_NOT_OBJECT,
	ITEM_NO_ID,
	ITEM_QUANTITY,
	ITEM_PRICE,
};

struct items_ctx {
	struct gen g; /* where the elements go */
	size_t first_bad;
	enum item_err err; /* of element <first_bad>, the first bad one */
	bool id_string;	   /* contents: of the item being read */
	bool quantity_bad;
	bool price_bad;
};

static void item_bad(struct items_ctx *c, size_t i, enum item_err err)
{
	if (!c->err) {
		c->err = err;
		c->first_bad = i;
	}
}

static void item_fail(struct dec *d, const struct items_ctx *c)
{
	size_t i = c->first_bad;

	switch (c->err) {
	case ITEM_NOT_STRING:
		fail(d, "props.content_ids[%zu]: must be a string", i);
		break;
	case ITEM_NOT_OBJECT:
		fail(d, "props.contents[%zu]: must be an object", i);
		break;
	case ITEM_NO_ID:
		fail(d, "props.contents[%zu].id: must be a string", i);
		break;
	case ITEM_QUANTITY:
		fail(d, "props.contents[%zu].quantity: must be a non-negative integer", i);
		break;
	case ITEM_PRICE:
		fail(d, "props.contents[%zu].price: must be a non-negative number", i);
		break;
	case ITEM_OK:
		break;
	}
}

static bool content_id(struct dec *d, size_t i, unsigned depth, void *ctx)
{
	struct items_ctx *c = ctx;
	struct tok t;

	if (!value(d, depth, &c->g, &t))
		return false;
	if (t.k != KIND_STRING)
		item_bad(c, i, ITEM_NOT_STRING);
	return true;
}

static bool content_member(struct dec *d, const struct tok *key, unsigned depth, void *ctx)
{
	struct items_ctx *c = ctx;
	char buf[SHORT_MAX + 4];
	struct pxd_sv k = short_text(key, buf);
	struct gen g = child_gen(&c->g);
	struct tok t;

	if (g.w)
		write_string(g.w, key, true);
	if (!value(d, depth, &g, &t))
		return false;
	if (pxd_sv_eq_lit(k, "id"))
		c->id_string = t.k == KIND_STRING;
	else if (pxd_sv_eq_lit(k, "quantity"))
		c->quantity_bad = t.k != KIND_NULL && !is_nonneg_int(&t);
	else if (pxd_sv_eq_lit(k, "price"))
		c->price_bad = t.k != KIND_NULL && !(is_number(&t) && number_value(&t) >= 0);
	return true;
}

static bool content(struct dec *d, size_t i, unsigned depth, void *ctx)
{
	struct items_ctx *c = ctx;
	struct gen g = child_gen(&c->g);
	struct tok t;
	bool ok;

	if (!at(d, '{')) {
		if (!value(d, depth, &c->g, &t))
			return false;
		item_bad(c, i, ITEM_NOT_OBJECT);
		return true;
	}
	if (depth > MAX_DEPTH)
		return false;
	c->id_string = c->quantity_bad = c->price_bad = false;
	if (g.w)
		pxd_jsonw_object_begin(g.w);
	ok = object(d, depth, content_member, c);
	if (ok && g.w)
		pxd_jsonw_object_end(g.w);
	if (!c->id_string)
		item_bad(c, i, ITEM_NO_ID);
	else if (c->quantity_bad)
		item_bad(c, i, ITEM_QUANTITY);
	else if (c->price_bad)
		item_bad(c, i, ITEM_PRICE);
	return ok;
}

/* props.content_ids and props.contents: arrays of at most
 * PXD_EVENT_JSON_MAX_ITEMS, each element checked by <fn>. */
static bool items(struct dec *d, unsigned depth, const char *name, const char *what, elem_fn *fn)
{
	struct gen top = { d, &d->props, 1 };
	struct items_ctx c = { .g = child_gen(&top) };
	struct tok t;
	size_t n = 0;
	bool ok;

	if (!at(d, '[')) {
		if (!value(d, depth, &top, &t))
			return false;
		fail(d, "props.%s: must be an array of at most %d %s", name,
		     PXD_EVENT_JSON_MAX_ITEMS, what);
		return true;
	}
	if (depth > MAX_DEPTH)
		return false;
	pxd_jsonw_array_begin(&d->props);
	ok = array(d, depth, fn, &c, &n);
	pxd_jsonw_array_end(&d->props);
	if (n > PXD_EVENT_JSON_MAX_ITEMS)
		fail(d, "props.%s: must be an array of at most %d %s", name,
		     PXD_EVENT_JSON_MAX_ITEMS, what);
	else
		item_fail(d, &c);
	return ok;
}

static bool is_null_next(const struct dec *d)
{
	return d->end - d->p >= 4 && !memcmp(d->p, "null", 4);
}

/* One member of props: the typed ones checked, every one but a null copied. */
static bool props_member(struct dec *d, const struct tok *key, unsigned depth, void *ctx)
{
	struct pxd_event *ev = &d->ev;
	struct pxd_jsonw *w = &d->props;
	struct gen g = { d, w, 1 };
	char buf[SHORT_MAX + 4];
	struct pxd_sv k = short_text(key, buf);
	struct tok t;

	(void)ctx;
	if (d->failed || is_null_next(d))
		return skip(d, depth);
	if (pxd_sv_eq_lit(k, "currency") || pxd_sv_eq_lit(k, "order_id")) {
		struct pxd_sv *out = k.p[0] == 'c' ? &ev->currency : &ev->order_id;
		char up[3];

		if (!string_member(d, depth, "props", k.p[0] == 'c' ? "currency" : "order_id", out,
				   &t))
			return false;
		if (d->failed)
			return true;
		write_string(w, key, true);
		if (out == &ev->currency && out->n == 3) {
			for (int i = 0; i < 3; i++)
				up[i] = out->p[i] >= 'a' && out->p[i] <= 'z'
					    ? (char)(out->p[i] - 32)
					    : out->p[i];
			pxd_jsonw_string(w, up, 3);
		} else {
			write_string(w, &t, false);
		}
		return true;
	}
	if (pxd_sv_eq_lit(k, "content_ids") || pxd_sv_eq_lit(k, "contents")) {
		bool ids = k.n == 11;

		write_string(w, key, true);
		return items(d, depth, ids ? "content_ids" : "contents",
			     ids ? "strings" : "objects", ids ? content_id : content);
	}
	if (pxd_sv_eq_lit(k, "value") || pxd_sv_eq_lit(k, "num_items")) {
		bool is_value = k.p[0] == 'v';

		if (!value(d, depth, NULL, &t))
			return false;
		if (is_value) {
			ev->value = is_number(&t) ? number_value(&t) : -1;
			ev->has_value = ev->value >= 0;
			if (!ev->has_value)
				fail(d, "props.value: must be a non-negative number");
		} else if (!is_nonneg_int(&t)) {
			fail(d, "props.num_items: must be a non-negative integer");
		}
		if (d->failed)
			return true;
		write_string(w, key, true);
		pxd_jsonw_raw(w, t.p, t.n);
		return true;
	}
	write_string(w, key, true);
	return value(d, depth, &g, &t);
}

static bool props_object(struct dec *d, unsigned depth)
{
	struct tok t;
	ssize_t n;
	bool ok;

	if (!at(d, '{')) {
		if (!value(d, depth, NULL, &t))
			return false;
		if (t.k != KIND_NULL)
			fail(d, "props: must be an object");
		return true;
	}
	if (depth > MAX_DEPTH)
		return false;
	pxd_jsonw_init(&d->props, d->scratch, d->scap - d->back);
	pxd_jsonw_object_begin(&d->props);
	d->in_props = true;
	d->props_deep = false;
	ok = object(d, depth, props_member, NULL);
	d->in_props = false;
	pxd_jsonw_object_end(&d->props);
	n = pxd_jsonw_finish(&d->props);
	/* event_json.c's order: a typed member's refusal, then depth, then size */
	if (d->props_deep)
		fail(d, "props: nested deeper than %d levels", PXD_EVENT_JSON_MAX_DEPTH);
	else if (n < 0)
		fail(d, "props: larger than %zu bytes once serialized; send less",
		     d->scap ? d->scap - 1 : 0);
	else if (!d->failed) {
		d->ev.props_json = pxd_sv_make(d->scratch, (size_t)n);
		d->front = (size_t)n + 1;
	}
	return ok;
}

static bool event_member(struct dec *d, const struct tok *key, unsigned depth, void *ctx)
{
	struct pxd_event *ev = &d->ev;
	char buf[SHORT_MAX + 4];
	struct pxd_sv k = short_text(key, buf);
	struct tok t;

	(void)ctx;
	if (d->failed || d->shape)
		return skip(d, depth);
	if (pxd_sv_eq_lit(k, "event"))
		return string_member(d, depth, NULL, "event", &ev->name, &t);
	if (pxd_sv_eq_lit(k, "event_id"))
		return string_member(d, depth, NULL, "event_id", &ev->event_id, &t);
	if (pxd_sv_eq_lit(k, "url"))
		return string_member(d, depth, NULL, "url", &ev->url, &t);
	if (pxd_sv_eq_lit(k, "referrer"))
		return string_member(d, depth, NULL, "referrer", &ev->referrer, &t);
	if (pxd_sv_eq_lit(k, "ts")) {
		if (!value(d, depth, NULL, &t))
			return false;
		if (t.k == KIND_INT) {
			ev->ts = int_value(&t);
			ev->has_ts = true;
		} else if (t.k != KIND_NULL) {
			fail(d, "ts: must be an integer (Unix milliseconds)");
		}
		return true;
	}
	if (pxd_sv_eq_lit(k, "user"))
		return strings_object(d, depth, "user", pxd_event_user_names, PXD_USER_FIELD_COUNT,
				      ev->user);
	if (pxd_sv_eq_lit(k, "click"))
		return strings_object(d, depth, "click", pxd_event_click_names,
				      PXD_CLICK_FIELD_COUNT, ev->click);
	if (pxd_sv_eq_lit(k, "consent")) {
		if (at(d, '{'))
			return object(d, depth, consent_member, NULL);
		if (!value(d, depth, NULL, &t))
			return false;
		if (t.k != KIND_NULL)
			fail(d, "consent: must be an object");
		return true;
	}
	if (pxd_sv_eq_lit(k, "props"))
		return props_object(d, depth);
	unknown_key(d, NULL, key);
	return skip(d, depth);
}

static void event_begin(struct dec *d)
{
	pxd_event_reset(&d->ev);
	d->ev.source = PXD_EVENT_SOURCE_BEACON;
	d->front = 0;
	d->back = 0;
}

/* A complete event: checked, then handed to the caller. */
static void event_end(struct dec *d)
{
	char inner[256];
	enum pxd_refusal r;

	if (d->failed || d->shape)
		return;
	r = pxd_event_check(&d->ev, d->now_ms, d->detail, d->dlen);
	if (r == PXD_REFUSAL_NONE)
		r = d->fn(d->arg, &d->ev, d->detail, d->dlen);
	if (r == PXD_REFUSAL_NONE)
		return;
	d->failed = true;
	d->r = r;
	if (d->batch_at != SIZE_MAX && d->detail[0] && strncmp(d->detail, "batch[", 6)) {
		snprintf(inner, sizeof(inner), "%s", d->detail);
		snprintf(d->detail, d->dlen, "batch[%zu].%s", d->batch_at, inner);
	}
}

static bool batch_elem(struct dec *d, size_t i, unsigned depth, void *ctx)
{
	bool ok;

	(void)ctx;
	if (i >= PXD_EVENT_JSON_MAX_BATCH || d->failed || d->shape)
		return skip(d, depth);
	if (!at(d, '{')) {
		d->batch_at = SIZE_MAX; /* the message names it, without the '.' */
		fail(d, "batch[%zu]: must be an object", i);
		return skip(d, depth);
	}
	if (depth > MAX_DEPTH)
		return false;
	d->batch_at = i;
	event_begin(d);
	ok = object(d, depth, event_member, NULL);
	if (ok)
		event_end(d);
	return ok;
}

static void shape(struct dec *d, enum shape s)
{
	if (s > d->shape)
		d->shape = s;
}

static bool top_member(struct dec *d, const struct tok *key, unsigned depth, void *ctx)
{
	char buf[SHORT_MAX + 4];
	bool is_batch = pxd_sv_eq_lit(short_text(key, buf), "batch");
	size_t n = 0;
	bool ok;

	if (++d->ntop == 1 && is_batch) {
		d->batch_mode = true;
		if (!at(d, '[')) {
			shape(d, SHAPE_NOT_ARRAY);
			return skip(d, depth);
		}
		if (depth > MAX_DEPTH)
			return false;
		ok = array(d, depth, batch_elem, NULL, &n);
		d->nbatch = n;
		if (!n)
			shape(d, SHAPE_NOT_ARRAY);
		else if (n > PXD_EVENT_JSON_MAX_BATCH)
			shape(d, SHAPE_TOO_LARGE);
		return ok;
	}
	if (d->batch_mode || is_batch) {
		shape(d, SHAPE_NOT_ONLY);
		return skip(d, depth);
	}
	return event_member(d, key, depth, ctx);
}

/* jansson's words for a body that is not JSON (a refusal, not the hot path). */
static enum pxd_refusal bad_json(const char *body, size_t len, char *detail, size_t dlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!root) {
		snprintf(detail, dlen, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return PXD_REFUSAL_BAD_JSON;
	}
	json_decref(root);
	return PXD_REFUSAL_NONE;
}

enum pxd_refusal pxd_event_beacon_decode(const char *body, size_t len, int64_t now_ms,
					 char *scratch, size_t scap, pxd_event_beacon_fn *fn,
					 void *arg, char *detail, size_t dlen)
{
	struct dec *d;
	enum pxd_refusal r = PXD_REFUSAL_NONE;
	bool ok;
	/* 16 KiB on the calling thread's stack, left unwritten: zeroing it
	 * was a third of a one-event beacon's instructions. */
	struct key keys[KEYS_MAX];
	struct dec dec = {
		.body = body,
		.p = body,
		.end = body + len,
		.now_ms = now_ms,
		.scratch = scratch,
		.scap = scap,
		.fn = fn,
		.arg = arg,
		.detail = detail,
		.dlen = dlen,
		.batch_at = SIZE_MAX,
		.keys = keys,
	};

	d = &dec;
	if (dlen)
		detail[0] = '\0';
	ws(d);
	if (at(d, '{')) {
		event_begin(d);
		ok = object(d, 1, top_member, NULL);
		if (ok && !d->batch_mode)
			event_end(d);
	} else {
		d->top_array = at(d, '[');
		ok = d->top_array && skip(d, 1);
	}
	ws(d);
	if (!ok || d->p != d->end) {
		/* jansson passes over some NUL bytes, which JSON does not have */
		if (bad_json(body, len, detail, dlen) == PXD_REFUSAL_NONE)
			snprintf(detail, dlen, "body: a NUL byte at offset %zu; send JSON text",
				 (size_t)((const char *)memchr(body, 0, len) - body));
		return PXD_REFUSAL_BAD_JSON;
	}
	/* More keys open at once than checked here: jansson looks for duplicates. */
	if (d->keys_full && bad_json(body, len, detail, dlen))
		return PXD_REFUSAL_BAD_JSON;
	if (d->top_array) {
		snprintf(detail, dlen,
			 "body: must be a JSON object: one event, or {\"batch\":[...]}");
		return PXD_REFUSAL_BAD_EVENT;
	}
	switch (d->shape) {
	case SHAPE_NOT_ONLY:
		snprintf(detail, dlen, "body: \"batch\" must be the only top-level key");
		return PXD_REFUSAL_BAD_EVENT;
	case SHAPE_NOT_ARRAY:
		snprintf(detail, dlen, "batch: must be an array of 1..%d events",
			 PXD_EVENT_JSON_MAX_BATCH);
		return PXD_REFUSAL_BAD_EVENT;
	case SHAPE_TOO_LARGE:
		snprintf(detail, dlen, "batch: %zu events; send at most %d per request", d->nbatch,
			 PXD_EVENT_JSON_MAX_BATCH);
		return PXD_REFUSAL_BATCH_TOO_LARGE;
	case SHAPE_OK:
		break;
	}
	if (d->failed)
		r = d->r;
	return r;
}
