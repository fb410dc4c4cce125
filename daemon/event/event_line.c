// SPDX-License-Identifier: MIT
/*
 * The zero-copy reader of the canonical line (event_line.h): one checking
 * pass over the bytes that records views, RFC 8259 syntax with jansson's
 * loader's refusals (bad UTF-8, lone surrogates, \u0000, integers beyond
 * int64_t, reals beyond double). The caller's thread; no allocation.
 */
#include "event_line.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "json_plain.h"

/* Longest key a known name could be once unescaped. */
#define KEY_MAX 32

/* A view of a literal that is a constant initializer. */
/* clang-format off */
#define SV_LIT(s) { (s), sizeof(s) - 1 }
/* clang-format on */

const struct pxd_sv pxd_line_key_names[PXD_LINE_KEY_COUNT] = {
	[PXD_LINE_EVENT_ID] = SV_LIT("event_id"),
	[PXD_LINE_EVENT] = SV_LIT("event"),
	[PXD_LINE_TS] = SV_LIT("ts"),
	[PXD_LINE_RECEIVED_AT] = SV_LIT("received_at"),
	[PXD_LINE_SOURCE] = SV_LIT("source"),
	[PXD_LINE_ACTION_SOURCE] = SV_LIT("action_source"),
	[PXD_LINE_TENANT] = SV_LIT("tenant"),
	[PXD_LINE_HOST] = SV_LIT("host"),
	[PXD_LINE_SCHEME] = SV_LIT("scheme"),
	[PXD_LINE_URL] = SV_LIT("url"),
	[PXD_LINE_REFERRER] = SV_LIT("referrer"),
	[PXD_LINE_IP] = SV_LIT("ip"),
	[PXD_LINE_UA] = SV_LIT("ua"),
	[PXD_LINE_FP_ID] = SV_LIT("fp_id"),
	[PXD_LINE_USER] = SV_LIT("user"),
	[PXD_LINE_CLICK] = SV_LIT("click"),
	[PXD_LINE_PROPS] = SV_LIT("props"),
	[PXD_LINE_CONSENT] = SV_LIT("consent"),
	[PXD_LINE_TO] = SV_LIT("to"),
	[PXD_LINE_NOT_TO] = SV_LIT("not_to"),
};

const struct pxd_sv pxd_line_user_names[PXD_LINE_USER_COUNT] = {
	[PXD_LINE_USER_ID] = SV_LIT("id"),
	[PXD_LINE_USER_ANON_ID] = SV_LIT("anon_id"),
	[PXD_LINE_USER_EMAIL_SHA256] = SV_LIT("email_sha256"),
	[PXD_LINE_USER_EMAIL_GOOGLE_SHA256] = SV_LIT("email_google_sha256"),
	[PXD_LINE_USER_PHONE_SHA256] = SV_LIT("phone_sha256"),
	[PXD_LINE_USER_PHONE_E164_SHA256] = SV_LIT("phone_e164_sha256"),
	[PXD_LINE_USER_FIRST_NAME_SHA256] = SV_LIT("first_name_sha256"),
	[PXD_LINE_USER_LAST_NAME_SHA256] = SV_LIT("last_name_sha256"),
	[PXD_LINE_USER_GENDER_SHA256] = SV_LIT("gender_sha256"),
	[PXD_LINE_USER_DOB_SHA256] = SV_LIT("dob_sha256"),
	[PXD_LINE_USER_CITY] = SV_LIT("city"),
	[PXD_LINE_USER_STATE] = SV_LIT("state"),
	[PXD_LINE_USER_ZIP] = SV_LIT("zip"),
	[PXD_LINE_USER_COUNTRY] = SV_LIT("country"),
};

/* Canonical lines have no whitespace: the first test nearly always ends it. */
static inline const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p <= ' ' &&
	       (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int hex4(const char *p, const char *end, unsigned *out)
{
	unsigned v = 0;

	if (end - p < 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (unsigned)((c | 0x20) - 'a' + 10);
		else
			return -EINVAL;
	}
	*out = v;
	return 0;
}

int pxd_jv_escape(const char *p, const char *end, unsigned *cp)
{
	static const char from[] = "\"\\/bfnrt";
	static const char to[] = "\"\\/\b\f\n\r\t";
	const char *hit = p < end && *p ? strchr(from, *p) : NULL;
	unsigned lo;

	if (hit) {
		*cp = (unsigned char)to[hit - from];
		return 1;
	}
	if (p >= end || *p != 'u' || hex4(p + 1, end, cp) || !*cp)
		return -EINVAL;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return -EINVAL;
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 5;
	if (end - p < 11 || p[5] != '\\' || p[6] != 'u' || hex4(p + 7, end, &lo) || lo < 0xdc00 ||
	    lo > 0xdfff)
		return -EINVAL;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 11;
}

/* Length of the well-formed UTF-8 sequence at <s> (RFC 3629 §4: no
 * overlongs, no surrogates, nothing past U+10FFFF), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
	static const struct {
		unsigned char lead_lo, lead_hi, second_lo, second_hi, len;
	} rows[] = {
		{ 0xc2, 0xdf, 0x80, 0xbf, 2 }, { 0xe0, 0xe0, 0xa0, 0xbf, 3 },
		{ 0xe1, 0xec, 0x80, 0xbf, 3 }, { 0xed, 0xed, 0x80, 0x9f, 3 },
		{ 0xee, 0xef, 0x80, 0xbf, 3 }, { 0xf0, 0xf0, 0x90, 0xbf, 4 },
		{ 0xf1, 0xf3, 0x80, 0xbf, 4 }, { 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};

	for (size_t r = 0; r < ARRAY_SIZE(rows); r++) {
		if (s[0] < rows[r].lead_lo || s[0] > rows[r].lead_hi)
			continue;
		if (end - s < rows[r].len || s[1] < rows[r].second_lo || s[1] > rows[r].second_hi)
			return 0;
		for (size_t i = 2; i < rows[r].len; i++)
			if ((s[i] & 0xc0) != 0x80)
				return 0;
		return rows[r].len;
	}
	return 0;
}

/* The rest of a string at its first byte that needs a look, <p>: escapes
 * and UTF-8 checked up to the closing quote. */
static __attribute__((noinline)) int scan_string_rest(const char **pp, const char *p,
						      const char *end, struct pxd_jv *out)
{
	bool escaped = false;

	for (;;) {
		unsigned char c;
		unsigned cp;
		int n;
		size_t u;

		if (p >= end)
			return -EINVAL;
		c = (unsigned char)*p;
		if (c == '"') {
			*out = (struct pxd_jv){ out->p, (uint32_t)(p - out->p), PXD_JV_STRING,
						escaped };
			*pp = p + 1;
			return 0;
		}
		if (c == '\\') {
			n = pxd_jv_escape(p + 1, end, &cp);
			if (n < 0)
				return n;
			escaped = true;
			p += 1 + n;
		} else if (c >= 0x80 &&
			   (u = utf8_len((const unsigned char *)p, (const unsigned char *)end))) {
			p += u;
		} else {
			return -EINVAL; /* a control character or bad UTF-8 */
		}
		p += pxd_json_plain_run(p, (size_t)(end - p));
	}
}

/*
 * The string whose opening quote is at <*pp>; <*pp> moves past its closing
 * one. Inline for the common case, plain bytes up to the quote: a line is
 * mostly short keys and values, where a call's own cost was half the scan.
 */
static inline __attribute__((always_inline)) int scan_string(const char **pp, const char *end,
							     struct pxd_jv *out)
{
	const char *s = *pp + 1;
	const char *p = s + pxd_json_plain_run(s, (size_t)(end - s));

	out->p = s;
	if (likely(p < end && *p == '"')) {
		*out = (struct pxd_jv){ s, (uint32_t)(p - s), PXD_JV_STRING, false };
		*pp = p + 1;
		return 0;
	}
	return scan_string_rest(pp, p, end, out);
}

static const char *digits(const char *p, const char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* The number at <*pp>, checked as jansson's loader checks it. */
static int scan_number(const char **pp, const char *end, struct pxd_jv *out)
{
	const char *start = *pp;
	const char *p = start + (*start == '-');
	char text[PXD_EVENT_LINE_MAX_NUMBER + 1];
	bool real = false, exponent = false;
	char *stop;
	size_t n;

	if (p >= end || *p < '0' || *p > '9')
		return -EINVAL;
	p = *p == '0' ? p + 1 : digits(p, end);
	if (p < end && *p == '.') {
		real = true;
		if (digits(p + 1, end) == p + 1)
			return -EINVAL;
		p = digits(p + 1, end);
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		real = exponent = true;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (digits(p, end) == p)
			return -EINVAL;
		p = digits(p, end);
	}
	n = (size_t)(p - start);
	if (n > PXD_EVENT_LINE_MAX_NUMBER)
		return -EINVAL;
	/* Only an exponent, or more digits than the limit has, can take a
	 * real past double, and only 19 digits or more an integer past
	 * int64_t: strtod() and strtoll() are left to those. */
	if (exponent || (!real && n - (*start == '-') >= 19)) {
		memcpy(text, start, n);
		text[n] = '\0';
		errno = 0;
		if (real ? isinf(strtod(text, &stop)) : (strtoll(text, &stop, 10), errno == ERANGE))
			return -EINVAL;
	}
	*out = (struct pxd_jv){ start, (uint32_t)n, real ? PXD_JV_REAL : PXD_JV_INTEGER, false };
	*pp = p;
	return 0;
}

/*
 * Where the members of the object being scanned go: the slots of the names
 * it knows (<strings>: only string values; others read as absent), and for
 * the line's own object, the sinks of user, click and consent. NULL for
 * objects nobody reads members of while scanning.
 */
struct sink {
	const struct pxd_sv *names;
	int n;
	struct pxd_jv *slots;
	bool strings;
	struct pxd_event_line *el;    /* the line's own object only */
	struct pxd_event_line *props; /* props: the line whose props[] its members go to */
};

static int scan_value(const char **pp, const char *end, struct pxd_jv *out, unsigned depth,
		      struct sink *sink);
static int find_key(const struct pxd_jv *k, const struct pxd_sv *names, int n, int *hint);

/* The sink for the value of member <f> of the line's own object, its slots
 * emptied: what an earlier member of the same name set is gone. */
static struct sink *child_sink(struct pxd_event_line *el, int f, struct sink *child)
{
	switch (f) {
	case PXD_LINE_USER:
		*child = (struct sink){ .names = pxd_line_user_names,
					.n = PXD_LINE_USER_COUNT,
					.slots = el->user,
					.strings = true };
		break;
	case PXD_LINE_CLICK:
		*child = (struct sink){ .names = pxd_event_click_names,
					.n = PXD_CLICK_FIELD_COUNT,
					.slots = el->click,
					.strings = true };
		break;
	case PXD_LINE_CONSENT:
		*child = (struct sink){ .names = pxd_event_consent_names,
					.n = PXD_CONSENT_FIELD_COUNT,
					.slots = el->consent,
					.strings = true };
		break;
	case PXD_LINE_PROPS:
		el->nprops = 0;
		el->props_all = false;
		*child = (struct sink){ .props = el };
		return child;
	default:
		return NULL;
	}
	memset(child->slots, 0, sizeof(*child->slots) * (size_t)child->n);
	return child;
}

/* Object or array at <*pp> (its opening bracket), members checked; an
 * object's members also go to <sink> when there is one. */
static int scan_container(const char **pp, const char *end, struct pxd_jv *out, unsigned depth,
			  struct sink *sink)
{
	const char *start = *pp;
	bool object = *start == '{';
	char close = object ? '}' : ']';
	const char *p = skip_ws(start + 1, end);
	struct pxd_jv k, v;
	struct sink child;
	unsigned members = 0;
	int hint = 0;
	int rc;

	if (depth >= PXD_EVENT_LINE_MAX_DEPTH)
		return -EINVAL;
	if (p < end && *p == close)
		goto done;
	for (;;) {
		int f = -1;

		if (object) {
			if (p >= end || *p != '"')
				return -EINVAL;
			rc = scan_string(&p, end, &k);
			if (rc)
				return rc;
			p = skip_ws(p, end);
			if (p >= end || *p != ':')
				return -EINVAL;
			p = skip_ws(p + 1, end);
			if (sink && sink->n)
				f = find_key(&k, sink->names, sink->n, &hint);
		}
		rc = scan_value(&p, end, &v, depth + 1,
				f >= 0 && sink->el ? child_sink(sink->el, f, &child) : NULL);
		if (rc)
			return rc;
		if (f >= 0) {
			/* A member given twice keeps its last value, as in
			 * jansson (child_sink() emptied a nested one). */
			sink->slots[f] =
			    !sink->strings || v.type == PXD_JV_STRING ? v : (struct pxd_jv){ 0 };
		}
		if (sink && sink->props && members++ < PXD_LINE_PROPS_MAX)
			sink->props->props[sink->props->nprops++] = (struct pxd_jv_member){ k, v };
		p = skip_ws(p, end);
		if (p < end && *p == close)
			break;
		if (p >= end || *p != ',')
			return -EINVAL;
		p = skip_ws(p + 1, end);
	}
done:
	if (sink && sink->props)
		sink->props->props_all = members <= PXD_LINE_PROPS_MAX;
	*out = (struct pxd_jv){ start, (uint32_t)(p + 1 - start),
				object ? PXD_JV_OBJECT : PXD_JV_ARRAY, false };
	*pp = p + 1;
	return 0;
}

static bool word(const char **pp, const char *end, const char *w, size_t n)
{
	if ((size_t)(end - *pp) < n || memcmp(*pp, w, n))
		return false;
	*pp += n;
	return true;
}

static int scan_value(const char **pp, const char *end, struct pxd_jv *out, unsigned depth,
		      struct sink *sink)
{
	const char *start = *pp;
	enum pxd_jv_type t;

	if (start >= end)
		return -EINVAL;
	switch (*start) {
	case '"':
		return scan_string(pp, end, out);
	case '{':
		return scan_container(pp, end, out, depth, sink);
	case '[':
		return scan_container(pp, end, out, depth, NULL);
	case 't':
		t = word(pp, end, "true", 4) ? PXD_JV_TRUE : PXD_JV_ABSENT;
		break;
	case 'f':
		t = word(pp, end, "false", 5) ? PXD_JV_FALSE : PXD_JV_ABSENT;
		break;
	case 'n':
		t = word(pp, end, "null", 4) ? PXD_JV_NULL : PXD_JV_ABSENT;
		break;
	default:
		return scan_number(pp, end, out);
	}
	if (t == PXD_JV_ABSENT)
		return -EINVAL;
	*out = (struct pxd_jv){ start, (uint32_t)(*pp - start), (uint8_t)t, false };
	return 0;
}

void pxd_jv_iter_init(struct pxd_jv_iter *it, const struct pxd_jv *v)
{
	bool container = v->type == PXD_JV_OBJECT || v->type == PXD_JV_ARRAY;

	it->p = container ? v->p + 1 : NULL;
	it->end = container ? v->p + v->n - 1 : NULL;
	it->object = v->type == PXD_JV_OBJECT;
	it->m = it->m_end = NULL;
}

void pxd_jv_iter_props(struct pxd_jv_iter *it, const struct pxd_event_line *el)
{
	pxd_jv_iter_init(it, &el->top[PXD_LINE_PROPS]);
	if (el->props_all) {
		it->p = NULL;
		it->m = el->props;
		it->m_end = el->props + el->nprops;
	}
}

bool pxd_jv_next(struct pxd_jv_iter *it, struct pxd_jv *key, struct pxd_jv *val)
{
	struct pxd_jv k;
	const char *p = it->p;

	if (it->m) {
		if (it->m == it->m_end)
			return false;
		if (key)
			*key = it->m->key;
		*val = it->m->val;
		it->m++;
		return true;
	}
	if (!p)
		return false;
	p = skip_ws(p, it->end);
	if (p < it->end && *p == ',')
		p = skip_ws(p + 1, it->end);
	if (p >= it->end)
		return false;
	/* The container was checked when the line was read: these scans
	 * only find where each piece ends. */
	if (it->object) {
		if (scan_string(&p, it->end, &k))
			return false;
		p = skip_ws(p, it->end);
		p = skip_ws(p + 1, it->end);
		if (key)
			*key = k;
	}
	if (scan_value(&p, it->end, val, 1, NULL))
		return false;
	it->p = p;
	return true;
}

ssize_t pxd_jv_unescape(const struct pxd_jv *s, char *out, size_t cap)
{
	const char *p = s->p;
	const char *end = s->p + s->n;
	size_t o = 0;

	if (s->type != PXD_JV_STRING)
		return -EINVAL;
	if (!s->escaped) {
		if (cap <= s->n)
			return -ENOSPC;
		memcpy(out, s->p, s->n);
		out[s->n] = '\0';
		return s->n;
	}
	while (p < end) {
		unsigned cp;
		int n;
		size_t len;

		if (*p != '\\') {
			if (o + 1 >= cap)
				return -ENOSPC;
			out[o++] = *p++;
			continue;
		}
		n = pxd_jv_escape(p + 1, end, &cp);
		if (n < 0)
			return n;
		p += 1 + n;
		len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		if (o + len >= cap)
			return -ENOSPC;
		if (len == 1) {
			out[o++] = (char)cp;
			continue;
		}
		for (size_t i = len - 1; i > 0; i--, cp >>= 6)
			out[o + i] = (char)(0x80 | (cp & 0x3f));
		out[o] = (char)((len == 2 ? 0xc0 : len == 3 ? 0xe0 : 0xf0) | cp);
		o += len;
	}
	out[o] = '\0';
	return (ssize_t)o;
}

static bool eq_sv(const struct pxd_jv *s, struct pxd_sv lit)
{
	char buf[KEY_MAX + 1];
	ssize_t got;

	if (s->type != PXD_JV_STRING)
		return false;
	if (!s->escaped)
		return s->n == lit.n && !memcmp(s->p, lit.p, lit.n);
	got = pxd_jv_unescape(s, buf, sizeof(buf));
	return got == (ssize_t)lit.n && !memcmp(buf, lit.p, lit.n);
}

bool pxd_jv_eq(const struct pxd_jv *s, const char *lit)
{
	/* Most keys differ from <lit> in their first byte: no strlen() then. */
	if (s->type == PXD_JV_STRING && !s->escaped && (s->n ? *s->p != *lit : *lit))
		return false;
	return eq_sv(s, pxd_sv_cstr(lit));
}

bool pxd_jv_eq_sv(const struct pxd_jv *s, struct pxd_sv lit)
{
	return eq_sv(s, lit);
}

void pxd_jv_iter_members(struct pxd_jv_iter it, const char *const *names, size_t n,
			 struct pxd_jv *out)
{
	struct pxd_jv k, v;

	memset(out, 0, sizeof(*out) * n);
	if (!it.object)
		return;
	while (pxd_jv_next(&it, &k, &v))
		for (size_t i = 0; i < n; i++)
			if (pxd_jv_eq(&k, names[i]))
				out[i] = v;
}

struct pxd_jv pxd_jv_iter_get(struct pxd_jv_iter it, const char *name)
{
	struct pxd_jv found;

	pxd_jv_iter_members(it, &name, 1, &found);
	return found;
}

void pxd_jv_members(const struct pxd_jv *obj, const char *const *names, size_t n,
		    struct pxd_jv *out)
{
	struct pxd_jv_iter it;

	pxd_jv_iter_init(&it, obj);
	pxd_jv_iter_members(it, names, n, out);
}

struct pxd_jv pxd_jv_get(const struct pxd_jv *obj, const char *name)
{
	struct pxd_jv_iter it;

	pxd_jv_iter_init(&it, obj);
	return pxd_jv_iter_get(it, name);
}

void pxd_line_props_members(const struct pxd_event_line *el, const char *const *names, size_t n,
			    struct pxd_jv *out)
{
	struct pxd_jv_iter it;

	pxd_jv_iter_props(&it, el);
	pxd_jv_iter_members(it, names, n, out);
}

int64_t pxd_jv_int(const struct pxd_jv *v)
{
	const char *p = v->p;
	const char *end = v->p + v->n;
	bool neg = v->type == PXD_JV_INTEGER && *p == '-';
	uint64_t u = 0;

	if (v->type != PXD_JV_INTEGER)
		return 0;
	/* Read already: digits only, and within int64_t. */
	for (p += neg; p < end; p++)
		u = u * 10 + (uint64_t)(*p - '0');
	return neg ? (int64_t)(0 - u) : (int64_t)u;
}

double pxd_jv_number(const struct pxd_jv *v)
{
	char text[PXD_EVENT_LINE_MAX_NUMBER + 1];

	if (v->type == PXD_JV_INTEGER)
		return (double)pxd_jv_int(v);
	if (v->type != PXD_JV_REAL)
		return 0;
	memcpy(text, v->p, v->n);
	text[v->n] = '\0';
	return strtod(text, NULL);
}

/*
 * Index of key <k> in <names> (<n> of them), or -1. <*hint> is the entry
 * after the last one found (wrapping to 0 past the table's end): in
 * pxd_event_serialize()'s order the next key is there, so a canonical line
 * costs one comparison per key.
 */
static int find_key(const struct pxd_jv *k, const struct pxd_sv *names, int n, int *hint)
{
	for (int step = 0, i = *hint; step < n; step++, i = i + 1 < n ? i + 1 : 0) {
		if (eq_sv(k, names[i])) {
			*hint = i + 1 < n ? i + 1 : 0;
			return i;
		}
	}
	return -1;
}

/* Every view absent; props[] is read only up to nprops, so its bytes are left. */
static void clear(struct pxd_event_line *el)
{
	memset(el, 0, offsetof(struct pxd_event_line, props));
	el->nprops = 0;
	el->props_all = false;
}

int pxd_event_line_read(struct pxd_event_line *el, const char *line, size_t len)
{
	struct sink top = {
		.names = pxd_line_key_names, .n = PXD_LINE_KEY_COUNT, .slots = el->top, .el = el
	};
	const char *p = skip_ws(line, line + len);
	const char *end = line + len;
	struct pxd_jv root;

	clear(el);
	if (len > UINT32_MAX || p >= end || *p != '{' || scan_container(&p, end, &root, 0, &top) ||
	    skip_ws(p, end) != end) {
		clear(el);
		return -EINVAL;
	}
	return 0;
}

int64_t pxd_event_line_ts(const struct pxd_event_line *el)
{
	int64_t ts = pxd_jv_int(&el->top[PXD_LINE_TS]);

	return ts > 0 ? ts : -1;
}
