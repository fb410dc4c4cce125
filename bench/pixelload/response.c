// SPDX-License-Identifier: MIT
/*
 * response.c - pixelload's HTTP/1.x response framing: line assembly across
 * reads, status line, framing headers, fixed-length and chunked bodies.
 */
#include "response.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "compiler.h"

static bool ieq(const char *a, size_t alen, const char *b)
{
	return alen == strlen(b) && !strncasecmp(a, b, alen);
}

static bool has_token(const char *v, size_t len, const char *tok)
{
	size_t tl = strlen(tok);

	for (size_t i = 0; i + tl <= len; i++)
		if (!strncasecmp(v + i, tok, tl) &&
		    (i + tl == len || v[i + tl] == ',' || v[i + tl] == ' ' || v[i + tl] == '\t'))
			return true;
	return false;
}

static int rp_header(struct pl_resp *p)
{
	const char *l = p->line, *colon = memchr(l, ':', p->len);
	const char *v, *end = l + p->len;
	uint64_t n = 0;

	if (!colon || colon == l)
		return -EPROTO;
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (ieq(l, (size_t)(colon - l), "content-length")) {
		if (v == end || end - v > 18)
			return -EPROTO;
		for (const char *d = v; d < end; d++) {
			if (*d < '0' || *d > '9')
				return -EPROTO;
			n = n * 10 + (uint64_t)(*d - '0');
		}
		if (p->has_len && n != p->left)
			return -EPROTO;
		p->has_len = true;
		p->left = n;
	} else if (ieq(l, (size_t)(colon - l), "transfer-encoding")) {
		if (end - v < 7 || strncasecmp(end - 7, "chunked", 7))
			return -EPROTO;
		p->chunked = true;
	} else if (ieq(l, (size_t)(colon - l), "connection")) {
		if (has_token(v, (size_t)(end - v), "close"))
			p->close = true;
	}
	return 0;
}

/* Handles one complete line; sets <*done> when it ends an answer. */
static int rp_line(struct pl_resp *p, bool *done)
{
	const char *l = p->line;
	uint64_t n = 0;
	unsigned i;

	switch (p->state) {
	case PL_RESP_STATUS:
		if (p->len < 12 || memcmp(l, "HTTP/1.", 7) || l[7] < '0' || l[7] > '9' ||
		    l[8] != ' ' || (p->len > 12 && l[12] != ' '))
			return -EPROTO;
		for (i = 9; i < 12; i++) {
			if (l[i] < '0' || l[i] > '9')
				return -EPROTO;
			n = n * 10 + (uint64_t)(l[i] - '0');
		}
		if (n < 100 || n == 101 || n > 599)
			return -EPROTO;
		p->status = (uint16_t)n;
		p->close = p->chunked = p->has_len = false;
		p->left = 0;
		p->state = PL_RESP_HEADER;
		return 0;
	case PL_RESP_HEADER:
		if (p->len) /* a truncated line is no framing header we care about */
			return p->trunc ? 0 : rp_header(p);
		if (p->status < 200)
			p->state = PL_RESP_STATUS; /* interim answer: the real one follows */
		else if (p->status == 204 || p->status == 304 ||
			 (p->has_len && !p->left && !p->chunked))
			*done = true;
		else if (p->chunked)
			p->state = PL_RESP_CHUNK_SIZE;
		else if (p->has_len)
			p->state = PL_RESP_BODY;
		else
			p->state = PL_RESP_BODY_EOF;
		if (p->state == PL_RESP_BODY_EOF)
			p->close = true;
		return 0;
	case PL_RESP_CHUNK_SIZE:
		for (i = 0; i < p->len && l[i] != ';' && l[i] != ' ' && l[i] != '\t'; i++) {
			int d = l[i] >= '0' && l[i] <= '9' ? l[i] - '0'
				: (l[i] | 0x20) >= 'a' && (l[i] | 0x20) <= 'f'
				    ? (l[i] | 0x20) - 'a' + 10
				    : -1;
			if (d < 0 || i >= 15)
				return -EPROTO;
			n = n * 16 + (uint64_t)d;
		}
		if (!i)
			return -EPROTO;
		p->left = n;
		p->state = n ? PL_RESP_CHUNK_DATA : PL_RESP_TRAILER;
		return 0;
	case PL_RESP_CHUNK_END:
		if (p->len)
			return -EPROTO;
		p->state = PL_RESP_CHUNK_SIZE;
		return 0;
	case PL_RESP_TRAILER:
		if (!p->len)
			*done = true;
		return 0;
	default:
		return -EPROTO;
	}
}

ssize_t pl_resp_feed(struct pl_resp *p, const char *buf, size_t len, bool *done)
{
	size_t i = 0;
	int err;

	*done = false;
	while (i < len) {
		if (p->state == PL_RESP_BODY || p->state == PL_RESP_CHUNK_DATA) {
			size_t n = (size_t)PXD_MIN(p->left, (uint64_t)(len - i));

			i += n;
			p->left -= n;
			if (p->left)
				continue;
			if (p->state == PL_RESP_CHUNK_DATA) {
				p->state = PL_RESP_CHUNK_END;
				continue;
			}
			p->state = PL_RESP_STATUS;
			*done = true;
			return (ssize_t)i;
		}
		if (p->state == PL_RESP_BODY_EOF)
			return (ssize_t)len;
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len, n = end - i;
		size_t room = sizeof(p->line) - p->len;

		if (n > room)
			p->trunc = true;
		memcpy(p->line + p->len, buf + i, PXD_MIN(n, room));
		p->len = (uint8_t)(p->len + PXD_MIN(n, room));
		i = nl ? end + 1 : len;
		if (!nl)
			continue;
		if (p->len && p->line[p->len - 1] == '\r')
			p->len--;
		err = rp_line(p, done);
		p->len = 0;
		p->trunc = false;
		if (err)
			return err;
		if (*done) {
			p->state = PL_RESP_STATUS;
			return (ssize_t)i;
		}
	}
	return (ssize_t)i;
}
