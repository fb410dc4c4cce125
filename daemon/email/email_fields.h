/* SPDX-License-Identifier: MIT */
/*
 * email_fields.h - the limits of a token's fields (email_token.h's record
 * layout), one rule set that minting, decoding and the key ring all check
 * against. Pure functions, no state; any thread, allocation-free.
 */
#ifndef PXD_EMAIL_FIELDS_H
#define PXD_EMAIL_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "email_token.h"

/* The characters a field may hold. */
enum pxd_email_chars {
	PXD_EMAIL_CHARS_ID = 0, /* key ids: [A-Za-z0-9_-] */
	PXD_EMAIL_CHARS_NAME,	/* tenants, metadata keys: [A-Za-z0-9._-] */
	PXD_EMAIL_CHARS_TEXT,	/* ids and values: printable ASCII 0x20..0x7e */
};

/* Returns true when <s> is <min>..<max> bytes, each of class <cls>. */
bool pxd_email_str_ok(struct pxd_sv s, size_t min, size_t max, enum pxd_email_chars cls);

/* Returns true for issued-at >= 2020 and a lifetime of 1 s .. PXD_EMAIL_TTL_MAX_S. */
bool pxd_email_times_ok(uint32_t issued, uint32_t expires);

/* Returns true for at most PXD_EMAIL_META_MAX unique, well-formed pairs in the byte limit. */
bool pxd_email_meta_ok(const struct pxd_email_meta *m, size_t n);

/* Returns the first field of <c> that breaks its limits, or PXD_EMAIL_FIELD_NONE. */
enum pxd_email_field pxd_email_claims_check(const struct pxd_email_claims *c);

#endif
