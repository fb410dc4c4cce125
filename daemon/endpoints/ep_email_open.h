/* SPDX-License-Identifier: MIT */
/*
 * ep_email_open.h - the EmailOpen event's props, as GET /o/<token>.gif
 * (ep_email_open.c) writes them; exported for its unit test. Allocation-free;
 * the ingest thread.
 */
#ifndef PXD_EP_EMAIL_OPEN_H
#define PXD_EP_EMAIL_OPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "email_token.h"
#include "mail_proxy.h"

/* Room for the longest props object pxd_email_open_props_json() writes. */
#define PXD_EMAIL_OPEN_PROPS_MAX 1536

/*
 * Writes the EmailOpen event's props object for the verified token <tok>:
 *   {"campaign":..,"message":..,"recipient":..,"meta":{..},
 *    "open_kind":"human"|..,"first_open":true|false}
 * NUL-terminated into <out>. Returns the length, or -ENOSPC when <cap> is too
 * small (PXD_EMAIL_OPEN_PROPS_MAX always fits). Allocates nothing; any thread.
 */
ssize_t pxd_email_open_props_json(const struct pxd_email_token *tok, enum pxd_open_kind kind,
				  bool first_open, char *out, size_t cap);

#endif
