/* SPDX-License-Identifier: MIT */
/*
 * pii.h - normalization of personal data and its SHA-256 (lowercase hex) by
 * the rules of specs/ad-apis.md §3-4: direct identifiers (email, phone,
 * names, gender, date of birth) are hashed, address fields only normalized.
 * It never keeps, logs or returns a plain direct identifier except into the
 * caller's buffer. Pure functions, no allocation: any thread.
 *
 * Shared rules: "trim" removes ASCII whitespace at both ends; lowercasing is
 * ASCII only and bytes >= 0x80 pass through unchanged, so UTF-8 letters are
 * never mangled (nor case-folded). A value that is empty after normalization
 * has no hash: sha256("") is never produced.
 */
#ifndef PXD_PII_H
#define PXD_PII_H

#include <stdbool.h>
#include <stddef.h>

#define PXD_PII_HEX_LEN 64 /* SHA-256 as lowercase hex */

/*
 * A normalizer: reads <n> bytes of <in>, writes the normalized form to <out>
 * (not NUL-terminated) and returns its length, or 0 when nothing valid
 * remains. <out> must have room for <n> + 1 bytes; with less the value
 * counts as invalid (0) rather than being cut.
 */
typedef size_t pxd_pii_norm_fn(const char *in, size_t n, char *out, size_t cap);

/* Email: trim, lowercase. Invalid (0) unless it has exactly one '@' with
 * something on each side and no whitespace or control character inside. */
pxd_pii_norm_fn pxd_pii_norm_email;

/* Email for Google (§3): as pxd_pii_norm_email, then for gmail.com and
 * googlemail.com the dots of the local part are removed. */
pxd_pii_norm_fn pxd_pii_norm_email_google;

/* Phone, digits only (Meta, Snap, Pinterest): every non-digit dropped, then
 * a leading "00" dropped (a leading '+' went with the non-digits). Invalid
 * below 7 or above 15 digits. No country code is added: a national number
 * stays as sent. */
pxd_pii_norm_fn pxd_pii_norm_phone;

/* Phone, E.164 (Google, TikTok): '+' and the digits of pxd_pii_norm_phone. */
pxd_pii_norm_fn pxd_pii_norm_phone_e164;

/* First or last name: trim, lowercase; ASCII digits, punctuation, symbols
 * and controls removed; inner whitespace runs become one space; UTF-8 kept. */
pxd_pii_norm_fn pxd_pii_norm_name;

/* Gender: lowercased, reduced to [a-z]; "female"/"f" -> "f", "male"/"m" ->
 * "m", anything else invalid. */
pxd_pii_norm_fn pxd_pii_norm_gender;

/* Date of birth: "YYYY-MM-DD", "YYYY/MM/DD" or "YYYYMMDD" (trimmed) ->
 * "YYYYMMDD". Invalid unless a real calendar date with year 1900..2100. */
pxd_pii_norm_fn pxd_pii_norm_dob;

/* City: lowercase; digits, whitespace, '.', '-', '(' and ')' removed. */
pxd_pii_norm_fn pxd_pii_norm_city;

/* State: the city rule, then exactly two ASCII letters ("ca") or invalid. */
pxd_pii_norm_fn pxd_pii_norm_state;

/* Zip: cut at the first '-' (US ZIP+4 keeps the 5-digit part), then only
 * ASCII letters and digits kept, lowercased; invalid below two characters. */
pxd_pii_norm_fn pxd_pii_norm_zip;

/* Country: trim, lowercase; exactly two ASCII letters (ISO 3166-1 alpha-2
 * shape; the code itself is not looked up) or invalid. */
pxd_pii_norm_fn pxd_pii_norm_country;

/* Writes SHA-256 of <n> bytes of <p> to <out> as 64 lowercase hex digits
 * and a NUL. No allocation, no lock. */
void pxd_pii_sha256_hex(const void *p, size_t n, char out[PXD_PII_HEX_LEN + 1]);

/* Returns true when <s> is exactly 64 lowercase hex digits (an already
 * hashed value, which passes unchanged). */
bool pxd_pii_is_sha256_hex(const char *s, size_t n);

/*
 * Hashes one field: when <in>, trimmed, is already a SHA-256 in lowercase hex
 * it is copied; otherwise it is normalized with <norm> and hashed. Writes 64
 * hex digits and a NUL to <out> and returns true, or returns false when the
 * value is invalid or empty after normalization. Inputs above 256 bytes are
 * invalid.
 */
bool pxd_pii_hash(pxd_pii_norm_fn *norm, const char *in, size_t n, char out[PXD_PII_HEX_LEN + 1]);

/*
 * Hashes an email both ways. Returns 0 (invalid: nothing written), 1 (only
 * <sha> written: the Google form is the same, or <in> was already hashed
 * and so has no Google form) or 2 (<sha> and <google> written).
 */
unsigned pxd_pii_hash_email(const char *in, size_t n, char sha[PXD_PII_HEX_LEN + 1],
			    char google[PXD_PII_HEX_LEN + 1]);

/*
 * Hashes a phone both ways. Returns 0 (invalid: nothing written), 1 (<in>
 * was already hashed: copied to <digits> only, its form being unknown) or 2
 * (<digits> from the digits-only form, <e164> from the '+' form).
 */
unsigned pxd_pii_hash_phone(const char *in, size_t n, char digits[PXD_PII_HEX_LEN + 1],
			    char e164[PXD_PII_HEX_LEN + 1]);

#endif
