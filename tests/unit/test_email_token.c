// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "email_token.h"

#define NOW 1750000000u /* 2025-06-15 */
#define SECRET1 "0123456789abcdef0123456789abcdef-key-one"
#define SECRET2 "fedcba9876543210fedcba9876543210-key-two"

/* OpenSSL's allocations, counted to show that verifying makes none. */
static size_t ossl_allocs;

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

struct fixture {
	struct pxd_email_keys ring; /* k1 only */
	struct pxd_email_claims c;
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	size_t len;
};

static void claims_init(struct pxd_email_claims *c)
{
	memset(c, 0, sizeof(*c));
	c->tenant = PXD_SV("acme");
	c->campaign = PXD_SV("summer-sale");
	c->message = PXD_SV("<msg-42@mail.example>");
	c->recipient = PXD_SV("9f86d081884c7d659a2feaa0c55ad015");
	c->issued_at = NOW;
	c->expires_at = NOW + 400 * 86400;
	c->meta[0] = (struct pxd_email_meta){ PXD_SV("variant"), PXD_SV("B") };
	c->meta[1] = (struct pxd_email_meta){ PXD_SV("list"), PXD_SV("vip customers") };
	c->nmeta = 2;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	ssize_t n;

	assert_non_null(f);
	assert_int_equal(pxd_email_keys_add(&f->ring, PXD_SV("k1"), SECRET1, strlen(SECRET1)), 0);
	claims_init(&f->c);
	n = pxd_email_token_encode(&f->ring, &f->c, f->text, sizeof(f->text), NULL);
	assert_true(n > 0);
	f->len = (size_t)n;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static enum pxd_email_verdict verify_at(const struct pxd_email_keys *ring, const char *text,
					size_t len, int64_t now)
{
	struct pxd_email_token tok;

	return pxd_email_token_verify(ring, pxd_sv_make(text, len), now, &tok);
}

/* An independent base64url codec (OpenSSL's base64 with the URL alphabet). */
static size_t ref_decode(const char *text, size_t len, uint8_t *out)
{
	char buf[PXD_EMAIL_TOKEN_TEXT_MAX + 4];
	size_t pad = (4 - len % 4) % 4;
	uint8_t tmp[PXD_EMAIL_TOKEN_BYTES_MAX + 3];
	int n;

	for (size_t i = 0; i < len; i++)
		buf[i] = text[i] == '-' ? '+' : (text[i] == '_' ? '/' : text[i]);
	memset(buf + len, '=', pad);
	n = EVP_DecodeBlock(tmp, (const unsigned char *)buf, (int)(len + pad));
	assert_true(n >= 0);
	memcpy(out, tmp, (size_t)n - pad);
	return (size_t)n - pad;
}

static size_t ref_encode(const uint8_t *in, size_t n, char *out)
{
	char buf[PXD_EMAIL_TOKEN_TEXT_MAX + 8];
	int len = EVP_EncodeBlock((unsigned char *)buf, in, (int)n);

	while (len && buf[len - 1] == '=')
		len--;
	for (int i = 0; i < len; i++)
		out[i] = buf[i] == '+' ? '-' : (buf[i] == '/' ? '_' : buf[i]);
	out[len] = '\0';
	return (size_t)len;
}

static void assert_sv(struct pxd_sv got, struct pxd_sv want)
{
	assert_int_equal(got.n, want.n);
	assert_memory_equal(got.p, want.p, want.n);
}

static void test_round_trip_gives_back_every_field(void **state)
{
	struct fixture *f = *state;
	struct pxd_email_token tok;

	assert_int_equal(strlen(f->text), f->len);
	assert_int_equal(
	    pxd_email_token_verify(&f->ring, pxd_sv_make(f->text, f->len), NOW + 60, &tok),
	    PXD_EMAIL_VERDICT_OK);
	assert_int_equal(tok.version, 1);
	assert_sv(tok.kid, PXD_SV("k1"));
	assert_sv(tok.c.tenant, f->c.tenant);
	assert_sv(tok.c.campaign, f->c.campaign);
	assert_sv(tok.c.message, f->c.message);
	assert_sv(tok.c.recipient, f->c.recipient);
	assert_int_equal(tok.c.issued_at, NOW);
	assert_int_equal(tok.c.expires_at, NOW + 400 * 86400);
	assert_int_equal(tok.c.nmeta, 2);
	assert_sv(tok.c.meta[1].key, PXD_SV("list"));
	assert_sv(tok.c.meta[1].value, PXD_SV("vip customers"));
	for (size_t i = 0; i < f->len; i++)
		assert_non_null(
		    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
			   f->text[i]));
}

static void test_layout_and_tag_match_the_documented_record(void **state)
{
	struct fixture *f = *state;
	uint8_t rec[PXD_EMAIL_TOKEN_BYTES_MAX];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t n = ref_decode(f->text, f->len, rec);
	static const uint8_t head[] = { 1, 2, 'k', '1', 4, 'a', 'c', 'm', 'e', 11, 's', 'u' };

	assert_memory_equal(rec, head, sizeof(head));
	/* issued-at big-endian right after the recipient */
	{
		size_t off = 1 + 3 + 5 + 12 + 1 + 21 + 1 + 32;

		assert_int_equal(rec[off], (NOW >> 24) & 0xff);
		assert_int_equal(rec[off + 3], NOW & 0xff);
		assert_int_equal(rec[off + 8], 2); /* metadata pairs */
	}
	/* The tag is OpenSSL's HMAC-SHA256 over everything before it, cut to 16 bytes. */
	HMAC(EVP_sha256(), SECRET1, (int)strlen(SECRET1), rec, n - 16, md, &mdlen);
	assert_int_equal(mdlen, 32);
	assert_memory_equal(rec + n - 16, md, 16);
}

static void test_long_secret_is_hashed_as_rfc2104_says(void **state)
{
	struct pxd_email_keys ring = { 0 };
	struct pxd_email_claims c;
	char secret[200];
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	uint8_t rec[PXD_EMAIL_TOKEN_BYTES_MAX];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	ssize_t len;
	size_t n;

	(void)state;
	memset(secret, 'x', sizeof(secret));
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("long"), secret, sizeof(secret)), 0);
	claims_init(&c);
	len = pxd_email_token_encode(&ring, &c, text, sizeof(text), NULL);
	assert_true(len > 0);
	n = ref_decode(text, (size_t)len, rec);
	HMAC(EVP_sha256(), secret, sizeof(secret), rec, n - 16, md, &mdlen);
	assert_memory_equal(rec + n - 16, md, 16);
	assert_int_equal(verify_at(&ring, text, (size_t)len, NOW), PXD_EMAIL_VERDICT_OK);
}

static void test_every_bit_flip_of_the_bytes_is_rejected(void **state)
{
	struct fixture *f = *state;
	uint8_t rec[PXD_EMAIL_TOKEN_BYTES_MAX];
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	size_t n = ref_decode(f->text, f->len, rec);
	size_t checked = 0;

	assert_string_equal((ref_encode(rec, n, text), text), f->text);
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			size_t len;

			rec[i] ^= (uint8_t)(1u << bit);
			len = ref_encode(rec, n, text);
			assert_int_not_equal(verify_at(&f->ring, text, len, NOW),
					     PXD_EMAIL_VERDICT_OK);
			rec[i] ^= (uint8_t)(1u << bit);
			checked++;
		}
	}
	assert_int_equal(checked, n * 8);
	/* The version byte says so itself. */
	rec[0] ^= 2;
	assert_int_equal(verify_at(&f->ring, text, ref_encode(rec, n, text), NOW),
			 PXD_EMAIL_VERDICT_BAD_VERSION);
	rec[0] ^= 2;
	/* A tag bit says so too. */
	rec[n - 1] ^= 1;
	assert_int_equal(verify_at(&f->ring, text, ref_encode(rec, n, text), NOW),
			 PXD_EMAIL_VERDICT_BAD_SIGNATURE);
}

static void test_every_bit_flip_of_the_text_is_rejected(void **state)
{
	struct fixture *f = *state;
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];

	memcpy(text, f->text, f->len + 1);
	for (size_t i = 0; i < f->len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			text[i] = (char)(text[i] ^ (1 << bit));
			assert_int_not_equal(verify_at(&f->ring, text, f->len, NOW),
					     PXD_EMAIL_VERDICT_OK);
			text[i] = f->text[i];
		}
	}
	assert_int_equal(verify_at(&f->ring, text, f->len, NOW), PXD_EMAIL_VERDICT_OK);
}

static void test_every_truncation_is_rejected(void **state)
{
	struct fixture *f = *state;
	uint8_t rec[PXD_EMAIL_TOKEN_BYTES_MAX];
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	size_t n = ref_decode(f->text, f->len, rec);

	for (size_t len = 0; len < f->len; len++)
		assert_int_not_equal(verify_at(&f->ring, f->text, len, NOW), PXD_EMAIL_VERDICT_OK);
	for (size_t len = 0; len < n; len++) {
		size_t tl = ref_encode(rec, len, text);

		assert_int_not_equal(verify_at(&f->ring, text, tl, NOW), PXD_EMAIL_VERDICT_OK);
	}
	/* And a byte more is no better. */
	rec[n] = 0;
	assert_int_equal(verify_at(&f->ring, text, ref_encode(rec, n + 1, text), NOW),
			 PXD_EMAIL_VERDICT_MALFORMED);
}

static void test_non_canonical_base64_is_malformed(void **state)
{
	struct pxd_email_claims c;
	struct fixture *f = *state;
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 2];
	ssize_t len;
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned v;

	/* Vary the recipient until the record length leaves unused bits. */
	claims_init(&c);
	for (c.recipient.n = 20;; c.recipient.n++) {
		len = pxd_email_token_encode(&f->ring, &c, text, sizeof(text), NULL);
		assert_true(len > 0);
		if (len % 4)
			break;
	}
	v = (unsigned)(strchr(alpha, text[len - 1]) - alpha);
	text[len - 1] = alpha[v | 1];
	assert_int_equal(verify_at(&f->ring, text, (size_t)len, NOW), PXD_EMAIL_VERDICT_MALFORMED);
	text[len - 1] = alpha[v];
	assert_int_equal(verify_at(&f->ring, text, (size_t)len, NOW), PXD_EMAIL_VERDICT_OK);
	/* Padding and a 4k+1 length are not base64url either. */
	memcpy(text + len, "=", 2);
	assert_int_equal(verify_at(&f->ring, text, (size_t)len + 1, NOW),
			 PXD_EMAIL_VERDICT_MALFORMED);
}

static void test_expiry_and_clock_skew(void **state)
{
	struct fixture *f = *state;
	int64_t exp = NOW + 400 * 86400;

	assert_int_equal(verify_at(&f->ring, f->text, f->len, exp - 1), PXD_EMAIL_VERDICT_OK);
	assert_int_equal(verify_at(&f->ring, f->text, f->len, exp), PXD_EMAIL_VERDICT_EXPIRED);
	assert_int_equal(verify_at(&f->ring, f->text, f->len, exp + 86400 * 365),
			 PXD_EMAIL_VERDICT_EXPIRED);
	assert_int_equal(verify_at(&f->ring, f->text, f->len, NOW - PXD_EMAIL_SKEW_S),
			 PXD_EMAIL_VERDICT_OK);
	assert_int_equal(verify_at(&f->ring, f->text, f->len, NOW - PXD_EMAIL_SKEW_S - 1),
			 PXD_EMAIL_VERDICT_NOT_YET_VALID);
}

static void test_unknown_key_id_is_rejected(void **state)
{
	struct fixture *f = *state;
	struct pxd_email_keys other = { 0 };
	struct pxd_email_keys empty = { 0 };
	struct pxd_email_keys same_id = { 0 };

	assert_int_equal(pxd_email_keys_add(&other, PXD_SV("k2"), SECRET2, strlen(SECRET2)), 0);
	assert_int_equal(verify_at(&other, f->text, f->len, NOW), PXD_EMAIL_VERDICT_UNKNOWN_KEY);
	assert_int_equal(verify_at(&empty, f->text, f->len, NOW), PXD_EMAIL_VERDICT_UNKNOWN_KEY);
	/* The same id with another secret is a forgery, not an unknown key. */
	assert_int_equal(pxd_email_keys_add(&same_id, PXD_SV("k1"), SECRET2, strlen(SECRET2)), 0);
	assert_int_equal(verify_at(&same_id, f->text, f->len, NOW),
			 PXD_EMAIL_VERDICT_BAD_SIGNATURE);
}

static void test_rotation_new_key_signs_old_key_verifies(void **state)
{
	struct fixture *f = *state;
	struct pxd_email_keys rotated = { 0 };
	struct pxd_email_keys retired = { 0 };
	struct pxd_email_token tok;
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	ssize_t len;

	/* keys = k2:new, k1:old */
	assert_int_equal(pxd_email_keys_add(&rotated, PXD_SV("k2"), SECRET2, strlen(SECRET2)), 0);
	assert_int_equal(pxd_email_keys_add(&rotated, PXD_SV("k1"), SECRET1, strlen(SECRET1)), 0);
	assert_int_equal(verify_at(&rotated, f->text, f->len, NOW), PXD_EMAIL_VERDICT_OK);
	len = pxd_email_token_encode(&rotated, &f->c, text, sizeof(text), NULL);
	assert_true(len > 0);
	assert_int_equal(
	    pxd_email_token_verify(&rotated, pxd_sv_make(text, (size_t)len), NOW, &tok),
	    PXD_EMAIL_VERDICT_OK);
	assert_sv(tok.kid, PXD_SV("k2"));
	/* A collector still on the old list cannot read the new mail... */
	assert_int_equal(verify_at(&f->ring, text, (size_t)len, NOW),
			 PXD_EMAIL_VERDICT_UNKNOWN_KEY);
	/* ...and once k1 is retired, mail signed with it stops counting. */
	assert_int_equal(pxd_email_keys_add(&retired, PXD_SV("k2"), SECRET2, strlen(SECRET2)), 0);
	assert_int_equal(verify_at(&retired, f->text, f->len, NOW), PXD_EMAIL_VERDICT_UNKNOWN_KEY);
	assert_int_equal(verify_at(&retired, text, (size_t)len, NOW), PXD_EMAIL_VERDICT_OK);
}

static void test_key_ring_refuses_bad_keys(void **state)
{
	struct pxd_email_keys ring = { 0 };
	char big[PXD_EMAIL_SECRET_MAX + 1];

	(void)state;
	memset(big, 'b', sizeof(big));
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("k1"), "short", 5), -EINVAL);
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("k1"), big, sizeof(big)), -EINVAL);
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV(""), SECRET1, 40), -EINVAL);
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("toolongid"), SECRET1, 40), -EINVAL);
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("k.1"), SECRET1, 40), -EINVAL);
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("k1"), SECRET1, 40), 0);
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("k1"), SECRET2, 40), -EEXIST);
	for (int i = 2; i <= PXD_CONF_EMAIL_MAX_KEYS; i++) {
		char kid[8];

		snprintf(kid, sizeof(kid), "k%d", i);
		assert_int_equal(pxd_email_keys_add(&ring, pxd_sv_cstr(kid), SECRET1, 40), 0);
	}
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("k99"), SECRET1, 40), -ENOSPC);
	pxd_email_keys_wipe(&ring);
	assert_int_equal(ring.n, 0);
}

static enum pxd_email_field encode_bad(struct pxd_email_claims *c)
{
	struct pxd_email_keys ring = { 0 };
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	enum pxd_email_field bad = PXD_EMAIL_FIELD_COUNT;
	ssize_t n;

	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("k1"), SECRET1, strlen(SECRET1)), 0);
	n = pxd_email_token_encode(&ring, c, text, sizeof(text), &bad);
	if (n > 0) {
		assert_int_equal(bad, PXD_EMAIL_FIELD_NONE);
		assert_int_equal(verify_at(&ring, text, (size_t)n, c->issued_at),
				 PXD_EMAIL_VERDICT_OK);
		return PXD_EMAIL_FIELD_NONE;
	}
	assert_int_equal(n, -EINVAL);
	return bad;
}

static void test_field_limits_hold_at_the_edges(void **state)
{
	static char x[300];
	struct pxd_email_claims c;

	(void)state;
	memset(x, 'x', sizeof(x));
#define EDGE(field, max, code)                                          \
	do {                                                            \
		claims_init(&c);                                        \
		c.field = pxd_sv_make(x, max);                          \
		assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_NONE); \
		c.field = pxd_sv_make(x, (max) + 1);                    \
		assert_int_equal(encode_bad(&c), code);                 \
	} while (0)
	EDGE(tenant, PXD_EMAIL_TENANT_MAX, PXD_EMAIL_FIELD_TENANT);
	EDGE(campaign, PXD_EMAIL_CAMPAIGN_MAX, PXD_EMAIL_FIELD_CAMPAIGN);
	EDGE(message, PXD_EMAIL_MESSAGE_MAX, PXD_EMAIL_FIELD_MESSAGE);
	EDGE(recipient, PXD_EMAIL_RECIPIENT_MAX, PXD_EMAIL_FIELD_RECIPIENT);
	EDGE(meta[0].key, PXD_EMAIL_META_KEY_MAX, PXD_EMAIL_FIELD_META);
	EDGE(meta[0].value, PXD_EMAIL_META_VALUE_MAX, PXD_EMAIL_FIELD_META);
#undef EDGE
	claims_init(&c);
	c.tenant = PXD_SV_NULL;
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_NONE);
	c.campaign = PXD_SV("");
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_CAMPAIGN);
	claims_init(&c);
	c.recipient = PXD_SV("tab\there");
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_RECIPIENT);
	c.recipient = PXD_SV("caf\xc3\xa9");
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_RECIPIENT);
	claims_init(&c);
	c.tenant = PXD_SV("a/b");
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_TENANT);
	/* times */
	claims_init(&c);
	c.expires_at = c.issued_at;
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_TTL);
	c.expires_at = c.issued_at + PXD_EMAIL_TTL_MAX_S;
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_NONE);
	c.expires_at++;
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_TTL);
	c.issued_at = PXD_EMAIL_ISSUED_MIN - 1;
	c.expires_at = c.issued_at + 60;
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_TTL);
	/* metadata: count, duplicates, total size, key characters */
	claims_init(&c);
	for (c.nmeta = 0; c.nmeta < PXD_EMAIL_META_MAX; c.nmeta++) {
		static const char keys[] = "abcdefghi";

		c.meta[c.nmeta] =
		    (struct pxd_email_meta){ pxd_sv_make(&keys[c.nmeta], 1), pxd_sv_make(x, 28) };
	}
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_NONE); /* 8 * 31 = 248 bytes */
	c.meta[7].value.n = 37;					/* 257 bytes */
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_META);
	c.meta[7].value.n = 36; /* 256 bytes */
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_NONE);
	c.nmeta = PXD_EMAIL_META_MAX + 1;
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_META);
	claims_init(&c);
	c.meta[1].key = PXD_SV("variant");
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_META);
	c.meta[1].key = PXD_SV("has space");
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_META);
	c.meta[1] = (struct pxd_email_meta){ PXD_SV("empty"), PXD_SV("") };
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_NONE);
}

static void test_longest_token_fits_and_longer_text_is_too_long(void **state)
{
	struct fixture *f = *state;
	static char x[300];
	static char text[PXD_EMAIL_TOKEN_TEXT_MAX + 2];
	static const char keys[] = "abcdefgh";
	struct pxd_email_keys ring = { 0 };
	struct pxd_email_claims c;
	ssize_t n;

	memset(x, 'y', sizeof(x));
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("kkkkkkkk"), SECRET1, 40), 0);
	claims_init(&c);
	c.tenant = pxd_sv_make(x, PXD_EMAIL_TENANT_MAX);
	c.campaign = pxd_sv_make(x, PXD_EMAIL_CAMPAIGN_MAX);
	c.message = pxd_sv_make(x, PXD_EMAIL_MESSAGE_MAX);
	c.recipient = pxd_sv_make(x, PXD_EMAIL_RECIPIENT_MAX);
	for (c.nmeta = 0; c.nmeta < PXD_EMAIL_META_MAX; c.nmeta++)
		c.meta[c.nmeta] =
		    (struct pxd_email_meta){ pxd_sv_make(&keys[c.nmeta], 1), pxd_sv_make(x, 29) };
	n = pxd_email_token_encode(&ring, &c, text, PXD_EMAIL_TOKEN_TEXT_MAX, NULL);
	assert_int_equal(n, -ENOSPC);
	n = pxd_email_token_encode(&ring, &c, text, PXD_EMAIL_TOKEN_TEXT_MAX + 1, NULL);
	assert_int_equal(n, PXD_EMAIL_TOKEN_TEXT_MAX);
	assert_int_equal(verify_at(&ring, text, (size_t)n, NOW), PXD_EMAIL_VERDICT_OK);
	memset(text, 'A', sizeof(text));
	assert_int_equal(verify_at(&ring, text, PXD_EMAIL_TOKEN_TEXT_MAX + 1, NOW),
			 PXD_EMAIL_VERDICT_TOO_LONG);
	assert_int_equal(verify_at(&f->ring, "", 0, NOW), PXD_EMAIL_VERDICT_MALFORMED);
	assert_int_equal(
	    pxd_email_token_encode(&(struct pxd_email_keys){ 0 }, &c, text, sizeof(text), NULL),
	    -ENOKEY);
}

/* A record with a correct tag but a broken limit is still refused. */
static void test_signed_record_breaking_a_limit_is_malformed(void **state)
{
	struct fixture *f = *state;
	uint8_t rec[64];
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	unsigned mdlen = 0;
	size_t n = 0;
	uint8_t md[EVP_MAX_MD_SIZE];

	rec[n++] = 1;
	memcpy(rec + n, "\x02k1\x00\x01\x01\x01m\x01r", 10); /* campaign "\x01": a control byte */
	n += 10;
	memcpy(rec + n, "\x68\x4e\xe1\x80\x69\x4e\xe1\x80\x00", 9);
	n += 9;
	HMAC(EVP_sha256(), SECRET1, (int)strlen(SECRET1), rec, n, md, &mdlen);
	memcpy(rec + n, md, 16);
	n += 16;
	assert_int_equal(verify_at(&f->ring, text, ref_encode(rec, n, text), NOW),
			 PXD_EMAIL_VERDICT_MALFORMED);
	/* The same record with a printable campaign passes: the tag was right. */
	rec[6] = 'c';
	n -= 16;
	HMAC(EVP_sha256(), SECRET1, (int)strlen(SECRET1), rec, n, md, &mdlen);
	memcpy(rec + n, md, 16);
	n += 16;
	assert_int_equal(verify_at(&f->ring, text, ref_encode(rec, n, text), 1751000000),
			 PXD_EMAIL_VERDICT_OK);
}

static void test_verify_allocates_nothing(void **state)
{
	struct fixture *f = *state;
	size_t before = ossl_allocs;

	for (int i = 0; i < 100; i++)
		assert_int_equal(verify_at(&f->ring, f->text, f->len, NOW), PXD_EMAIL_VERDICT_OK);
	assert_int_equal(ossl_allocs, before);
}

static void test_token_is_found_in_urls_and_paths(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{ "AbC-_9", "AbC-_9" },
		{ "AbC-_9.gif", "AbC-_9" },
		{ "/o/AbC-_9.gif", "AbC-_9" },
		{ "https://t.example.com/o/AbC-_9.gif", "AbC-_9" },
		{ "https://t.example.com/o/AbC-_9.gif?utm=1#x", "AbC-_9" },
		{ "https://t.example.com/x/o/AbC.gif", "AbC" },
		{ "https://t.example.com/o/AbC", "" },
		{ "https://t.example.com/o/A+C.gif", "" },
		{ "not a token", "" },
		{ "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pxd_sv got = pxd_email_token_find(pxd_sv_cstr(cases[i].in));

		assert_int_equal(got.n, strlen(cases[i].want));
		assert_true(got.n == 0 || pxd_sv_eq_lit(got, cases[i].want));
	}
}

static void write_key(const char *dir, const char *name, const char *content, mode_t mode,
		      char *path)
{
	int fd;

	sprintf(path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_keys_load_reads_files_and_refuses_open_modes(void **state)
{
	struct fixture *f = *state;
	struct pxd_conf_email ce;
	struct pxd_email_keys ring;
	char keydir[] = "/tmp/pxd_keysXXXXXX";
	char err[8192];

	assert_non_null(mkdtemp(keydir));
	pxd_conf_email_defaults(&ce);
	assert_int_equal(pxd_conf_email_set(&ce, "keys", "k2:x, k1:y", err, sizeof(err)), 0);
	write_key(keydir, "k2", SECRET2 "\n", 0600, ce.keys[0].path);
	write_key(keydir, "k1", SECRET1 "\n", 0400, ce.keys[1].path);
	assert_int_equal(pxd_email_keys_load(&ring, &ce, err, sizeof(err)), 0);
	assert_int_equal(ring.n, 2);
	assert_string_equal(ring.key[0].kid, "k2");
	/* The newline is not part of the secret: the fixture's k1 token verifies. */
	assert_int_equal(verify_at(&ring, f->text, f->len, NOW), PXD_EMAIL_VERDICT_OK);

	write_key(keydir, "k1", SECRET1 "\n", 0640, ce.keys[1].path);
	assert_int_equal(pxd_email_keys_load(&ring, &ce, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	assert_non_null(strstr(err, "key k1"));
	assert_int_equal(ring.n, 0);
	write_key(keydir, "k1", SECRET1 "\n", 0604, ce.keys[1].path);
	assert_int_equal(pxd_email_keys_load(&ring, &ce, err, sizeof(err)), -EPERM);

	write_key(keydir, "k1", "too short\n", 0600, ce.keys[1].path);
	assert_int_equal(pxd_email_keys_load(&ring, &ce, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "openssl rand -hex 32"));

	unlink(ce.keys[1].path);
	assert_int_equal(pxd_email_keys_load(&ring, &ce, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, ce.keys[1].path));
	unlink(ce.keys[0].path);
	rmdir(keydir);
}

static void test_mint_appends_url_or_img_tag(void **state)
{
	struct fixture *f = *state;
	struct pxd_buf out = { 0 };
	enum pxd_email_field bad;
	char want[1200];

	assert_int_equal(
	    pxd_email_token_mint(&f->ring, &f->c, "https://t.example.com", false, &out, &bad), 0);
	snprintf(want, sizeof(want), "https://t.example.com/o/%s.gif", f->text);
	assert_string_equal(out.p, want);
	out.len = 0;
	assert_int_equal(
	    pxd_email_token_mint(&f->ring, &f->c, "https://t.example.com", true, &out, &bad), 0);
	snprintf(want, sizeof(want),
		 "<img src=\"https://t.example.com/o/%s.gif\" width=\"1\" height=\"1\" alt=\"\" "
		 "style=\"display:none\">",
		 f->text);
	assert_string_equal(out.p, want);
	f->c.campaign = PXD_SV("");
	assert_int_equal(pxd_email_token_mint(&f->ring, &f->c, "https://t", false, &out, &bad),
			 -EINVAL);
	assert_int_equal(bad, PXD_EMAIL_FIELD_CAMPAIGN);
	pxd_buf_free(&out);
}

static const struct pxd_email_mint mint_opts = {
	.base_url = "https://t.example.com",
	.tenant = PXD_SV("acme"),
	.default_ttl_s = 400 * 86400,
	.now_s = NOW,
};

/* Verifies the token of pixel URL <url> and checks its recipient. */
static void assert_url_verifies(const struct pxd_email_keys *ring, const char *url,
				const char *recipient, uint32_t expires)
{
	struct pxd_email_token tok;
	struct pxd_sv t = pxd_email_token_find(pxd_sv_cstr(url));

	assert_true(strncmp(url, "https://t.example.com/o/", 24) == 0);
	assert_int_equal(pxd_email_token_verify(ring, t, NOW, &tok), PXD_EMAIL_VERDICT_OK);
	assert_true(pxd_sv_eq_lit(tok.c.recipient, recipient));
	assert_true(pxd_sv_eq_lit(tok.c.tenant, "acme"));
	assert_int_equal(tok.c.expires_at, expires);
}

static json_t *mint(const struct pxd_email_keys *ring, const char *req, int want)
{
	struct pxd_buf out = { 0 };
	json_error_t jerr;
	json_t *in = json_loads(req, JSON_ALLOW_NUL, &jerr);
	json_t *resp;

	assert_non_null(in);
	assert_int_equal(pxd_email_token_mint_json(ring, in, &mint_opts, &out), want);
	resp = json_loadb(out.p, out.len, 0, &jerr);
	assert_non_null(resp);
	json_decref(in);
	pxd_buf_free(&out);
	return resp;
}

static void test_mint_json_single_object(void **state)
{
	struct fixture *f = *state;
	json_t *r = mint(&f->ring,
			 "{\"campaign\":\"c1\",\"message\":\"m1\",\"recipient\":\"r1\","
			 "\"ttl\":\"30d\",\"meta\":{\"variant\":\"A\"}}",
			 0);
	const char *url = json_string_value(json_object_get(r, "url"));
	const char *html = json_string_value(json_object_get(r, "html"));
	struct pxd_email_token tok;

	assert_non_null(url);
	assert_non_null(html);
	assert_url_verifies(&f->ring, url, "r1", NOW + 30 * 86400);
	assert_non_null(strstr(html, url));
	assert_true(strncmp(html, "<img src=\"", 10) == 0);
	assert_int_equal(
	    pxd_email_token_verify(&f->ring, pxd_email_token_find(pxd_sv_cstr(url)), NOW, &tok),
	    PXD_EMAIL_VERDICT_OK);
	assert_int_equal(tok.c.nmeta, 1);
	assert_true(pxd_sv_eq_lit(tok.c.meta[0].value, "A"));
	json_decref(r);
	/* ttl in seconds and the default ttl */
	r = mint(&f->ring,
		 "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\",\"ttl\":3600}", 0);
	assert_url_verifies(&f->ring, json_string_value(json_object_get(r, "url")), "r",
			    NOW + 3600);
	json_decref(r);
	r = mint(&f->ring, "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\"}", 0);
	assert_url_verifies(&f->ring, json_string_value(json_object_get(r, "url")), "r",
			    NOW + 400 * 86400);
	json_decref(r);
}

static void assert_error(json_t *r, const char *error, json_int_t index, const char *field)
{
	assert_string_equal(json_string_value(json_object_get(r, "error")), error);
	assert_int_equal(json_integer_value(json_object_get(r, "index")), index);
	assert_string_equal(json_string_value(json_object_get(r, "field")), field);
	assert_true(strlen(json_string_value(json_object_get(r, "detail"))) > 5);
	json_decref(r);
}

static void test_mint_json_errors_name_index_and_field(void **state)
{
	struct fixture *f = *state;
	struct pxd_email_keys empty = { 0 };
	json_t *r;

	assert_error(mint(&f->ring, "{\"campaign\":\"c\",\"message\":\"m\"}", -EINVAL),
		     "bad_request", 0, "recipient");
	assert_error(mint(&f->ring,
			  "[{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\"},"
			  "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\"},"
			  "{\"campaign\":\"c\",\"message\":5,\"recipient\":\"r\"}]",
			  -EINVAL),
		     "bad_request", 2, "message");
	assert_error(mint(&f->ring,
			  "[{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\",\"x\":1}]",
			  -EINVAL),
		     "bad_request", 0, "x");
	assert_error(
	    mint(&f->ring,
		 "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\",\"ttl\":\"5y\"}",
		 -EINVAL),
	    "bad_request", 0, "ttl");
	assert_error(mint(&f->ring,
			  "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\",\"ttl\":0}",
			  -EINVAL),
		     "bad_request", 0, "ttl");
	assert_error(mint(&f->ring,
			  "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\","
			  "\"meta\":{\"k\":1}}",
			  -EINVAL),
		     "bad_request", 0, "meta");
	assert_error(mint(&f->ring,
			  "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\","
			  "\"meta\":{\"bad key\":\"v\"}}",
			  -EINVAL),
		     "bad_request", 0, "meta");
	assert_error(mint(&f->ring,
			  "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\\u0000x\"}",
			  -EINVAL),
		     "bad_request", 0, "recipient");
	assert_error(mint(&f->ring, "[1]", -EINVAL), "bad_request", 0, "");
	assert_error(mint(&f->ring, "[]", -EINVAL), "bad_request", 0, "");
	r = mint(&empty, "{\"campaign\":\"c\",\"message\":\"m\",\"recipient\":\"r\"}", -ENOKEY);
	assert_string_equal(json_string_value(json_object_get(r, "error")), "no_signing_key");
	json_decref(r);
	{
		struct pxd_email_mint no_url = mint_opts;
		struct pxd_buf out = { 0 };
		json_t *one =
		    json_pack("{s:s, s:s, s:s}", "campaign", "c", "message", "m", "recipient", "r");

		no_url.base_url = "";
		assert_int_equal(pxd_email_token_mint_json(&f->ring, one, &no_url, &out),
				 -EDESTADDRREQ);
		assert_non_null(strstr(out.p, "\"no_base_url\""));
		json_decref(one);
		pxd_buf_free(&out);
	}
}

static void test_mint_json_ten_thousand_in_order_and_one_more_refused(void **state)
{
	struct fixture *f = *state;
	json_t *req = json_array();
	struct pxd_buf out = { 0 };
	json_error_t jerr;
	json_t *resp;
	json_t *urls;

	for (int i = 0; i < PXD_EMAIL_MINT_BATCH_MAX; i++) {
		char rcpt[32];

		snprintf(rcpt, sizeof(rcpt), "rcpt-%05d", i);
		json_array_append_new(req, json_pack("{s:s, s:s, s:s}", "campaign", "merge",
						     "message", "m-1", "recipient", rcpt));
	}
	assert_int_equal(pxd_email_token_mint_json(&f->ring, req, &mint_opts, &out), 0);
	resp = json_loadb(out.p, out.len, 0, &jerr);
	assert_non_null(resp);
	urls = json_object_get(resp, "urls");
	assert_int_equal(json_array_size(urls), PXD_EMAIL_MINT_BATCH_MAX);
	for (int i = 0; i < PXD_EMAIL_MINT_BATCH_MAX; i++) {
		char rcpt[32];

		snprintf(rcpt, sizeof(rcpt), "rcpt-%05d", i);
		assert_url_verifies(&f->ring, json_string_value(json_array_get(urls, (size_t)i)),
				    rcpt, NOW + 400 * 86400);
	}
	json_decref(resp);
	/* One more is too many; the error leaves nothing else in the buffer. */
	json_array_append_new(
	    req, json_pack("{s:s, s:s, s:s}", "campaign", "c", "message", "m", "recipient", "r"));
	out.len = 0;
	assert_int_equal(pxd_email_token_mint_json(&f->ring, req, &mint_opts, &out), -E2BIG);
	resp = json_loadb(out.p, out.len, 0, &jerr);
	assert_non_null(resp);
	assert_string_equal(json_string_value(json_object_get(resp, "error")), "bad_request");
	json_decref(resp);
	json_decref(req);
	pxd_buf_free(&out);
}

static void test_props_json_is_exact_and_escaped(void **state)
{
	struct fixture *f = *state;
	struct pxd_email_token tok;
	struct pxd_email_claims c;
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	char out[PXD_EMAIL_OPEN_PROPS_MAX];
	ssize_t n;
	const char *want = "{\"campaign\":\"say \\\"hi\\\"\",\"message\":\"m\\\\1\","
			   "\"recipient\":\"r\",\"meta\":{\"variant\":\"B\"},"
			   "\"open_kind\":\"apple_mpp\",\"first_open\":true}";

	claims_init(&c);
	c.campaign = PXD_SV("say \"hi\"");
	c.message = PXD_SV("m\\1");
	c.recipient = PXD_SV("r");
	c.nmeta = 1;
	n = pxd_email_token_encode(&f->ring, &c, text, sizeof(text), NULL);
	assert_true(n > 0);
	assert_int_equal(pxd_email_token_verify(&f->ring, pxd_sv_make(text, (size_t)n), NOW, &tok),
			 PXD_EMAIL_VERDICT_OK);
	n = pxd_email_open_props_json(&tok, PXD_OPEN_KIND_APPLE_MPP, true, out, sizeof(out));
	assert_int_equal(n, (ssize_t)strlen(want));
	assert_string_equal(out, want);
	assert_int_equal(pxd_email_open_props_json(&tok, PXD_OPEN_KIND_HUMAN, false, out, 20),
			 -ENOSPC);
	n = pxd_email_open_props_json(&tok, PXD_OPEN_KIND_SCANNER, false, out, sizeof(out));
	assert_non_null(strstr(out, "\"open_kind\":\"scanner\",\"first_open\":false}"));
	assert_int_equal(n, (ssize_t)strlen(out));
}

static void test_props_of_the_worst_token_fit_the_documented_room(void **state)
{
	struct fixture *f = *state;
	static char q[300];
	static const char keys[] = "abcdefgh";
	struct pxd_email_token tok;
	struct pxd_email_claims c;
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	char out[PXD_EMAIL_OPEN_PROPS_MAX];
	json_error_t jerr;
	json_t *j;
	ssize_t n;

	memset(q, '"', sizeof(q)); /* every character needs escaping */
	claims_init(&c);
	c.campaign = pxd_sv_make(q, PXD_EMAIL_CAMPAIGN_MAX);
	c.message = pxd_sv_make(q, PXD_EMAIL_MESSAGE_MAX);
	c.recipient = pxd_sv_make(q, PXD_EMAIL_RECIPIENT_MAX);
	for (c.nmeta = 0; c.nmeta < PXD_EMAIL_META_MAX; c.nmeta++)
		c.meta[c.nmeta] =
		    (struct pxd_email_meta){ pxd_sv_make(&keys[c.nmeta], 1), pxd_sv_make(q, 29) };
	n = pxd_email_token_encode(&f->ring, &c, text, sizeof(text), NULL);
	assert_true(n > 0);
	assert_int_equal(pxd_email_token_verify(&f->ring, pxd_sv_make(text, (size_t)n), NOW, &tok),
			 PXD_EMAIL_VERDICT_OK);
	n = pxd_email_open_props_json(&tok, PXD_OPEN_KIND_OTHER_PROXY, false, out, sizeof(out));
	assert_true(n > 0);
	j = json_loads(out, 0, &jerr);
	assert_non_null(j);
	assert_int_equal(json_string_length(json_object_get(j, "recipient")),
			 PXD_EMAIL_RECIPIENT_MAX);
	assert_int_equal(json_object_size(json_object_get(j, "meta")), PXD_EMAIL_META_MAX);
	json_decref(j);
}

static void test_names_cover_every_value(void **state)
{
	(void)state;
	assert_string_equal(pxd_email_verdict_name(PXD_EMAIL_VERDICT_OK), "ok");
	assert_string_equal(pxd_email_verdict_name(PXD_EMAIL_VERDICT_BAD_SIGNATURE),
			    "bad_signature");
	assert_string_equal(pxd_email_verdict_name(PXD_EMAIL_VERDICT_COUNT), "unknown");
	for (int v = 0; v < PXD_EMAIL_VERDICT_COUNT; v++)
		assert_true(strlen(pxd_email_verdict_name((enum pxd_email_verdict)v)) > 1);
	for (int i = 1; i < PXD_EMAIL_FIELD_COUNT; i++) {
		assert_true(strlen(pxd_email_field_name((enum pxd_email_field)i)) > 2);
		assert_true(strlen(pxd_email_field_rule((enum pxd_email_field)i)) > 10);
	}
}

int main(void)
{
	/* Before any OpenSSL call, so every one of its allocations is counted. */
	assert_int_equal(CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free), 1);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_gives_back_every_field, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_layout_and_tag_match_the_documented_record,
						setup, teardown),
		cmocka_unit_test(test_long_secret_is_hashed_as_rfc2104_says),
		cmocka_unit_test_setup_teardown(test_every_bit_flip_of_the_bytes_is_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_every_bit_flip_of_the_text_is_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_every_truncation_is_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_canonical_base64_is_malformed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_clock_skew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_id_is_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_new_key_signs_old_key_verifies, setup,
						teardown),
		cmocka_unit_test(test_key_ring_refuses_bad_keys),
		cmocka_unit_test(test_field_limits_hold_at_the_edges),
		cmocka_unit_test_setup_teardown(test_longest_token_fits_and_longer_text_is_too_long,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_signed_record_breaking_a_limit_is_malformed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_allocates_nothing, setup, teardown),
		cmocka_unit_test(test_token_is_found_in_urls_and_paths),
		cmocka_unit_test_setup_teardown(test_keys_load_reads_files_and_refuses_open_modes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mint_appends_url_or_img_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mint_json_single_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mint_json_errors_name_index_and_field, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_mint_json_ten_thousand_in_order_and_one_more_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_props_json_is_exact_and_escaped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_props_of_the_worst_token_fit_the_documented_room, setup, teardown),
		cmocka_unit_test(test_names_cover_every_value),
	};

	return cmocka_run_group_tests_name("email_token", tests, NULL, NULL);
}
