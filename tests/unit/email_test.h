/* SPDX-License-Identifier: MIT */
/*
 * email_test.h - the fixture the email token tests share (header-only, tests
 * only): a one-key ring (k1) with a token minted from typical claims, a
 * verify shortcut, and an independent base64url codec (OpenSSL's) to build
 * and take apart records without the code under test. Include after <cmocka.h>.
 */
#ifndef PXD_EMAIL_TEST_H
#define PXD_EMAIL_TEST_H

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "email_token.h"

#define NOW 1750000000u /* 2025-06-15 */
#define SECRET1 "0123456789abcdef0123456789abcdef-key-one"
#define SECRET2 "fedcba9876543210fedcba9876543210-key-two"

struct email_fixture {
	struct pxd_email_keys ring; /* k1 only */
	struct pxd_email_claims c;
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	size_t len;
};

static inline void email_claims_init(struct pxd_email_claims *c)
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

static inline int email_setup(void **state)
{
	struct email_fixture *f = calloc(1, sizeof(*f));
	ssize_t n;

	assert_non_null(f);
	assert_int_equal(pxd_email_keys_add(&f->ring, PXD_SV("k1"), SECRET1, strlen(SECRET1)), 0);
	email_claims_init(&f->c);
	n = pxd_email_token_encode(&f->ring, &f->c, f->text, sizeof(f->text), NULL);
	assert_true(n > 0);
	f->len = (size_t)n;
	*state = f;
	return 0;
}

static inline int email_teardown(void **state)
{
	free(*state);
	return 0;
}

static inline enum pxd_email_verdict email_verify_at(const struct pxd_email_keys *ring,
						     const char *text, size_t len, int64_t now)
{
	struct pxd_email_token tok;

	return pxd_email_token_verify(ring, pxd_sv_make(text, len), now, &tok);
}

/* An independent base64url codec (OpenSSL's base64 with the URL alphabet). */
static inline size_t email_ref_decode(const char *text, size_t len, uint8_t *out)
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

static inline size_t email_ref_encode(const uint8_t *in, size_t n, char *out)
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

static inline void email_assert_sv(struct pxd_sv got, struct pxd_sv want)
{
	assert_int_equal(got.n, want.n);
	assert_memory_equal(got.p, want.p, want.n);
}

#endif
