// SPDX-License-Identifier: MIT
/*
 * Email token field limits: the character classes and lengths of each field,
 * checked the same way when minting and decoding, and the words error
 * messages use for them. Pure functions; any thread.
 */
#include "email_fields.h"

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

const char *pxd_email_field_name(enum pxd_email_field f)
{
	return (unsigned)f < PXD_EMAIL_FIELD_COUNT ? fields[f].name : "unknown";
}

const char *pxd_email_field_rule(enum pxd_email_field f)
{
	return (unsigned)f < PXD_EMAIL_FIELD_COUNT ? fields[f].rule : "";
}

static bool char_ok(unsigned char ch, enum pxd_email_chars cls)
{
	if (cls == PXD_EMAIL_CHARS_TEXT)
		return ch >= 0x20 && ch <= 0x7e;
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || (cls == PXD_EMAIL_CHARS_NAME && ch == '.');
}

bool pxd_email_str_ok(struct pxd_sv s, size_t min, size_t max, enum pxd_email_chars cls)
{
	if (s.n < min || s.n > max)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (!char_ok((unsigned char)s.p[i], cls))
			return false;
	}
	return true;
}

bool pxd_email_times_ok(uint32_t issued, uint32_t expires)
{
	return issued >= PXD_EMAIL_ISSUED_MIN && expires > issued &&
	       expires - issued <= PXD_EMAIL_TTL_MAX_S;
}

bool pxd_email_meta_ok(const struct pxd_email_meta *m, size_t n)
{
	size_t bytes = 0;

	if (n > PXD_EMAIL_META_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!pxd_email_str_ok(m[i].key, 1, PXD_EMAIL_META_KEY_MAX, PXD_EMAIL_CHARS_NAME) ||
		    !pxd_email_str_ok(m[i].value, 0, PXD_EMAIL_META_VALUE_MAX,
				      PXD_EMAIL_CHARS_TEXT))
			return false;
		for (size_t j = 0; j < i; j++) {
			if (pxd_sv_eq(m[i].key, m[j].key))
				return false;
		}
		bytes += 2 + m[i].key.n + m[i].value.n;
	}
	return bytes <= PXD_EMAIL_META_BYTES_MAX;
}

enum pxd_email_field pxd_email_claims_check(const struct pxd_email_claims *c)
{
	if (!pxd_email_str_ok(c->tenant, 0, PXD_EMAIL_TENANT_MAX, PXD_EMAIL_CHARS_NAME))
		return PXD_EMAIL_FIELD_TENANT;
	if (!pxd_email_str_ok(c->campaign, 1, PXD_EMAIL_CAMPAIGN_MAX, PXD_EMAIL_CHARS_TEXT))
		return PXD_EMAIL_FIELD_CAMPAIGN;
	if (!pxd_email_str_ok(c->message, 1, PXD_EMAIL_MESSAGE_MAX, PXD_EMAIL_CHARS_TEXT))
		return PXD_EMAIL_FIELD_MESSAGE;
	if (!pxd_email_str_ok(c->recipient, 1, PXD_EMAIL_RECIPIENT_MAX, PXD_EMAIL_CHARS_TEXT))
		return PXD_EMAIL_FIELD_RECIPIENT;
	if (!pxd_email_times_ok(c->issued_at, c->expires_at))
		return PXD_EMAIL_FIELD_TTL;
	if (!pxd_email_meta_ok(c->meta, c->nmeta))
		return PXD_EMAIL_FIELD_META;
	return PXD_EMAIL_FIELD_NONE;
}
