// SPDX-License-Identifier: MIT
/*
 * Mail proxy rules: parses daemon/data/mail_proxies.txt into flattened,
 * sorted IPv4 and IPv6 spans and User-Agent rules, then classifies an open by
 * address, agent and token age. Load on the main thread; the loaded table is
 * read-only, so any thread classifies.
 */
#include "mail_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compiler.h"

#define MAX_UA_RULES 64
#define MAX_UA_LEN 255

/*
 * Address ranges are kept flattened: sorted, disjoint [lo, hi] spans, each
 * with the kind of the most specific prefix that covers it, so a lookup is
 * one binary search for the last span starting at or below the address.
 * IPv4 has its own 32-bit array: most opens are IPv4, and the smaller keys
 * keep more of the search in cache.
 */
struct span4 {
	uint32_t lo;
	uint32_t hi;
	uint8_t kind;
};

struct span6 {
	unsigned __int128 lo;
	unsigned __int128 hi;
	uint8_t kind;
};

enum ua_match {
	UA_HAS = 0, /* the rule text occurs anywhere in the User-Agent */
	UA_IS,	    /* the User-Agent is exactly the rule text */
};

struct ua_rule {
	uint8_t kind;
	uint8_t match;
	uint8_t len;
	char text[MAX_UA_LEN + 1];
};

struct pxd_mail_proxy {
	struct span4 *v4;
	size_t nv4;
	struct span6 *v6;
	size_t nv6;
	struct ua_rule ua[MAX_UA_RULES];
	size_t nua;
	uint32_t scanner_window_s;
};

static const char *const kind_names[PXD_OPEN_KIND_COUNT] = {
	[PXD_OPEN_KIND_HUMAN] = "human",
	[PXD_OPEN_KIND_APPLE_MPP] = "apple_mpp",
	[PXD_OPEN_KIND_GMAIL_PROXY] = "gmail_proxy",
	[PXD_OPEN_KIND_YAHOO_PROXY] = "yahoo_proxy",
	[PXD_OPEN_KIND_OTHER_PROXY] = "other_proxy",
	[PXD_OPEN_KIND_SCANNER] = "scanner",
};

const char *pxd_mail_proxy_kind_name(enum pxd_open_kind kind)
{
	if ((unsigned)kind >= PXD_OPEN_KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

/* A prefix as read, before flattening; <line> orders equal prefixes. */
struct prefix {
	unsigned __int128 lo;
	unsigned __int128 hi;
	uint8_t kind;
	bool v4;
	unsigned line;
};

struct loader {
	struct prefix *p;
	size_t n;
	size_t cap;
	char *err;
	size_t errlen;
};

static int fail(struct loader *ld, unsigned line, const char *why, const char *what, int len)
{
	snprintf(ld->err, ld->errlen, "line %u: %s \"%.*s\"", line, why, len, what);
	return -EINVAL;
}

static int parse_kind(struct pxd_sv word)
{
	/* HUMAN is what matching nothing means; a rule cannot say it. */
	for (int k = PXD_OPEN_KIND_APPLE_MPP; k < PXD_OPEN_KIND_COUNT; k++) {
		if (pxd_sv_eq_lit(word, kind_names[k]))
			return k;
	}
	return -1;
}

static unsigned __int128 ones(unsigned bits)
{
	return bits >= 128 ? ~(unsigned __int128)0 : (((unsigned __int128)1 << bits) - 1);
}

static int add_prefix(struct loader *ld, unsigned line, int kind, struct pxd_sv cidr)
{
	char buf[64];
	const char *slash;
	unsigned char addr[16];
	unsigned long plen;
	char *end;
	bool v4;
	unsigned width;
	unsigned __int128 a = 0;

	if (cidr.n >= sizeof(buf))
		return fail(ld, line, "not a CIDR", cidr.p, (int)cidr.n);
	memcpy(buf, cidr.p, cidr.n);
	buf[cidr.n] = '\0';
	slash = strchr(buf, '/');
	if (!slash)
		return fail(ld, line, "not a CIDR (address/length)", cidr.p, (int)cidr.n);
	buf[slash - buf] = '\0';
	v4 = inet_pton(AF_INET, buf, addr) == 1;
	if (!v4 && inet_pton(AF_INET6, buf, addr) != 1)
		return fail(ld, line, "not an IPv4 or IPv6 address in", cidr.p, (int)cidr.n);
	width = v4 ? 32 : 128;
	errno = 0;
	plen = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || plen > width)
		return fail(ld, line, "bad prefix length in", cidr.p, (int)cidr.n);
	for (unsigned i = 0; i < width / 8; i++)
		a = (a << 8) | addr[i];
	if (a & ones(width - (unsigned)plen))
		return fail(ld, line, "host bits set (write the network address) in", cidr.p,
			    (int)cidr.n);
	if (ld->n == ld->cap) {
		size_t cap = ld->cap ? ld->cap * 2 : 256;
		struct prefix *p = realloc(ld->p, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		ld->p = p;
		ld->cap = cap;
	}
	ld->p[ld->n++] =
	    (struct prefix){ a, a | ones(width - (unsigned)plen), (uint8_t)kind, v4, line };
	return 0;
}

static int add_ua(struct pxd_mail_proxy *mp, struct loader *ld, unsigned line, int kind,
		  enum ua_match match, struct pxd_sv text)
{
	struct ua_rule *r;

	if (text.n == 0 || text.n > MAX_UA_LEN)
		return fail(ld, line, "user-agent text must be 1..255 bytes:", text.p, (int)text.n);
	if (mp->nua == MAX_UA_RULES)
		return fail(ld, line, "more than 64 user-agent rules at", text.p, (int)text.n);
	r = &mp->ua[mp->nua++];
	r->kind = (uint8_t)kind;
	r->match = (uint8_t)match;
	r->len = (uint8_t)text.n;
	memcpy(r->text, text.p, text.n);
	r->text[text.n] = '\0';
	return 0;
}

/* Splits the next space- or tab-separated word off the front of <*rest>. */
static struct pxd_sv next_word(struct pxd_sv *rest)
{
	const char *p = rest->p;
	const char *end = rest->p + rest->n;
	const char *w;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	w = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	*rest = pxd_sv_make(p, (size_t)(end - p));
	return pxd_sv_make(w, (size_t)(p - w));
}

static struct pxd_sv trim(struct pxd_sv s)
{
	while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.n--;
	}
	while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\r'))
		s.n--;
	return s;
}

static int parse_line(struct pxd_mail_proxy *mp, struct loader *ld, unsigned line,
		      struct pxd_sv rest)
{
	struct pxd_sv verb = next_word(&rest);
	struct pxd_sv kw = next_word(&rest);
	bool ip = pxd_sv_eq_lit(verb, "ip");
	bool has = pxd_sv_eq_lit(verb, "ua-has");
	int kind = parse_kind(kw);

	if (!ip && !has && !pxd_sv_eq_lit(verb, "ua-is"))
		return fail(ld, line, "unknown rule (ip, ua-has, ua-is):", verb.p, (int)verb.n);
	if (kind < 0)
		return fail(ld, line,
			    "unknown kind (apple_mpp, gmail_proxy, yahoo_proxy, other_proxy, "
			    "scanner):",
			    kw.p, (int)kw.n);
	rest = trim(rest);
	if (!ip)
		return add_ua(mp, ld, line, kind, has ? UA_HAS : UA_IS, rest);
	kw = next_word(&rest);
	if (rest.n)
		return fail(ld, line, "one CIDR per line; extra text", rest.p, (int)rest.n);
	return add_prefix(ld, line, kind, kw);
}

/* Wider prefixes first among equal starts, then later lines first, so the
 * flattening pushes outer prefixes before inner ones and a repeated prefix
 * takes the kind of its last line. */
static int cmp_prefix(const void *a, const void *b)
{
	const struct prefix *x = a;
	const struct prefix *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi > y->hi ? -1 : 1;
	return x->line < y->line ? 1 : (x->line > y->line ? -1 : 0);
}

struct spans {
	struct span6 *s;
	size_t n;
};

/* Appends [lo, hi] of <kind>, merging with the previous span when they touch. */
static void emit(struct spans *out, unsigned __int128 lo, unsigned __int128 hi, uint8_t kind)
{
	struct span6 *last = out->n ? &out->s[out->n - 1] : NULL;

	if (last && last->kind == kind && last->hi + 1 == lo) {
		last->hi = hi;
		return;
	}
	out->s[out->n++] = (struct span6){ lo, hi, kind };
}

/*
 * Turns the sorted prefixes p[0..n) of one family into disjoint spans in
 * <out> (room for 2n). Prefixes are nested or disjoint, never partly
 * overlapping, so a stack of the prefixes that contain the cursor is enough:
 * the innermost one owns each address. <past_end> marks the cursor wrapping
 * past the top of the address space (a prefix ending at ff..ff).
 */
static void flatten(const struct prefix *p, size_t n, struct spans *out)
{
	const struct prefix *stack[129];
	size_t depth = 0;
	unsigned __int128 cur = 0;
	bool past_end = false;

	for (size_t i = 0; i <= n; i++) {
		const struct prefix *next = i < n ? &p[i] : NULL;

		while (depth && (!next || stack[depth - 1]->hi < next->lo)) {
			const struct prefix *top = stack[--depth];

			if (!past_end && cur <= top->hi)
				emit(out, cur, top->hi, top->kind);
			cur = top->hi + 1;
			past_end = past_end || cur == 0;
		}
		if (!next)
			break;
		if (depth && cur < next->lo)
			emit(out, cur, next->lo - 1, stack[depth - 1]->kind);
		cur = next->lo;
		past_end = false;
		/* The same prefix again: the later line, sorted first, holds it. */
		if (depth && stack[depth - 1]->lo == next->lo && stack[depth - 1]->hi == next->hi)
			continue;
		stack[depth++] = next;
	}
}

/* Flattens the <n> prefixes of one family into a malloc'd span array. */
static int spans_build(struct prefix *p, size_t n, struct spans *out)
{
	qsort(p, n, sizeof(*p), cmp_prefix);
	out->n = 0;
	out->s = malloc((2 * n + 1) * sizeof(*out->s));
	if (!out->s)
		return -ENOMEM;
	flatten(p, n, out);
	return 0;
}

static int build_ranges(struct pxd_mail_proxy *mp, struct loader *ld)
{
	struct prefix *byfam = malloc((ld->n + 1) * sizeof(*byfam));
	struct spans s4 = { 0 };
	struct spans s6 = { 0 };
	size_t n4 = 0;
	size_t j;
	int ret = -ENOMEM;

	if (!byfam)
		goto out;
	for (size_t i = 0; i < ld->n; i++) {
		if (ld->p[i].v4)
			byfam[n4++] = ld->p[i];
	}
	j = n4;
	for (size_t i = 0; i < ld->n; i++) {
		if (!ld->p[i].v4)
			byfam[j++] = ld->p[i];
	}
	if (spans_build(byfam, n4, &s4) || spans_build(byfam + n4, ld->n - n4, &s6))
		goto out;
	mp->v4 = malloc((s4.n + 1) * sizeof(*mp->v4));
	if (!mp->v4)
		goto out;
	for (size_t i = 0; i < s4.n; i++)
		mp->v4[i] =
		    (struct span4){ (uint32_t)s4.s[i].lo, (uint32_t)s4.s[i].hi, s4.s[i].kind };
	mp->nv4 = s4.n;
	mp->v6 = s6.s;
	mp->nv6 = s6.n;
	s6.s = NULL;
	ret = 0;
out:
	free(byfam);
	free(s4.s);
	free(s6.s);
	return ret;
}

int pxd_mail_proxy_load(struct pxd_mail_proxy **out, const char *text, uint32_t scanner_window_s,
			char *err, size_t errlen)
{
	struct loader ld = { .err = err, .errlen = errlen };
	struct pxd_mail_proxy *mp = calloc(1, sizeof(*mp));
	unsigned line = 0;
	const char *p = text;
	int ret = -ENOMEM;

	if (!mp)
		goto fail;
	mp->scanner_window_s = scanner_window_s;
	while (*p) {
		const char *eol = strchrnul(p, '\n');
		struct pxd_sv l = trim(pxd_sv_make(p, (size_t)(eol - p)));

		line++;
		p = *eol ? eol + 1 : eol;
		if (l.n == 0 || l.p[0] == '#')
			continue;
		ret = parse_line(mp, &ld, line, l);
		if (ret)
			goto fail;
	}
	ret = build_ranges(mp, &ld);
	if (ret)
		goto fail;
	free(ld.p);
	*out = mp;
	return 0;
fail:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory at line %u", line);
	free(ld.p);
	pxd_mail_proxy_free(mp);
	return ret;
}

void pxd_mail_proxy_free(struct pxd_mail_proxy *mp)
{
	if (!mp)
		return;
	free(mp->v4);
	free(mp->v6);
	free(mp);
}

void pxd_mail_proxy_stats(const struct pxd_mail_proxy *mp, struct pxd_mail_proxy_stats *st)
{
	st->v4_ranges = mp->nv4;
	st->v6_ranges = mp->nv6;
	st->ua_rules = mp->nua;
}

/* Returns the kind of the span holding <a>, or HUMAN. */
static int lookup4(const struct pxd_mail_proxy *mp, uint32_t a)
{
	size_t lo = 0;
	size_t hi = mp->nv4;

	/* Finds the first span starting above <a>; the one before may hold it. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mp->v4[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && a <= mp->v4[lo - 1].hi)
		return mp->v4[lo - 1].kind;
	return PXD_OPEN_KIND_HUMAN;
}

static int lookup6(const struct pxd_mail_proxy *mp, unsigned __int128 a)
{
	size_t lo = 0;
	size_t hi = mp->nv6;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mp->v6[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && a <= mp->v6[lo - 1].hi)
		return mp->v6[lo - 1].kind;
	return PXD_OPEN_KIND_HUMAN;
}

static int lookup_ip(const struct pxd_mail_proxy *mp, int family, const uint8_t *b)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned __int128 a = 0;

	if (family == AF_INET6 && memcmp(b, v4mapped, sizeof(v4mapped)) == 0) {
		family = AF_INET;
		b += 12;
	}
	if (family == AF_INET)
		return lookup4(mp, (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
				       (uint32_t)b[2] << 8 | b[3]);
	if (family != AF_INET6)
		return PXD_OPEN_KIND_HUMAN;
	for (int i = 0; i < 16; i++)
		a = (a << 8) | b[i];
	return lookup6(mp, a);
}

static int lookup_ua(const struct pxd_mail_proxy *mp, struct pxd_sv ua)
{
	for (size_t i = 0; i < mp->nua; i++) {
		const struct ua_rule *r = &mp->ua[i];

		if (r->match == UA_IS
			? (ua.n == r->len && memcmp(ua.p, r->text, r->len) == 0)
			: (ua.n >= r->len && memmem(ua.p, ua.n, r->text, r->len) != NULL))
			return r->kind;
	}
	return PXD_OPEN_KIND_HUMAN;
}

enum pxd_open_kind pxd_mail_proxy_classify(const struct pxd_mail_proxy *mp, int family,
					   const void *addr, struct pxd_sv ua, int64_t age_s)
{
	int kind = lookup_ip(mp, family, addr);

	if (kind == PXD_OPEN_KIND_HUMAN)
		kind = lookup_ua(mp, ua);
	/* Scanners open every message as it arrives; the same gateway fetching
	 * later does so because a reader opened the mail behind it. */
	if (kind == PXD_OPEN_KIND_SCANNER && age_s > (int64_t)mp->scanner_window_s)
		kind = PXD_OPEN_KIND_OTHER_PROXY;
	return (enum pxd_open_kind)kind;
}
