// SPDX-License-Identifier: MIT
/*
 * The email token codec: claims to signed base64url text and back, with every
 * limit and the tag checked on the way in, and finding the token in a pixel
 * URL. Verification is the ingest hot path: no allocation, no syscall, any
 * thread.
 */
#include "email_token.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>

#include "email_fields.h"
#include "email_keys.h"

#define RECORD_MIN (1 + 2 + 1 + 2 + 2 + 2 + 4 + 4 + 1 + PXD_EMAIL_TAG_LEN)

static const char *const verdict_names[PXD_EMAIL_VERDICT_COUNT] = {
	[PXD_EMAIL_VERDICT_OK] = "ok",
	[PXD_EMAIL_VERDICT_TOO_LONG] = "too_long",
	[PXD_EMAIL_VERDICT_MALFORMED] = "malformed",
	[PXD_EMAIL_VERDICT_BAD_VERSION] = "bad_version",
	[PXD_EMAIL_VERDICT_UNKNOWN_KEY] = "unknown_key",
	[PXD_EMAIL_VERDICT_BAD_SIGNATURE] = "bad_signature",
	[PXD_EMAIL_VERDICT_EXPIRED] = "expired",
	[PXD_EMAIL_VERDICT_NOT_YET_VALID] = "not_yet_valid",
};

const char *pxd_email_verdict_name(enum pxd_email_verdict v)
{
	return (unsigned)v < PXD_EMAIL_VERDICT_COUNT ? verdict_names[v] : "unknown";
}

/* --- base64url, canonical, no padding (RFC 4648 §5) -------------------- */

static const char b64_alphabet[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

static void b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*out++ = b64_alphabet[v >> 18];
		*out++ = b64_alphabet[(v >> 12) & 63];
		*out++ = b64_alphabet[(v >> 6) & 63];
		*out++ = b64_alphabet[v & 63];
	}
	if (n - i == 1) {
		*out++ = b64_alphabet[in[i] >> 2];
		*out++ = b64_alphabet[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];

		*out++ = b64_alphabet[v >> 10];
		*out++ = b64_alphabet[(v >> 4) & 63];
		*out++ = b64_alphabet[(v & 15) << 2];
	}
	*out = '\0';
}

/* Returns the 6-bit value of a base64url character, or 64 for any other byte. */
static unsigned b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-')
		return 62;
	if (ch == '_')
		return 63;
	return 64;
}

/*
 * Decodes <s> into <out> (room for s.n * 3 / 4 bytes). Returns the byte
 * count, or -EINVAL for a byte outside the alphabet, a length of 4k+1, or
 * unused low bits in the last character that are not zero: each byte string
 * has exactly one accepted text, so no two URLs count as the same token.
 */
static ssize_t b64_decode(struct pxd_sv s, uint8_t *out)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (s.n % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < s.n; i++) {
		unsigned v = b64_value(p[i]);

		if (v == 64)
			return -EINVAL;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (acc & ((1u << bits) - 1))
		return -EINVAL;
	return (ssize_t)n;
}

/* --- the record -------------------------------------------------------- */

static uint8_t *put_str(uint8_t *p, struct pxd_sv s)
{
	*p++ = (uint8_t)s.n;
	if (s.n)
		memcpy(p, s.p, s.n);
	return p + s.n;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

ssize_t pxd_email_token_encode(const struct pxd_email_keys *ring, const struct pxd_email_claims *c,
			       char *out, size_t cap, enum pxd_email_field *bad)
{
	uint8_t rec[PXD_EMAIL_TOKEN_BYTES_MAX];
	const struct pxd_email_key *k = &ring->key[0];
	enum pxd_email_field f = pxd_email_claims_check(c);
	uint8_t *p = rec;
	size_t n;

	if (bad)
		*bad = f;
	if (!ring->n)
		return -ENOKEY;
	if (f != PXD_EMAIL_FIELD_NONE)
		return -EINVAL;
	*p++ = PXD_EMAIL_TOKEN_VERSION;
	p = put_str(p, pxd_sv_make(k->kid, k->kid_len));
	p = put_str(p, c->tenant);
	p = put_str(p, c->campaign);
	p = put_str(p, c->message);
	p = put_str(p, c->recipient);
	p = put_u32(p, c->issued_at);
	p = put_u32(p, c->expires_at);
	*p++ = (uint8_t)c->nmeta;
	for (size_t i = 0; i < c->nmeta; i++) {
		p = put_str(p, c->meta[i].key);
		p = put_str(p, c->meta[i].value);
	}
	pxd_email_key_tag(k, rec, (size_t)(p - rec), p);
	n = (size_t)(p - rec) + PXD_EMAIL_TAG_LEN;
	if (cap < b64_len(n) + 1)
		return -ENOSPC;
	b64_encode(rec, n, out);
	return (ssize_t)b64_len(n);
}

struct cursor {
	const uint8_t *p;
	size_t n;
};

static bool take_str(struct cursor *c, size_t min, size_t max, enum pxd_email_chars cls,
		     struct pxd_sv *out)
{
	size_t len;

	if (c->n < 1)
		return false;
	len = c->p[0];
	if (c->n - 1 < len)
		return false;
	*out = pxd_sv_make((const char *)c->p + 1, len);
	c->p += 1 + len;
	c->n -= 1 + len;
	return pxd_email_str_ok(*out, min, max, cls);
}

static bool take_u32(struct cursor *c, uint32_t *v)
{
	if (c->n < 4)
		return false;
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	c->n -= 4;
	return true;
}

/* Parses the <n> record bytes in tok->_raw; false when any limit is broken. */
static bool record_parse(struct pxd_email_token *tok, size_t n)
{
	struct pxd_email_claims *c = &tok->c;
	struct cursor cur = { tok->_raw + 1, n - 1 - PXD_EMAIL_TAG_LEN };

	if (!take_str(&cur, 1, PXD_EMAIL_KID_MAX, PXD_EMAIL_CHARS_ID, &tok->kid) ||
	    !take_str(&cur, 0, PXD_EMAIL_TENANT_MAX, PXD_EMAIL_CHARS_NAME, &c->tenant) ||
	    !take_str(&cur, 1, PXD_EMAIL_CAMPAIGN_MAX, PXD_EMAIL_CHARS_TEXT, &c->campaign) ||
	    !take_str(&cur, 1, PXD_EMAIL_MESSAGE_MAX, PXD_EMAIL_CHARS_TEXT, &c->message) ||
	    !take_str(&cur, 1, PXD_EMAIL_RECIPIENT_MAX, PXD_EMAIL_CHARS_TEXT, &c->recipient) ||
	    !take_u32(&cur, &c->issued_at) || !take_u32(&cur, &c->expires_at) || cur.n < 1)
		return false;
	c->nmeta = *cur.p++;
	cur.n--;
	if (c->nmeta > PXD_EMAIL_META_MAX)
		return false;
	for (size_t i = 0; i < c->nmeta; i++) {
		if (!take_str(&cur, 1, PXD_EMAIL_META_KEY_MAX, PXD_EMAIL_CHARS_NAME,
			      &c->meta[i].key) ||
		    !take_str(&cur, 0, PXD_EMAIL_META_VALUE_MAX, PXD_EMAIL_CHARS_TEXT,
			      &c->meta[i].value))
			return false;
	}
	return cur.n == 0 && pxd_email_times_ok(c->issued_at, c->expires_at) &&
	       pxd_email_meta_ok(c->meta, c->nmeta);
}

enum pxd_email_verdict pxd_email_token_verify(const struct pxd_email_keys *ring, struct pxd_sv text,
					      int64_t now_s, struct pxd_email_token *out)
{
	const struct pxd_email_key *k;
	uint8_t tag[PXD_EMAIL_TAG_LEN];
	ssize_t n;

	if (text.n > PXD_EMAIL_TOKEN_TEXT_MAX)
		return PXD_EMAIL_VERDICT_TOO_LONG;
	n = b64_decode(text, out->_raw);
	if (n < RECORD_MIN)
		return PXD_EMAIL_VERDICT_MALFORMED;
	out->version = out->_raw[0];
	if (out->version != PXD_EMAIL_TOKEN_VERSION)
		return PXD_EMAIL_VERDICT_BAD_VERSION;
	if (!record_parse(out, (size_t)n))
		return PXD_EMAIL_VERDICT_MALFORMED;
	k = pxd_email_key_find(ring, out->kid);
	if (!k)
		return PXD_EMAIL_VERDICT_UNKNOWN_KEY;
	pxd_email_key_tag(k, out->_raw, (size_t)n - PXD_EMAIL_TAG_LEN, tag);
	if (CRYPTO_memcmp(tag, out->_raw + n - PXD_EMAIL_TAG_LEN, PXD_EMAIL_TAG_LEN) != 0)
		return PXD_EMAIL_VERDICT_BAD_SIGNATURE;
	if (now_s >= (int64_t)out->c.expires_at)
		return PXD_EMAIL_VERDICT_EXPIRED;
	if ((int64_t)out->c.issued_at > now_s + PXD_EMAIL_SKEW_S)
		return PXD_EMAIL_VERDICT_NOT_YET_VALID;
	return PXD_EMAIL_VERDICT_OK;
}

struct pxd_sv pxd_email_token_find(struct pxd_sv s)
{
	bool in_path = false;
	size_t n;

	/* The token follows the last "/o/" and ends at the query or fragment. */
	for (size_t i = s.n; i >= 3; i--) {
		if (memcmp(s.p + i - 3, "/o/", 3) == 0) {
			s = pxd_sv_make(s.p + i, s.n - i);
			in_path = true;
			break;
		}
	}
	for (n = 0; n < s.n && s.p[n] != '?' && s.p[n] != '#'; n++)
		;
	s.n = n;
	if (s.n >= 4 && memcmp(s.p + s.n - 4, ".gif", 4) == 0)
		s.n -= 4;
	else if (in_path)
		return PXD_SV_NULL;
	for (n = 0; n < s.n && b64_value((unsigned char)s.p[n]) < 64; n++)
		;
	return n == s.n ? s : PXD_SV_NULL;
}
