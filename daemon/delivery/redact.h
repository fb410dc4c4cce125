/* SPDX-License-Identifier: MIT */
/*
 * redact.h - what a response may not carry into a dead letter's response
 * excerpt, a delivery's reason or a log line: runs of token characters that
 * look like a credential or a hash. Platforms do not echo credentials, but a
 * receiver (a webhook, a proxy's error page) may. Pure functions: any thread.
 */
#ifndef PXD_REDACT_H
#define PXD_REDACT_H

#include <stddef.h>

#define PXD_REDACT_RUN 20 /* token characters in a row that may be a secret */
#define PXD_REDACTED "[redacted]"

/*
 * Replaces in <s> (NUL-ended) each run of at least PXD_REDACT_RUN token
 * characters (A-Z a-z 0-9 _ - + / =) that holds both a letter and a digit
 * with PXD_REDACTED, in place (the text only shrinks). Returns the new length.
 */
size_t pxd_redact(char *s);

#endif
