/* SPDX-License-Identifier: MIT */
/*
 * email_keys.h - what the token codec takes from the key ring (email_keys.c)
 * beyond email_token.h: finding a key by id and computing a tag with it. A
 * loaded ring is read-only, so any thread may call these; allocation-free.
 */
#ifndef PXD_EMAIL_KEYS_H
#define PXD_EMAIL_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "email_token.h"

/* Returns the key of <ring> named <kid>, or NULL. */
const struct pxd_email_key *pxd_email_key_find(const struct pxd_email_keys *ring,
					       struct pxd_sv kid);

/*
 * Writes the first PXD_EMAIL_TAG_LEN bytes of HMAC-SHA256(<k>, <n> bytes at
 * <msg>) to <tag>. No allocation, no lock: safe per request.
 */
void pxd_email_key_tag(const struct pxd_email_key *k, const uint8_t *msg, size_t n,
		       uint8_t tag[PXD_EMAIL_TAG_LEN]);

#endif
