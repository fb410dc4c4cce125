// SPDX-License-Identifier: MIT
#include "email_token.h"

/* For SHA256_Init() and friends: see tag_compute(). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler.h"
#include "jsonw.h"

#define HMAC_BLOCK 64
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

static const struct {
	const char *name;
	const char *rule;
} fields[PXD_EMAIL_FIELD_COUNT] = {
	[PXD_EMAIL_FIELD_NONE] = { "", "" },
	[PXD_EMAIL_FIELD_TENANT] = { "tenant", "0..63 characters of A-Z a-z 0-9 . _ -" },
	[PXD_EMAIL_FIELD_CAMPAIGN] = { "campaign", "1..64 printable ASCII characters" },
	[PXD_EMAIL_FIELD_MESSAGE] = { "message", "1..128 printable ASCII characters" },
	[PXD_EMAIL_FIELD_RECIPIENT] = { "recipient", "1..128 printable ASCII characters" },
	[PXD_EMAIL_FIELD_TTL] = { "ttl", "a duration from 1s to 3650d, e.g. 400d" },
	[PXD_EMAIL_FIELD_META] = { "meta", "at most 8 unique keys of 1..32 characters of "
					   "A-Z a-z 0-9 . _ -, values of 0..128 printable ASCII "
					   "characters, 256 bytes in all" },
};

const char *pxd_email_verdict_name(enum pxd_email_verdict v)
{
	return (unsigned)v < PXD_EMAIL_VERDICT_COUNT ? verdict_names[v] : "unknown";
}

const char *pxd_email_field_name(enum pxd_email_field f)
{
	return (unsigned)f < PXD_EMAIL_FIELD_COUNT ? fields[f].name : "unknown";
}

const char *pxd_email_field_rule(enum pxd_email_field f)
{
	return (unsigned)f < PXD_EMAIL_FIELD_COUNT ? fields[f].rule : "";
}

/* --- field rules, shared by encoding and decoding ---------------------- */

enum cls {
	CLS_ID = 0, /* key ids: [A-Za-z0-9_-] */
	CLS_NAME,   /* tenants, metadata keys: [A-Za-z0-9._-] */
	CLS_TEXT,   /* ids and values: printable ASCII 0x20..0x7e */
};

static bool char_ok(unsigned char ch, enum cls cls)
{
	if (cls == CLS_TEXT)
		return ch >= 0x20 && ch <= 0x7e;
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || (cls == CLS_NAME && ch == '.');
}

static bool str_ok(struct pxd_sv s, size_t min, size_t max, enum cls cls)
{
	if (s.n < min || s.n > max)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (!char_ok((unsigned char)s.p[i], cls))
			return false;
	}
	return true;
}

static bool times_ok(uint32_t issued, uint32_t expires)
{
	return issued >= PXD_EMAIL_ISSUED_MIN && expires > issued &&
	       expires - issued <= PXD_EMAIL_TTL_MAX_S;
}

static bool meta_ok(const struct pxd_email_meta *m, size_t n)
{
	size_t bytes = 0;

	if (n > PXD_EMAIL_META_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!str_ok(m[i].key, 1, PXD_EMAIL_META_KEY_MAX, CLS_NAME) ||
		    !str_ok(m[i].value, 0, PXD_EMAIL_META_VALUE_MAX, CLS_TEXT))
			return false;
		for (size_t j = 0; j < i; j++) {
			if (pxd_sv_eq(m[i].key, m[j].key))
				return false;
		}
		bytes += 2 + m[i].key.n + m[i].value.n;
	}
	return bytes <= PXD_EMAIL_META_BYTES_MAX;
}

static enum pxd_email_field claims_check(const struct pxd_email_claims *c)
{
	if (!str_ok(c->tenant, 0, PXD_EMAIL_TENANT_MAX, CLS_NAME))
		return PXD_EMAIL_FIELD_TENANT;
	if (!str_ok(c->campaign, 1, PXD_EMAIL_CAMPAIGN_MAX, CLS_TEXT))
		return PXD_EMAIL_FIELD_CAMPAIGN;
	if (!str_ok(c->message, 1, PXD_EMAIL_MESSAGE_MAX, CLS_TEXT))
		return PXD_EMAIL_FIELD_MESSAGE;
	if (!str_ok(c->recipient, 1, PXD_EMAIL_RECIPIENT_MAX, CLS_TEXT))
		return PXD_EMAIL_FIELD_RECIPIENT;
	if (!times_ok(c->issued_at, c->expires_at))
		return PXD_EMAIL_FIELD_TTL;
	if (!meta_ok(c->meta, c->nmeta))
		return PXD_EMAIL_FIELD_META;
	return PXD_EMAIL_FIELD_NONE;
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

/* --- keys and tags ----------------------------------------------------- */

/*
 * HMAC-SHA256 (RFC 2104) from the key's pad blocks, first 16 bytes. This
 * uses SHA256_Init/Update/Final, deprecated in OpenSSL 3, because the other
 * ways allocate on every call: HMAC() and EVP_MAC build a context, and even
 * the one-shot SHA256() fetches the algorithm (3 allocations per call on
 * OpenSSL 3.0, counted by test_verify_allocates_nothing). The endpoint
 * verifies per request, so it may neither allocate nor take the provider lock.
 */
static void tag_compute(const struct pxd_email_key *k, const uint8_t *msg, size_t n,
			uint8_t tag[PXD_EMAIL_TAG_LEN])
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, k->ipad, HMAC_BLOCK);
	SHA256_Update(&c, msg, n);
	SHA256_Final(md, &c);
	SHA256_Init(&c);
	SHA256_Update(&c, k->opad, HMAC_BLOCK);
	SHA256_Update(&c, md, sizeof(md));
	SHA256_Final(md, &c);
	memcpy(tag, md, PXD_EMAIL_TAG_LEN);
	OPENSSL_cleanse(&c, sizeof(c));
}

int pxd_email_keys_add(struct pxd_email_keys *ring, struct pxd_sv kid, const void *secret,
		       size_t len)
{
	struct pxd_email_key *k;
	uint8_t block[HMAC_BLOCK] = { 0 };

	if (!str_ok(kid, 1, PXD_EMAIL_KID_MAX, CLS_ID) || len < PXD_EMAIL_SECRET_MIN ||
	    len > PXD_EMAIL_SECRET_MAX)
		return -EINVAL;
	for (size_t i = 0; i < ring->n; i++) {
		if (pxd_sv_eq(kid, pxd_sv_make(ring->key[i].kid, ring->key[i].kid_len)))
			return -EEXIST;
	}
	if (ring->n == ARRAY_SIZE(ring->key))
		return -ENOSPC;
	k = &ring->key[ring->n++];
	memcpy(k->kid, kid.p, kid.n);
	k->kid[kid.n] = '\0';
	k->kid_len = (uint8_t)kid.n;
	/* RFC 2104 §2: a key longer than the block is hashed first. */
	if (len > HMAC_BLOCK)
		SHA256(secret, len, block);
	else
		memcpy(block, secret, len);
	for (size_t i = 0; i < HMAC_BLOCK; i++) {
		k->ipad[i] = block[i] ^ 0x36;
		k->opad[i] = block[i] ^ 0x5c;
	}
	OPENSSL_cleanse(block, sizeof(block));
	return 0;
}

void pxd_email_keys_wipe(struct pxd_email_keys *ring)
{
	OPENSSL_cleanse(ring, sizeof(*ring));
}

/*
 * Reads the secret in <path> into <buf>: the file's bytes less one trailing
 * newline. Checks the mode on the open descriptor, so the file checked is the
 * file read. pxd_conf_secret() is not used because it hands back a C string,
 * and a key file may hold any bytes.
 */
static int secret_read(const char *kid, const char *path, uint8_t *buf, size_t *len, char *err,
		       size_t errlen)
{
	struct stat st;
	size_t n = 0;
	int fd;
	int ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "email.keys: key %s: cannot open %s: %s", kid, path,
			 strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "email.keys: key %s: cannot stat %s: %s", kid, path,
			 strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		ret = S_ISREG(st.st_mode) ? -EPERM : -EINVAL;
		snprintf(err, errlen,
			 "email.keys: key %s: %s is %s; run chmod 600 on a regular file owned by "
			 "pixeld's user",
			 kid, path,
			 S_ISREG(st.st_mode) ? "readable by group or others" : "not a file");
		goto out;
	}
	/* Reads one byte past the limit so an oversized file is seen as such. */
	while (n < PXD_EMAIL_SECRET_MAX + 2) {
		ssize_t r = read(fd, buf + n, PXD_EMAIL_SECRET_MAX + 2 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			snprintf(err, errlen, "email.keys: key %s: cannot read %s: %s", kid, path,
				 strerror(-ret));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n && buf[n - 1] == '\n')
		n--;
	if (n < PXD_EMAIL_SECRET_MIN || n > PXD_EMAIL_SECRET_MAX) {
		ret = -EINVAL;
		snprintf(err, errlen,
			 "email.keys: key %s: %s holds %zu bytes, not %d..%d; make one with "
			 "openssl rand -hex 32 > %s",
			 kid, path, n, PXD_EMAIL_SECRET_MIN, PXD_EMAIL_SECRET_MAX, path);
	}
	*len = n;
out:
	close(fd);
	return ret;
}

int pxd_email_keys_load(struct pxd_email_keys *ring, const struct pxd_conf_email *conf, char *err,
			size_t errlen)
{
	uint8_t secret[PXD_EMAIL_SECRET_MAX + 2];
	size_t len = 0;
	int ret = 0;

	memset(ring, 0, sizeof(*ring));
	for (size_t i = 0; i < conf->nkeys && !ret; i++) {
		const struct pxd_conf_email_key *ck = &conf->keys[i];

		ret = secret_read(ck->kid, ck->path, secret, &len, err, errlen);
		if (ret)
			break;
		ret = pxd_email_keys_add(ring, pxd_sv_cstr(ck->kid), secret, len);
		if (ret)
			snprintf(err, errlen, "email.keys: key %s: %s; check the key id", ck->kid,
				 strerror(-ret));
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	if (ret)
		pxd_email_keys_wipe(ring);
	return ret;
}

static const struct pxd_email_key *key_find(const struct pxd_email_keys *ring, struct pxd_sv kid)
{
	for (size_t i = 0; i < ring->n; i++) {
		if (pxd_sv_eq(kid, pxd_sv_make(ring->key[i].kid, ring->key[i].kid_len)))
			return &ring->key[i];
	}
	return NULL;
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
	enum pxd_email_field f = claims_check(c);
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
	tag_compute(k, rec, (size_t)(p - rec), p);
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

static bool take_str(struct cursor *c, size_t min, size_t max, enum cls cls, struct pxd_sv *out)
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
	return str_ok(*out, min, max, cls);
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

	if (!take_str(&cur, 1, PXD_EMAIL_KID_MAX, CLS_ID, &tok->kid) ||
	    !take_str(&cur, 0, PXD_EMAIL_TENANT_MAX, CLS_NAME, &c->tenant) ||
	    !take_str(&cur, 1, PXD_EMAIL_CAMPAIGN_MAX, CLS_TEXT, &c->campaign) ||
	    !take_str(&cur, 1, PXD_EMAIL_MESSAGE_MAX, CLS_TEXT, &c->message) ||
	    !take_str(&cur, 1, PXD_EMAIL_RECIPIENT_MAX, CLS_TEXT, &c->recipient) ||
	    !take_u32(&cur, &c->issued_at) || !take_u32(&cur, &c->expires_at) || cur.n < 1)
		return false;
	c->nmeta = *cur.p++;
	cur.n--;
	if (c->nmeta > PXD_EMAIL_META_MAX)
		return false;
	for (size_t i = 0; i < c->nmeta; i++) {
		if (!take_str(&cur, 1, PXD_EMAIL_META_KEY_MAX, CLS_NAME, &c->meta[i].key) ||
		    !take_str(&cur, 0, PXD_EMAIL_META_VALUE_MAX, CLS_TEXT, &c->meta[i].value))
			return false;
	}
	return cur.n == 0 && times_ok(c->issued_at, c->expires_at) && meta_ok(c->meta, c->nmeta);
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
	k = key_find(ring, out->kid);
	if (!k)
		return PXD_EMAIL_VERDICT_UNKNOWN_KEY;
	tag_compute(k, out->_raw, (size_t)n - PXD_EMAIL_TAG_LEN, tag);
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

/* --- minting ----------------------------------------------------------- */

int pxd_email_token_mint(const struct pxd_email_keys *ring, const struct pxd_email_claims *c,
			 const char *base_url, bool html, struct pxd_buf *out,
			 enum pxd_email_field *bad)
{
	char tok[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	ssize_t n = pxd_email_token_encode(ring, c, tok, sizeof(tok), bad);

	if (n < 0)
		return (int)n;
	if (html)
		return pxd_buf_printf(out,
				      "<img src=\"%s/o/%s.gif\" width=\"1\" height=\"1\" alt=\"\" "
				      "style=\"display:none\">",
				      base_url, tok);
	return pxd_buf_printf(out, "%s/o/%s.gif", base_url, tok);
}

/* What a mint request got wrong, for the error answer. */
struct mint_err {
	size_t index;
	const char *field;
	char detail[320];
};

static int mint_fail(struct mint_err *e, const char *field, const char *what, const char *rule)
{
	e->field = field;
	snprintf(e->detail, sizeof(e->detail), "%s%s%s", what, rule[0] ? "; " : "", rule);
	return -EINVAL;
}

static bool json_sv(const json_t *v, struct pxd_sv *out)
{
	if (!json_is_string(v))
		return false;
	*out = pxd_sv_make(json_string_value(v), json_string_length(v));
	return true;
}

static int ttl_from_json(const json_t *v, uint32_t *ttl)
{
	json_int_t i;

	if (json_is_string(v))
		return pxd_conf_email_duration_parse(json_string_value(v), ttl) || *ttl == 0
			   ? -EINVAL
			   : 0;
	if (!json_is_integer(v))
		return -EINVAL;
	i = json_integer_value(v);
	if (i < 1 || i > (json_int_t)PXD_EMAIL_TTL_MAX_S)
		return -EINVAL;
	*ttl = (uint32_t)i;
	return 0;
}

static int meta_from_json(json_t *v, struct pxd_email_claims *c, struct mint_err *e)
{
	const char *rule = pxd_email_field_rule(PXD_EMAIL_FIELD_META);

	if (!json_is_object(v))
		return mint_fail(e, "meta", "must be an object of strings", rule);
	if (json_object_size(v) > PXD_EMAIL_META_MAX)
		return mint_fail(e, "meta", "too many keys", rule);
	for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
		struct pxd_email_meta *m = &c->meta[c->nmeta++];

		m->key = pxd_sv_make(json_object_iter_key(it), json_object_iter_key_len(it));
		if (!json_sv(json_object_iter_value(it), &m->value))
			return mint_fail(e, "meta", "values must be strings", rule);
	}
	return 0;
}

/* Fills <c> from one request object <o>; on error fills <e>. */
static int claims_from_json(json_t *o, const struct pxd_email_mint *opts,
			    struct pxd_email_claims *c, struct mint_err *e)
{
	static const struct {
		const char *name;
		size_t off;
		enum pxd_email_field f;
	} strs[] = {
		{ "campaign", offsetof(struct pxd_email_claims, campaign),
		  PXD_EMAIL_FIELD_CAMPAIGN },
		{ "message", offsetof(struct pxd_email_claims, message), PXD_EMAIL_FIELD_MESSAGE },
		{ "recipient", offsetof(struct pxd_email_claims, recipient),
		  PXD_EMAIL_FIELD_RECIPIENT },
		{ "tenant", offsetof(struct pxd_email_claims, tenant), PXD_EMAIL_FIELD_TENANT },
	};
	uint32_t ttl = opts->default_ttl_s;
	int ret;

	memset(c, 0, sizeof(*c));
	c->tenant = opts->tenant;
	if (!json_is_object(o))
		return mint_fail(e, "", "each request must be a JSON object", "");
	for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
		struct pxd_sv key =
		    pxd_sv_make(json_object_iter_key(it), json_object_iter_key_len(it));
		json_t *v = json_object_iter_value(it);
		size_t i = 0;

		while (i < ARRAY_SIZE(strs) && !pxd_sv_eq_lit(key, strs[i].name))
			i++;
		if (i < ARRAY_SIZE(strs)) {
			if (!json_sv(v, (struct pxd_sv *)((char *)c + strs[i].off)))
				return mint_fail(e, strs[i].name, "must be a string",
						 pxd_email_field_rule(strs[i].f));
		} else if (pxd_sv_eq_lit(key, "ttl")) {
			if (ttl_from_json(v, &ttl))
				return mint_fail(e, "ttl", "not a lifetime",
						 pxd_email_field_rule(PXD_EMAIL_FIELD_TTL));
		} else if (pxd_sv_eq_lit(key, "meta")) {
			ret = meta_from_json(v, c, e);
			if (ret)
				return ret;
		} else {
			return mint_fail(e, json_object_iter_key(it),
					 "unknown field; the fields are campaign, message, "
					 "recipient, ttl, tenant, meta",
					 "");
		}
	}
	for (size_t i = 0; i < 3; i++) {
		if (!json_object_get(o, strs[i].name))
			return mint_fail(e, strs[i].name, "missing",
					 pxd_email_field_rule(strs[i].f));
	}
	c->issued_at = opts->now_s;
	if ((uint64_t)opts->now_s + ttl > UINT32_MAX)
		return mint_fail(e, "ttl", "ends after 2106",
				 pxd_email_field_rule(PXD_EMAIL_FIELD_TTL));
	c->expires_at = opts->now_s + ttl;
	return 0;
}

/* Mints one request object into <url> and, if wanted, <html>. */
static int mint_one(const struct pxd_email_keys *ring, json_t *o, const struct pxd_email_mint *opts,
		    struct pxd_buf *url, struct pxd_buf *html, struct mint_err *e)
{
	struct pxd_email_claims c;
	enum pxd_email_field bad = PXD_EMAIL_FIELD_NONE;
	int ret = claims_from_json(o, opts, &c, e);

	if (ret)
		return ret;
	url->len = 0;
	ret = pxd_email_token_mint(ring, &c, opts->base_url, false, url, &bad);
	if (!ret && html) {
		html->len = 0;
		ret = pxd_email_token_mint(ring, &c, opts->base_url, true, html, &bad);
	}
	if (ret == -EINVAL)
		return mint_fail(e, pxd_email_field_name(bad), "out of limits",
				 pxd_email_field_rule(bad));
	return ret;
}

static int dump_to_buf(const char *p, size_t n, void *data)
{
	return pxd_buf_append(data, p, n) ? -1 : 0;
}

int pxd_email_token_mint_json(const struct pxd_email_keys *ring, const json_t *req,
			      const struct pxd_email_mint *opts, struct pxd_buf *out)
{
	/* jansson's getters take non-const pointers but do not write. */
	json_t *in = (json_t *)req;
	struct mint_err e = { 0, "", "" };
	struct pxd_buf url = { 0 };
	struct pxd_buf html = { 0 };
	json_t *resp = NULL;
	json_t *urls = NULL;
	size_t start = out->len;
	size_t n = json_is_array(in) ? json_array_size(in) : 1;
	int ret = 0;

	if (!ring->n) {
		ret = -ENOKEY;
		goto out;
	}
	if (!opts->base_url || !opts->base_url[0]) {
		ret = -EDESTADDRREQ;
		goto out;
	}
	if (!json_is_array(in)) {
		ret = mint_one(ring, in, opts, &url, &html, &e);
		if (!ret)
			resp = json_pack("{s:s%, s:s%}", "url", url.p, url.len, "html", html.p,
					 html.len);
		goto out;
	}
	if (n == 0 || n > PXD_EMAIL_MINT_BATCH_MAX) {
		ret = n ? -E2BIG : -EINVAL;
		snprintf(e.detail, sizeof(e.detail), "send 1..%d objects per request, not %zu",
			 PXD_EMAIL_MINT_BATCH_MAX, n);
		goto out;
	}
	urls = json_array();
	if (!urls) {
		ret = -ENOMEM;
		goto out;
	}
	for (e.index = 0; e.index < n; e.index++) {
		ret = mint_one(ring, json_array_get(in, e.index), opts, &url, NULL, &e);
		if (!ret && json_array_append_new(urls, json_stringn(url.p, url.len)))
			ret = -ENOMEM;
		if (ret)
			goto out;
	}
	resp = json_pack("{s:O}", "urls", urls);
out:
	if (ret == -ENOKEY)
		resp = json_pack("{s:s, s:s}", "error", "no_signing_key", "detail",
				 "set email.keys in the configuration and restart pixeld");
	else if (ret == -EDESTADDRREQ)
		resp = json_pack("{s:s, s:s}", "error", "no_base_url", "detail",
				 "set email.base_url in the configuration and restart pixeld");
	else if (ret && ret != -ENOMEM)
		resp = json_pack("{s:s, s:I, s:s, s:s}", "error", "bad_request", "index",
				 (json_int_t)e.index, "field", e.field, "detail", e.detail);
	if (!resp || json_dump_callback(resp, dump_to_buf, out, JSON_COMPACT)) {
		ret = -ENOMEM;
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
	}
	json_decref(resp);
	json_decref(urls);
	pxd_buf_free(&url);
	pxd_buf_free(&html);
	return ret;
}

/* --- EmailOpen props --------------------------------------------------- */

static void jsonw_sv(struct pxd_jsonw *w, const char *key, struct pxd_sv v)
{
	pxd_jsonw_key(w, key, strlen(key));
	pxd_jsonw_string(w, v.p, v.n);
}

ssize_t pxd_email_open_props_json(const struct pxd_email_token *tok, enum pxd_open_kind kind,
				  bool first_open, char *out, size_t cap)
{
	const char *kname = pxd_mail_proxy_kind_name(kind);
	struct pxd_jsonw w;

	pxd_jsonw_init(&w, out, cap);
	pxd_jsonw_object_begin(&w);
	jsonw_sv(&w, "campaign", tok->c.campaign);
	jsonw_sv(&w, "message", tok->c.message);
	jsonw_sv(&w, "recipient", tok->c.recipient);
	pxd_jsonw_key(&w, "meta", 4);
	pxd_jsonw_object_begin(&w);
	for (size_t i = 0; i < tok->c.nmeta; i++) {
		pxd_jsonw_key(&w, tok->c.meta[i].key.p, tok->c.meta[i].key.n);
		pxd_jsonw_string(&w, tok->c.meta[i].value.p, tok->c.meta[i].value.n);
	}
	pxd_jsonw_object_end(&w);
	jsonw_sv(&w, "open_kind", pxd_sv_cstr(kname));
	pxd_jsonw_key(&w, "first_open", 10);
	pxd_jsonw_bool(&w, first_open);
	pxd_jsonw_object_end(&w);
	return pxd_jsonw_finish(&w);
}
