// SPDX-License-Identifier: MIT
/* The email token codec: round trips, the documented record, every way a token is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <stdio.h>

#include "email_test.h"

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

static void test_round_trip_gives_back_every_field(void **state)
{
	struct email_fixture *f = *state;
	struct pxd_email_token tok;

	assert_int_equal(strlen(f->text), f->len);
	assert_int_equal(
	    pxd_email_token_verify(&f->ring, pxd_sv_make(f->text, f->len), NOW + 60, &tok),
	    PXD_EMAIL_VERDICT_OK);
	assert_int_equal(tok.version, 1);
	email_assert_sv(tok.kid, PXD_SV("k1"));
	email_assert_sv(tok.c.tenant, f->c.tenant);
	email_assert_sv(tok.c.campaign, f->c.campaign);
	email_assert_sv(tok.c.message, f->c.message);
	email_assert_sv(tok.c.recipient, f->c.recipient);
	assert_int_equal(tok.c.issued_at, NOW);
	assert_int_equal(tok.c.expires_at, NOW + 400 * 86400);
	assert_int_equal(tok.c.nmeta, 2);
	email_assert_sv(tok.c.meta[1].key, PXD_SV("list"));
	email_assert_sv(tok.c.meta[1].value, PXD_SV("vip customers"));
	for (size_t i = 0; i < f->len; i++)
		assert_non_null(
		    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
			   f->text[i]));
}

static void test_layout_and_tag_match_the_documented_record(void **state)
{
	struct email_fixture *f = *state;
	uint8_t rec[PXD_EMAIL_TOKEN_BYTES_MAX];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t n = email_ref_decode(f->text, f->len, rec);
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

static void test_every_bit_flip_of_the_bytes_is_rejected(void **state)
{
	struct email_fixture *f = *state;
	uint8_t rec[PXD_EMAIL_TOKEN_BYTES_MAX];
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	size_t n = email_ref_decode(f->text, f->len, rec);
	size_t checked = 0;

	assert_string_equal((email_ref_encode(rec, n, text), text), f->text);
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			size_t len;

			rec[i] ^= (uint8_t)(1u << bit);
			len = email_ref_encode(rec, n, text);
			assert_int_not_equal(email_verify_at(&f->ring, text, len, NOW),
					     PXD_EMAIL_VERDICT_OK);
			rec[i] ^= (uint8_t)(1u << bit);
			checked++;
		}
	}
	assert_int_equal(checked, n * 8);
	/* The version byte says so itself. */
	rec[0] ^= 2;
	assert_int_equal(email_verify_at(&f->ring, text, email_ref_encode(rec, n, text), NOW),
			 PXD_EMAIL_VERDICT_BAD_VERSION);
	rec[0] ^= 2;
	/* A tag bit says so too. */
	rec[n - 1] ^= 1;
	assert_int_equal(email_verify_at(&f->ring, text, email_ref_encode(rec, n, text), NOW),
			 PXD_EMAIL_VERDICT_BAD_SIGNATURE);
}

static void test_every_bit_flip_of_the_text_is_rejected(void **state)
{
	struct email_fixture *f = *state;
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];

	memcpy(text, f->text, f->len + 1);
	for (size_t i = 0; i < f->len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			text[i] = (char)(text[i] ^ (1 << bit));
			assert_int_not_equal(email_verify_at(&f->ring, text, f->len, NOW),
					     PXD_EMAIL_VERDICT_OK);
			text[i] = f->text[i];
		}
	}
	assert_int_equal(email_verify_at(&f->ring, text, f->len, NOW), PXD_EMAIL_VERDICT_OK);
}

static void test_every_truncation_is_rejected(void **state)
{
	struct email_fixture *f = *state;
	uint8_t rec[PXD_EMAIL_TOKEN_BYTES_MAX];
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	size_t n = email_ref_decode(f->text, f->len, rec);

	for (size_t len = 0; len < f->len; len++)
		assert_int_not_equal(email_verify_at(&f->ring, f->text, len, NOW),
				     PXD_EMAIL_VERDICT_OK);
	for (size_t len = 0; len < n; len++) {
		size_t tl = email_ref_encode(rec, len, text);

		assert_int_not_equal(email_verify_at(&f->ring, text, tl, NOW),
				     PXD_EMAIL_VERDICT_OK);
	}
	/* And a byte more is no better. */
	rec[n] = 0;
	assert_int_equal(email_verify_at(&f->ring, text, email_ref_encode(rec, n + 1, text), NOW),
			 PXD_EMAIL_VERDICT_MALFORMED);
}

static void test_non_canonical_base64_is_malformed(void **state)
{
	struct pxd_email_claims c;
	struct email_fixture *f = *state;
	char text[PXD_EMAIL_TOKEN_TEXT_MAX + 2];
	ssize_t len;
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned v;

	/* Vary the recipient until the record length leaves unused bits. */
	email_claims_init(&c);
	for (c.recipient.n = 20;; c.recipient.n++) {
		len = pxd_email_token_encode(&f->ring, &c, text, sizeof(text), NULL);
		assert_true(len > 0);
		if (len % 4)
			break;
	}
	v = (unsigned)(strchr(alpha, text[len - 1]) - alpha);
	text[len - 1] = alpha[v | 1];
	assert_int_equal(email_verify_at(&f->ring, text, (size_t)len, NOW),
			 PXD_EMAIL_VERDICT_MALFORMED);
	text[len - 1] = alpha[v];
	assert_int_equal(email_verify_at(&f->ring, text, (size_t)len, NOW), PXD_EMAIL_VERDICT_OK);
	/* Padding and a 4k+1 length are not base64url either. */
	memcpy(text + len, "=", 2);
	assert_int_equal(email_verify_at(&f->ring, text, (size_t)len + 1, NOW),
			 PXD_EMAIL_VERDICT_MALFORMED);
}

static void test_expiry_and_clock_skew(void **state)
{
	struct email_fixture *f = *state;
	int64_t exp = NOW + 400 * 86400;

	assert_int_equal(email_verify_at(&f->ring, f->text, f->len, exp - 1), PXD_EMAIL_VERDICT_OK);
	assert_int_equal(email_verify_at(&f->ring, f->text, f->len, exp),
			 PXD_EMAIL_VERDICT_EXPIRED);
	assert_int_equal(email_verify_at(&f->ring, f->text, f->len, exp + 86400 * 365),
			 PXD_EMAIL_VERDICT_EXPIRED);
	assert_int_equal(email_verify_at(&f->ring, f->text, f->len, NOW - PXD_EMAIL_SKEW_S),
			 PXD_EMAIL_VERDICT_OK);
	assert_int_equal(email_verify_at(&f->ring, f->text, f->len, NOW - PXD_EMAIL_SKEW_S - 1),
			 PXD_EMAIL_VERDICT_NOT_YET_VALID);
}

static void test_unknown_key_id_is_rejected(void **state)
{
	struct email_fixture *f = *state;
	struct pxd_email_keys other = { 0 };
	struct pxd_email_keys empty = { 0 };
	struct pxd_email_keys same_id = { 0 };

	assert_int_equal(pxd_email_keys_add(&other, PXD_SV("k2"), SECRET2, strlen(SECRET2)), 0);
	assert_int_equal(email_verify_at(&other, f->text, f->len, NOW),
			 PXD_EMAIL_VERDICT_UNKNOWN_KEY);
	assert_int_equal(email_verify_at(&empty, f->text, f->len, NOW),
			 PXD_EMAIL_VERDICT_UNKNOWN_KEY);
	/* The same id with another secret is a forgery, not an unknown key. */
	assert_int_equal(pxd_email_keys_add(&same_id, PXD_SV("k1"), SECRET2, strlen(SECRET2)), 0);
	assert_int_equal(email_verify_at(&same_id, f->text, f->len, NOW),
			 PXD_EMAIL_VERDICT_BAD_SIGNATURE);
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
		assert_int_equal(email_verify_at(&ring, text, (size_t)n, c->issued_at),
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
		email_claims_init(&c);                                  \
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
	email_claims_init(&c);
	c.tenant = PXD_SV_NULL;
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_NONE);
	c.campaign = PXD_SV("");
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_CAMPAIGN);
	email_claims_init(&c);
	c.recipient = PXD_SV("tab\there");
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_RECIPIENT);
	c.recipient = PXD_SV("caf\xc3\xa9");
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_RECIPIENT);
	email_claims_init(&c);
	c.tenant = PXD_SV("a/b");
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_TENANT);
	/* times */
	email_claims_init(&c);
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
	email_claims_init(&c);
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
	email_claims_init(&c);
	c.meta[1].key = PXD_SV("variant");
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_META);
	c.meta[1].key = PXD_SV("has space");
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_META);
	c.meta[1] = (struct pxd_email_meta){ PXD_SV("empty"), PXD_SV("") };
	assert_int_equal(encode_bad(&c), PXD_EMAIL_FIELD_NONE);
}

static void test_longest_token_fits_and_longer_text_is_too_long(void **state)
{
	struct email_fixture *f = *state;
	static char x[300];
	static char text[PXD_EMAIL_TOKEN_TEXT_MAX + 2];
	static const char keys[] = "abcdefgh";
	struct pxd_email_keys ring = { 0 };
	struct pxd_email_claims c;
	ssize_t n;

	memset(x, 'y', sizeof(x));
	assert_int_equal(pxd_email_keys_add(&ring, PXD_SV("kkkkkkkk"), SECRET1, 40), 0);
	email_claims_init(&c);
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
	assert_int_equal(email_verify_at(&ring, text, (size_t)n, NOW), PXD_EMAIL_VERDICT_OK);
	memset(text, 'A', sizeof(text));
	assert_int_equal(email_verify_at(&ring, text, PXD_EMAIL_TOKEN_TEXT_MAX + 1, NOW),
			 PXD_EMAIL_VERDICT_TOO_LONG);
	assert_int_equal(email_verify_at(&f->ring, "", 0, NOW), PXD_EMAIL_VERDICT_MALFORMED);
	assert_int_equal(
	    pxd_email_token_encode(&(struct pxd_email_keys){ 0 }, &c, text, sizeof(text), NULL),
	    -ENOKEY);
}

/* A record with a correct tag but a broken limit is still refused. */
static void test_signed_record_breaking_a_limit_is_malformed(void **state)
{
	struct email_fixture *f = *state;
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
	assert_int_equal(email_verify_at(&f->ring, text, email_ref_encode(rec, n, text), NOW),
			 PXD_EMAIL_VERDICT_MALFORMED);
	/* The same record with a printable campaign passes: the tag was right. */
	rec[6] = 'c';
	n -= 16;
	HMAC(EVP_sha256(), SECRET1, (int)strlen(SECRET1), rec, n, md, &mdlen);
	memcpy(rec + n, md, 16);
	n += 16;
	assert_int_equal(
	    email_verify_at(&f->ring, text, email_ref_encode(rec, n, text), 1751000000),
	    PXD_EMAIL_VERDICT_OK);
}

static void test_verify_allocates_nothing(void **state)
{
	struct email_fixture *f = *state;
	size_t before = ossl_allocs;

	for (int i = 0; i < 100; i++)
		assert_int_equal(email_verify_at(&f->ring, f->text, f->len, NOW),
				 PXD_EMAIL_VERDICT_OK);
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
		cmocka_unit_test_setup_teardown(test_round_trip_gives_back_every_field, email_setup,
						email_teardown),
		cmocka_unit_test_setup_teardown(test_layout_and_tag_match_the_documented_record,
						email_setup, email_teardown),
		cmocka_unit_test_setup_teardown(test_every_bit_flip_of_the_bytes_is_rejected,
						email_setup, email_teardown),
		cmocka_unit_test_setup_teardown(test_every_bit_flip_of_the_text_is_rejected,
						email_setup, email_teardown),
		cmocka_unit_test_setup_teardown(test_every_truncation_is_rejected, email_setup,
						email_teardown),
		cmocka_unit_test_setup_teardown(test_non_canonical_base64_is_malformed, email_setup,
						email_teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_clock_skew, email_setup,
						email_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_id_is_rejected, email_setup,
						email_teardown),
		cmocka_unit_test(test_field_limits_hold_at_the_edges),
		cmocka_unit_test_setup_teardown(test_longest_token_fits_and_longer_text_is_too_long,
						email_setup, email_teardown),
		cmocka_unit_test_setup_teardown(test_signed_record_breaking_a_limit_is_malformed,
						email_setup, email_teardown),
		cmocka_unit_test_setup_teardown(test_verify_allocates_nothing, email_setup,
						email_teardown),
		cmocka_unit_test(test_token_is_found_in_urls_and_paths),
		cmocka_unit_test(test_names_cover_every_value),
	};

	return cmocka_run_group_tests_name("email_token", tests, NULL, NULL);
}
