// SPDX-License-Identifier: MIT
/*
 * SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but
 * EVP costs a malloc per digest even with a reused context (and the one-shot
 * SHA256() fetches the algorithm under a lock and allocates three times),
 * while this runs up to eight times per event on the ingest path. Naming the
 * 1.1.1 API level keeps the low-level calls without deprecation warnings.
 */
#define OPENSSL_API_COMPAT 10101

#include "pii.h"

#include <openssl/sha.h>
#include <string.h>

#include "compiler.h"

#define PII_MAX_IN 256

static inline bool is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static inline unsigned char to_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* Narrows [*p, *p + *n) to its part without leading and trailing whitespace. */
static void trim(const char **p, size_t *n)
{
	const unsigned char *s = (const unsigned char *)*p;
	size_t len = *n;

	while (len && is_space(s[0])) {
		s++;
		len--;
	}
	while (len && is_space(s[len - 1]))
		len--;
	*p = (const char *)s;
	*n = len;
}

size_t pxd_pii_norm_email(const char *in, size_t n, char *out, size_t cap)
{
	size_t at = 0;
	unsigned nat = 0;

	if (cap < n + 1)
		return 0;
	trim(&in, &n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x20 || c == 0x7f || c == ' ')
			return 0;
		if (c == '@') {
			at = i;
			nat++;
		}
		out[i] = (char)to_lower(c);
	}
	if (nat != 1 || at == 0 || at == n - 1)
		return 0;
	return n;
}

size_t pxd_pii_norm_email_google(const char *in, size_t n, char *out, size_t cap)
{
	size_t len = pxd_pii_norm_email(in, n, out, cap);
	static const struct {
		const char *name;
		size_t len;
	} gmail[] = { { "gmail.com", 9 }, { "googlemail.com", 14 } };
	const char *at;
	size_t local;
	size_t j = 0;

	if (!len)
		return 0;
	at = memchr(out, '@', len);
	local = (size_t)(at - out);
	for (size_t k = 0; k < ARRAY_SIZE(gmail); k++) {
		if (len - local - 1 != gmail[k].len || memcmp(at + 1, gmail[k].name, gmail[k].len))
			continue;
		for (size_t i = 0; i < len; i++)
			if (i >= local || out[i] != '.')
				out[j++] = out[i];
		return j;
	}
	return len;
}

size_t pxd_pii_norm_phone(const char *in, size_t n, char *out, size_t cap)
{
	size_t len = 0;
	size_t skip = 0;

	if (cap < n + 1)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (is_digit((unsigned char)in[i]))
			out[len++] = in[i];
	if (len >= 2 && out[0] == '0' && out[1] == '0')
		skip = 2;
	len -= skip;
	if (len < 7 || len > 15)
		return 0;
	memmove(out, out + skip, len);
	return len;
}

size_t pxd_pii_norm_phone_e164(const char *in, size_t n, char *out, size_t cap)
{
	size_t len;

	if (cap < n + 1)
		return 0;
	len = pxd_pii_norm_phone(in, n, out + 1, cap - 1);
	if (!len)
		return 0;
	out[0] = '+';
	return len + 1;
}

size_t pxd_pii_norm_name(const char *in, size_t n, char *out, size_t cap)
{
	size_t len = 0;
	bool gap = false;

	if (cap < n + 1)
		return 0;
	trim(&in, &n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (is_space(c)) {
			gap = true;
			continue;
		}
		if (c < 0x80 && !is_alpha(c))
			continue;
		/* a space only between two kept characters */
		if (gap && len)
			out[len++] = ' ';
		gap = false;
		out[len++] = (char)to_lower(c);
	}
	return len;
}

size_t pxd_pii_norm_gender(const char *in, size_t n, char *out, size_t cap)
{
	char word[8];
	size_t len = 0;

	if (cap < n + 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = to_lower((unsigned char)in[i]);

		if (c < 'a' || c > 'z')
			continue;
		if (len == sizeof(word))
			return 0;
		word[len++] = (char)c;
	}
	if ((len == 1 && word[0] == 'f') || (len == 6 && !memcmp(word, "female", 6)))
		out[0] = 'f';
	else if ((len == 1 && word[0] == 'm') || (len == 4 && !memcmp(word, "male", 4)))
		out[0] = 'm';
	else
		return 0;
	return 1;
}

static unsigned digits_value(const char *s, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

size_t pxd_pii_norm_dob(const char *in, size_t n, char *out, size_t cap)
{
	static const unsigned char mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y;
	unsigned m;
	unsigned d;
	bool leap;

	if (cap < n + 1)
		return 0;
	trim(&in, &n);
	if (n == 10 && (in[4] == '-' || in[4] == '/') && in[7] == in[4]) {
		memcpy(out, in, 4);
		memcpy(out + 4, in + 5, 2);
		memcpy(out + 6, in + 8, 2);
	} else if (n == 8) {
		memcpy(out, in, 8);
	} else {
		return 0;
	}
	for (int i = 0; i < 8; i++)
		if (!is_digit((unsigned char)out[i]))
			return 0;
	y = digits_value(out, 4);
	m = digits_value(out + 4, 2);
	d = digits_value(out + 6, 2);
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 && !leap)
		return 0;
	return 8;
}

size_t pxd_pii_norm_city(const char *in, size_t n, char *out, size_t cap)
{
	size_t len = 0;

	if (cap < n + 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (is_digit(c) || is_space(c) || c == '.' || c == '-' || c == '(' || c == ')')
			continue;
		out[len++] = (char)to_lower(c);
	}
	return len;
}

size_t pxd_pii_norm_state(const char *in, size_t n, char *out, size_t cap)
{
	size_t len = pxd_pii_norm_city(in, n, out, cap);

	if (len != 2 || !is_alpha((unsigned char)out[0]) || !is_alpha((unsigned char)out[1]))
		return 0;
	return 2;
}

size_t pxd_pii_norm_zip(const char *in, size_t n, char *out, size_t cap)
{
	size_t len = 0;

	if (cap < n + 1)
		return 0;
	for (size_t i = 0; i < n && in[i] != '-'; i++) {
		unsigned char c = (unsigned char)in[i];

		if (is_digit(c) || is_alpha(c))
			out[len++] = (char)to_lower(c);
	}
	return len < 2 ? 0 : len;
}

size_t pxd_pii_norm_country(const char *in, size_t n, char *out, size_t cap)
{
	if (cap < n + 1)
		return 0;
	trim(&in, &n);
	if (n != 2 || !is_alpha((unsigned char)in[0]) || !is_alpha((unsigned char)in[1]))
		return 0;
	out[0] = (char)to_lower((unsigned char)in[0]);
	out[1] = (char)to_lower((unsigned char)in[1]);
	return 2;
}

void pxd_pii_sha256_hex(const void *p, size_t n, char out[PXD_PII_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_CTX ctx;

	SHA256_Init(&ctx);
	SHA256_Update(&ctx, p, n);
	SHA256_Final(md, &ctx);
	for (size_t i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[PXD_PII_HEX_LEN] = '\0';
}

bool pxd_pii_is_sha256_hex(const char *s, size_t n)
{
	if (n != PXD_PII_HEX_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_digit(c) && (c < 'a' || c > 'f'))
			return false;
	}
	return true;
}

/* Copies an already hashed value; returns false when <in> is not one. */
static bool pass_hashed(const char *in, size_t n, char out[PXD_PII_HEX_LEN + 1])
{
	trim(&in, &n);
	if (!pxd_pii_is_sha256_hex(in, n))
		return false;
	memcpy(out, in, PXD_PII_HEX_LEN);
	out[PXD_PII_HEX_LEN] = '\0';
	return true;
}

bool pxd_pii_hash(pxd_pii_norm_fn *norm, const char *in, size_t n, char out[PXD_PII_HEX_LEN + 1])
{
	char buf[PII_MAX_IN + 1];
	size_t len;

	if (n > PII_MAX_IN)
		return false;
	if (pass_hashed(in, n, out))
		return true;
	len = norm(in, n, buf, sizeof(buf));
	if (!len)
		return false;
	pxd_pii_sha256_hex(buf, len, out);
	return true;
}

unsigned pxd_pii_hash_email(const char *in, size_t n, char sha[PXD_PII_HEX_LEN + 1],
			    char google[PXD_PII_HEX_LEN + 1])
{
	char buf[PII_MAX_IN + 1];
	char gbuf[PII_MAX_IN + 1];
	size_t len;
	size_t glen;

	if (n > PII_MAX_IN)
		return 0;
	if (pass_hashed(in, n, sha))
		return 1;
	len = pxd_pii_norm_email(in, n, buf, sizeof(buf));
	if (!len)
		return 0;
	pxd_pii_sha256_hex(buf, len, sha);
	/* The Google form only ever removes characters, so a same length means
	 * the same string. */
	glen = pxd_pii_norm_email_google(buf, len, gbuf, sizeof(gbuf));
	if (glen == len)
		return 1;
	pxd_pii_sha256_hex(gbuf, glen, google);
	return 2;
}

unsigned pxd_pii_hash_phone(const char *in, size_t n, char digits[PXD_PII_HEX_LEN + 1],
			    char e164[PXD_PII_HEX_LEN + 1])
{
	char buf[PII_MAX_IN + 2];
	size_t len;

	if (n > PII_MAX_IN)
		return 0;
	if (pass_hashed(in, n, digits))
		return 1;
	/* Digits after a reserved first byte, so the '+' form is one byte left. */
	len = pxd_pii_norm_phone(in, n, buf + 1, sizeof(buf) - 1);
	if (!len)
		return 0;
	pxd_pii_sha256_hex(buf + 1, len, digits);
	buf[0] = '+';
	pxd_pii_sha256_hex(buf, len + 1, e164);
	return 2;
}
