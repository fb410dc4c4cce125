// SPDX-License-Identifier: MIT
/*
 * The HTTP/1.1 request parser (RFC 9112): request line, header fields and
 * message framing, chunked bodies decoded into the caller's scratch, each
 * refusal named by its reason. The ingest thread, per request; no allocation,
 * no state. Kept whole past 600 lines: it is one grammar, and the chunked
 * decoder shares the head's byte classes and inlined window and scan helpers,
 * which a split would have to move into a header on the hot path.
 */
#include "http_parse.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "compiler.h"

/*
 * The parser reads left to right and decides every refusal from the bytes
 * before the cursor only. A prefix of a request therefore answers -EAGAIN or
 * the very refusal the whole request gets, which is what lets the caller
 * re-run it from the start on each arrival without keeping state.
 */

/* Empty lines skipped before a request line (RFC 9112 2.2): the CRLF some
 * clients send after a POST body. More than a few is not a client's slip. */
#define LEADING_EMPTY_LINES_MAX 4
/* Hex digits in a chunk-size: any body limit fits with room for zero
 * padding; the cap stops endless leading zeros. */
#define CHUNK_SIZE_DIGITS_MAX 16
/* Bytes of chunked framing (size lines, extensions, CRLFs, trailer section)
 * a body may carry besides its data: without it, a body of one-byte chunks
 * with long extensions would be unbounded on the wire. */
#define CHUNK_FRAMING_MAX PXD_HTTP_MAX_HEAD

#define C_TOKEN 0x1  /* tchar (RFC 9110 5.6.2): methods, field names */
#define C_TARGET 0x2 /* request-target byte: visible ASCII 0x21-0x7e */
#define C_VALUE 0x4  /* field-vchar, SP, HTAB, obs-text (RFC 9110 5.5) */

#define NO 0
#define WS C_VALUE
#define DL (C_TARGET | C_VALUE)
#define TK (C_TOKEN | C_TARGET | C_VALUE)
#define OB C_VALUE

// clang-format off
static const unsigned char cclass[256] = {
	/* 0x00-0x0f: controls; HTAB (0x09) only inside field values */
	NO, NO, NO, NO, NO, NO, NO, NO, NO, WS, NO, NO, NO, NO, NO, NO,
	/* 0x10-0x1f: controls */
	NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO,
	/* 0x20-0x2f:  SP  !   "   #   $   %   &   '   (   )   *   +   ,   -   .   / */
	WS, TK, DL, TK, TK, TK, TK, TK, DL, DL, TK, TK, DL, TK, TK, DL,
	/* 0x30-0x3f:  0-9, then  :   ;   <   =   >   ? */
	TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, DL, DL, DL, DL, DL, DL,
	/* 0x40-0x4f:  @, then A-O */
	DL, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK,
	/* 0x50-0x5f:  P-Z, then  [   \   ]   ^   _ */
	TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, DL, DL, DL, TK, TK,
	/* 0x60-0x6f:  `, then a-o */
	TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK,
	/* 0x70-0x7f:  p-z, then  {   |   }   ~   DEL */
	TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, TK, DL, TK, DL, TK, NO,
	/* 0x80-0xff: obs-text, allowed in field values only */
	OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
	OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB, OB,
};
// clang-format on

#undef NO
#undef WS
#undef DL
#undef TK
#undef OB

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Where parsing may read: up to <lim>. <capped>: <lim> is a limit, not the
 * end of the input, so needing a byte at <lim> means the limit is passed. */
struct window {
	const char *lim;
	bool capped;
};

/* Framing state gathered from the header fields, decided after the block. */
struct framing {
	unsigned nhost;
	bool close;
	bool keep_alive;
};

static int refuse(enum pxd_refusal *r, enum pxd_refusal reason)
{
	*r = reason;
	return -EPROTO;
}

/* Maps running out of <w> to the refusal <over> when <w> was a limit. */
static int starved(int err, struct window w, enum pxd_refusal over, enum pxd_refusal *r)
{
	if (err == -EAGAIN && w.capped)
		return refuse(r, over);
	return err;
}

static struct window window_of(const char *from, size_t allowed, const char *end)
{
	if ((size_t)(end - from) >= allowed)
		return (struct window){ from + allowed, true };
	return (struct window){ end, false };
}

static unsigned cls(char c)
{
	return cclass[(unsigned char)c];
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_ws(const char *p, const char *lim)
{
	while (p < lim && is_ws(*p))
		p++;
	return p;
}

/*
 * True when none of the eight bytes in <x> stops a scan for class <want>.
 * The "has a byte below n" and "above n" word tests (Hacker's Delight 6-1)
 * can misplace which byte matched, but never miss that one did, so a word
 * that passes is entirely inside the class.
 */
static bool word_clean(uint64_t x, unsigned want)
{
	uint64_t below, above;

	if (want == C_TARGET) {
		below = (x - ONES * 0x21) & ~x;
		above = (x + ONES * (127 - 0x7e)) | x;
		return !((below | above) & HIGHS);
	}
	/* C_VALUE: stop at controls (HTAB too, rechecked byte-wise) and DEL */
	below = (x - ONES * 0x20) & ~x;
	x ^= ONES * 0x7f;
	return !((((x - ONES) & ~x) | below) & HIGHS);
}

#if defined(__SSE2__)
/*
 * A bit for each of the 16 bytes at <p> that may stop a scan for class
 * <want> (exact for C_TARGET; for C_VALUE HTAB is flagged too and rechecked
 * byte-wise, like word_clean()). Signed compares: the bytes >= 0x80 are
 * negative, outside C_TARGET, inside C_VALUE (obs-text).
 */
static unsigned stops16(const char *p, unsigned want)
{
	__m128i v = _mm_loadu_si128((const __m128i *)p);
	__m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
	__m128i low;

	if (want == C_TARGET)
		low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x21));
	else
		low = _mm_and_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
				    _mm_cmpgt_epi8(v, _mm_set1_epi8(-1)));
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(low, del));
}
#endif

/* Returns the first byte of [p, lim) not in class <want>, or <lim>. Reads
 * 16 bytes at a time with SSE2 (every x86-64), else eight in a word, only
 * where that many remain before <lim>. */
static const char *scan(const char *p, const char *lim, unsigned want)
{
	for (;;) {
		const char *stop;
		uint64_t x;

#if defined(__SSE2__)
		while (lim - p >= 16) {
			unsigned m = stops16(p, want);

			if (m) {
				p += __builtin_ctz(m);
				break;
			}
			p += 16;
		}
#endif
		while (lim - p >= 8) {
			memcpy(&x, p, sizeof(x));
			if (!word_clean(x, want))
				break;
			p += 8;
		}
		stop = p + PXD_MIN(lim - p, 8);
		while (p < stop && (cls(*p) & want))
			p++;
		if (p < stop || p == lim)
			return p;
	}
}

static int expect_crlf(const char **pp, const char *lim, enum pxd_refusal bad, enum pxd_refusal *r)
{
	const char *p = *pp;

	if (p == lim)
		return -EAGAIN;
	if (*p != '\r')
		return refuse(r, bad);
	if (++p == lim)
		return -EAGAIN;
	if (*p != '\n')
		return refuse(r, bad);
	*pp = p + 1;
	return 0;
}

static enum pxd_http_method method_of(struct pxd_sv m)
{
	switch (m.n) {
	case 3:
		if (pxd_sv_eq_lit(m, "GET"))
			return PXD_HTTP_GET;
		if (pxd_sv_eq_lit(m, "PUT"))
			return PXD_HTTP_PUT;
		break;
	case 4:
		if (pxd_sv_eq_lit(m, "HEAD"))
			return PXD_HTTP_HEAD;
		if (pxd_sv_eq_lit(m, "POST"))
			return PXD_HTTP_POST;
		break;
	case 6:
		if (pxd_sv_eq_lit(m, "DELETE"))
			return PXD_HTTP_DELETE;
		break;
	case 7:
		if (pxd_sv_eq_lit(m, "OPTIONS"))
			return PXD_HTTP_OPTIONS;
		break;
	}
	return PXD_HTTP_OTHER;
}

static bool ends_line(char c)
{
	return c == '\r' || c == '\n';
}

/* Parses the request target at <*pp>, up to the SP after it. */
static int parse_target(const char **pp, const char *lim, struct pxd_http_req *req,
			enum pxd_refusal *r)
{
	const char *p = *pp, *t = p, *tlim, *q;

	if (p == lim)
		return -EAGAIN;
	if (*p == '*') {
		/* asterisk-form exists for server-wide OPTIONS only (RFC 9112 3.2.4) */
		if (req->method != PXD_HTTP_OPTIONS)
			return refuse(r, PXD_REFUSAL_BAD_TARGET);
		p++;
	} else if (*p == '/') {
		tlim = (size_t)(lim - t) > PXD_HTTP_MAX_URI ? t + PXD_HTTP_MAX_URI : lim;
		p = scan(p + 1, tlim, C_TARGET);
		if (p == tlim && tlim != lim && *p != ' ')
			return refuse(r, PXD_REFUSAL_URI_TOO_LONG);
	} else {
		return refuse(r, *p == ' ' || ends_line(*p) ? PXD_REFUSAL_BAD_REQUEST_LINE
							    : PXD_REFUSAL_BAD_TARGET);
	}
	if (p == lim)
		return -EAGAIN;
	if (*p != ' ')
		return refuse(r, ends_line(*p) ? PXD_REFUSAL_BAD_REQUEST_LINE
					       : PXD_REFUSAL_BAD_TARGET);
	req->target = pxd_sv_make(t, (size_t)(p - t));
	q = memchr(t, '?', req->target.n);
	if (q) {
		req->path = pxd_sv_make(t, (size_t)(q - t));
		req->query = pxd_sv_make(q + 1, (size_t)(p - q - 1));
	} else {
		req->path = req->target;
		req->query = pxd_sv_make(p, 0);
	}
	*pp = p + 1;
	return 0;
}

/* Parses "method SP request-target SP HTTP/1.x CRLF". */
static int parse_request_line(const char **pp, const char *lim, struct pxd_http_req *req,
			      enum pxd_refusal *r)
{
	static const char version[] = "HTTP/1.";
	const char *p = *pp, *m = p;
	int err;

	while (p < lim && (cls(*p) & C_TOKEN))
		p++;
	if (p == lim)
		return -EAGAIN;
	if (ends_line(*p))
		return refuse(r, PXD_REFUSAL_BAD_REQUEST_LINE);
	if (*p != ' ' || p == m)
		return refuse(r, PXD_REFUSAL_BAD_METHOD);
	req->method_name = pxd_sv_make(m, (size_t)(p - m));
	req->method = method_of(req->method_name);
	p++;

	err = parse_target(&p, lim, req, r);
	if (err)
		return err;

	for (size_t i = 0; i < sizeof(version) - 1; i++, p++) {
		if (p == lim)
			return -EAGAIN;
		if (*p != version[i])
			return refuse(r, PXD_REFUSAL_BAD_VERSION);
	}
	if (p == lim)
		return -EAGAIN;
	if (*p != '0' && *p != '1')
		return refuse(r, PXD_REFUSAL_BAD_VERSION);
	req->minor_version = *p - '0';
	p++;
	err = expect_crlf(&p, lim, PXD_REFUSAL_BAD_REQUEST_LINE, r);
	*pp = p;
	return err;
}

/*
 * Content-Length is 1*DIGIT. Repeats, as more fields or as a list within
 * one ("5, 5"), are accepted only when every value is the same number
 * (RFC 9110 8.6); anything else could frame the body two ways.
 */
static int set_content_length(struct pxd_http_req *req, struct pxd_sv v, enum pxd_refusal *r)
{
	const char *p = v.p, *end = v.p + v.n;

	if (req->chunked)
		return refuse(r, PXD_REFUSAL_CL_AND_TE);
	for (;;) {
		const char *digits = p;
		size_t n = 0;

		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			size_t d = (size_t)(*p - '0');

			if (n > (SIZE_MAX - d) / 10)
				return refuse(r, PXD_REFUSAL_BAD_CONTENT_LENGTH);
			n = n * 10 + d;
		}
		if (p == digits || (req->has_content_length && n != req->content_length))
			return refuse(r, PXD_REFUSAL_BAD_CONTENT_LENGTH);
		req->has_content_length = true;
		req->content_length = n;
		if (p == end)
			return 0;
		p = skip_ws(p, end);
		if (p == end || *p != ',')
			return refuse(r, PXD_REFUSAL_BAD_CONTENT_LENGTH);
		p = skip_ws(p + 1, end);
	}
}

/*
 * Only a single "chunked" is served. HTTP/1.0 has no Transfer-Encoding
 * (RFC 9112 6.1 calls such framing faulty): refused as unsupported, before
 * the Content-Length check, so HTTP/1.0 always answers 501 for it.
 */
static int set_transfer_encoding(struct pxd_http_req *req, struct pxd_sv v, enum pxd_refusal *r)
{
	if (req->minor_version == 0 || req->chunked)
		return refuse(r, PXD_REFUSAL_UNSUPPORTED_TE);
	if (req->has_content_length)
		return refuse(r, PXD_REFUSAL_CL_AND_TE);
	if (!pxd_sv_ieq(v, "chunked"))
		return refuse(r, PXD_REFUSAL_UNSUPPORTED_TE);
	req->chunked = true;
	return 0;
}

static void connection_options(struct pxd_sv v, struct framing *fr)
{
	const char *p = v.p, *end = v.p + v.n;

	while (p < end) {
		const char *t = skip_ws(p, end), *e;

		for (p = t; p < end && *p != ','; p++)
			;
		for (e = p; e > t && is_ws(e[-1]); e--)
			;
		if (pxd_sv_ieq(pxd_sv_make(t, (size_t)(e - t)), "close"))
			fr->close = true;
		else if (pxd_sv_ieq(pxd_sv_make(t, (size_t)(e - t)), "keep-alive"))
			fr->keep_alive = true;
		if (p < end)
			p++;
	}
}

/* Notes a header field the daemon looks at. Named views keep the first. */
static int apply_field(struct pxd_http_req *req, struct framing *fr,
		       const struct pxd_http_header *f, enum pxd_refusal *r)
{
	struct pxd_sv n = f->name, *view = NULL;

	switch (n.n) {
	case 4:
		if (pxd_sv_ieq(n, "host")) {
			fr->nhost++;
			view = &req->host;
		}
		break;
	case 6:
		if (pxd_sv_ieq(n, "origin"))
			view = &req->origin;
		else if (pxd_sv_ieq(n, "cookie"))
			view = &req->cookie;
		break;
	case 7:
		if (pxd_sv_ieq(n, "referer"))
			view = &req->referer;
		break;
	case 10:
		if (pxd_sv_ieq(n, "user-agent"))
			view = &req->user_agent;
		else if (pxd_sv_ieq(n, "connection"))
			connection_options(f->value, fr);
		break;
	case 12:
		if (pxd_sv_ieq(n, "content-type"))
			view = &req->content_type;
		break;
	case 13:
		if (pxd_sv_ieq(n, "authorization"))
			view = &req->authorization;
		break;
	case 14:
		if (pxd_sv_ieq(n, "content-length"))
			return set_content_length(req, f->value, r);
		break;
	case 17:
		if (pxd_sv_ieq(n, "transfer-encoding"))
			return set_transfer_encoding(req, f->value, r);
		break;
	case 29:
		if (pxd_sv_ieq(n, "access-control-request-method"))
			view = &req->access_control_request_method;
		break;
	case 30:
		if (pxd_sv_ieq(n, "access-control-request-headers"))
			view = &req->access_control_request_headers;
		break;
	}
	if (view && !view->p)
		*view = f->value;
	return 0;
}

/* Parses one "name: value CRLF" line at <*pp>, which is not the empty line. */
static int parse_field(const char **pp, const char *lim, struct pxd_http_header *f,
		       enum pxd_refusal *r)
{
	const char *p = *pp, *name = p, *v, *vend;
	int err;

	while (p < lim && (cls(*p) & C_TOKEN))
		p++;
	if (p == lim)
		return -EAGAIN;
	/* whitespace before the colon is a smuggling vector (RFC 9112 5.1) */
	if (*p != ':' || p == name)
		return refuse(r, PXD_REFUSAL_BAD_HEADER);
	f->name = pxd_sv_make(name, (size_t)(p - name));
	v = skip_ws(p + 1, lim);
	p = scan(v, lim, C_VALUE);
	for (vend = p; vend > v && is_ws(vend[-1]); vend--)
		;
	f->value = pxd_sv_make(v, (size_t)(vend - v));
	err = expect_crlf(&p, lim, PXD_REFUSAL_BAD_HEADER, r);
	*pp = p;
	return err;
}

/*
 * Parses field lines and the empty line that ends them. With <req>, fields
 * are stored and applied (the header block); without, only checked and
 * counted (a chunked trailer section, which never changes framing).
 */
static int parse_fields(const char **pp, const char *lim, struct pxd_http_req *req,
			struct framing *fr, enum pxd_refusal *r)
{
	size_t n = 0;
	int err;

	for (;;) {
		struct pxd_http_header f;

		if (*pp == lim)
			return -EAGAIN;
		if (**pp == '\r')
			return expect_crlf(pp, lim, PXD_REFUSAL_BAD_HEADER, r);
		if (is_ws(**pp))
			return refuse(r, PXD_REFUSAL_OBS_FOLD);
		if (n == PXD_HTTP_MAX_HEADERS)
			return refuse(r, PXD_REFUSAL_TOO_MANY_HEADERS);
		err = parse_field(pp, lim, &f, r);
		if (err)
			return err;
		n++;
		if (req) {
			req->headers[req->nheaders++] = f;
			err = apply_field(req, fr, &f, r);
			if (err)
				return err;
		}
	}
}

static int skip_token(const char **pp, const char *lim, enum pxd_refusal *r)
{
	const char *p = *pp;

	while (p < lim && (cls(*p) & C_TOKEN))
		p++;
	if (p == lim)
		return -EAGAIN;
	if (p == *pp)
		return refuse(r, PXD_REFUSAL_BAD_CHUNK);
	*pp = p;
	return 0;
}

/* Skips a quoted-string (RFC 9110 5.6.4) starting at the '"' at <*pp>. */
static int skip_quoted(const char **pp, const char *lim, enum pxd_refusal *r)
{
	const char *p = *pp + 1;

	for (;;) {
		if (p == lim)
			return -EAGAIN;
		if (*p == '"')
			break;
		if (*p == '\\' && ++p == lim)
			return -EAGAIN;
		if (!(cls(*p) & C_VALUE))
			return refuse(r, PXD_REFUSAL_BAD_CHUNK);
		p++;
	}
	*pp = p + 1;
	return 0;
}

/*
 * Skips chunk extensions: *( BWS ";" BWS name [ BWS "=" BWS value ] )
 * (RFC 9112 7.1.1). Whitespace is accepted only where BWS allows it, so
 * "1 \r\n" is refused. Leaves <*pp> on the byte that follows.
 */
static int skip_chunk_ext(const char **pp, const char *lim, enum pxd_refusal *r)
{
	const char *p = *pp, *ws;
	int err;

	for (;;) {
		ws = p;
		p = skip_ws(p, lim);
		if (p == lim)
			return -EAGAIN;
		if (*p != ';')
			break;
		p = skip_ws(p + 1, lim);
		err = skip_token(&p, lim, r);
		if (err)
			return err;
		ws = p;
		p = skip_ws(p, lim);
		if (p == lim)
			return -EAGAIN;
		if (*p != '=') {
			p = ws; /* the whitespace must be BWS before the next ';' */
			continue;
		}
		p = skip_ws(p + 1, lim);
		if (p == lim)
			return -EAGAIN;
		err = *p == '"' ? skip_quoted(&p, lim, r) : skip_token(&p, lim, r);
		if (err)
			return err;
	}
	if (p != ws)
		return refuse(r, PXD_REFUSAL_BAD_CHUNK);
	*pp = p;
	return 0;
}

/* Parses "chunk-size [ext] CRLF"; <decoded> bytes of body precede it. */
static int parse_chunk_line(const char **pp, const char *lim, size_t decoded, size_t max_body,
			    size_t *size, enum pxd_refusal *r)
{
	const char *p = *pp, *digits = p;
	size_t n = 0;
	int err;

	for (; p < lim; p++) {
		unsigned d = (unsigned char)*p - '0', x = ((unsigned char)*p | 0x20) - 'a';

		if (d > 9 && x > 5)
			break;
		if (p - digits == CHUNK_SIZE_DIGITS_MAX)
			return refuse(r, PXD_REFUSAL_BAD_CHUNK);
		/* n <= max_body (far below SIZE_MAX / 16) here: n * 16 + 15 cannot overflow */
		n = n * 16 + (d <= 9 ? d : x + 10);
		if (n > max_body - decoded)
			return refuse(r, PXD_REFUSAL_BODY_TOO_LARGE);
	}
	if (p == lim)
		return -EAGAIN;
	if (p == digits)
		return refuse(r, PXD_REFUSAL_BAD_CHUNK);
	err = skip_chunk_ext(&p, lim, r);
	if (!err)
		err = expect_crlf(&p, lim, PXD_REFUSAL_BAD_CHUNK, r);
	*pp = p;
	*size = n;
	return err;
}

/*
 * Decodes the chunked body at <body> into <scratch>. Returns its length on
 * the wire, -EAGAIN or -EPROTO. Every call decodes again from the first
 * chunk: at most <max_body> bytes, and no state to carry.
 */
static ssize_t parse_chunked(const char *body, const char *end, char *scratch, size_t max_body,
			     struct pxd_http_req *req, enum pxd_refusal *r)
{
	const char *p = body;
	size_t decoded = 0, size;
	struct window w;
	int err;

	for (;;) {
		w = window_of(body, decoded + CHUNK_FRAMING_MAX, end);
		err = parse_chunk_line(&p, w.lim, decoded, max_body, &size, r);
		if (err)
			return starved(err, w, PXD_REFUSAL_BODY_TOO_LARGE, r);
		if (!size)
			break;
		if ((size_t)(end - p) < size)
			return -EAGAIN;
		memcpy(scratch + decoded, p, size);
		p += size;
		decoded += size;
		w = window_of(body, decoded + CHUNK_FRAMING_MAX, end);
		err = expect_crlf(&p, w.lim, PXD_REFUSAL_BAD_CHUNK, r);
		if (err)
			return starved(err, w, PXD_REFUSAL_BODY_TOO_LARGE, r);
	}
	err = parse_fields(&p, w.lim, NULL, NULL, r);
	if (err)
		return starved(err, w, PXD_REFUSAL_BODY_TOO_LARGE, r);
	req->body = pxd_sv_make(scratch, decoded);
	return p - body;
}

/* Clears everything but headers[]: nheaders says how much of it is valid,
 * and wiping its 2 KiB per call would cost more than a short request. */
static void reset(struct pxd_http_req *req)
{
	size_t tail = offsetof(struct pxd_http_req, nheaders);

	memset(req, 0, offsetof(struct pxd_http_req, headers));
	memset((char *)req + tail, 0, sizeof(*req) - tail);
}

ssize_t pxd_http_parse_request(const char *buf, size_t len, struct pxd_http_req *req,
			       char *body_scratch, size_t scratch_cap, enum pxd_refusal *refusal)
{
	const char *p = buf, *end = buf + len, *head;
	struct framing fr = { 0 };
	struct window w;
	ssize_t body_len;
	int err;

	*refusal = PXD_REFUSAL_NONE;
	if (!body_scratch || !scratch_cap || scratch_cap > PXD_HTTP_MAX_BODY_LIMIT)
		return -EINVAL;
	reset(req);

	for (int i = 0; p < end && *p == '\r'; i++) {
		if (i == LEADING_EMPTY_LINES_MAX)
			return refuse(refusal, PXD_REFUSAL_BAD_REQUEST_LINE);
		err = expect_crlf(&p, end, PXD_REFUSAL_BAD_REQUEST_LINE, refusal);
		if (err)
			return err;
	}

	head = p;
	w = window_of(head, PXD_HTTP_MAX_HEAD, end);
	err = parse_request_line(&p, w.lim, req, refusal);
	if (!err)
		err = parse_fields(&p, w.lim, req, &fr, refusal);
	if (err)
		return starved(err, w, PXD_REFUSAL_HEADERS_TOO_LARGE, refusal);
	req->head_len = (size_t)(p - head);
	req->keep_alive = !fr.close && (req->minor_version == 1 || fr.keep_alive);

	if (req->minor_version == 1 ? fr.nhost != 1 : fr.nhost > 1)
		return refuse(refusal, PXD_REFUSAL_MISSING_HOST);
	if (req->chunked) {
		body_len = parse_chunked(p, end, body_scratch, scratch_cap, req, refusal);
		if (body_len < 0)
			return body_len;
		return p + body_len - buf;
	}
	if (req->has_content_length) {
		if (req->content_length > scratch_cap)
			return refuse(refusal, PXD_REFUSAL_BODY_TOO_LARGE);
		if ((size_t)(end - p) < req->content_length)
			return -EAGAIN;
	} else if (req->method == PXD_HTTP_POST || req->method == PXD_HTTP_PUT) {
		return refuse(refusal, PXD_REFUSAL_LENGTH_REQUIRED);
	}
	req->body = pxd_sv_make(p, req->content_length);
	return p + req->content_length - buf;
}

const struct pxd_http_header *pxd_http_find_header(const struct pxd_http_req *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (pxd_sv_ieq(req->headers[i].name, name))
			return &req->headers[i];
	return NULL;
}
