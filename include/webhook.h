/* SPDX-License-Identifier: MIT */
/*
 * webhook.h - the signature of the generic webhook destination
 * (adapters/webhook.c, registered as pxd_adapter_webhook): every POST carries
 * "X-Pixeld-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>"
 * so receivers can check who sent it and refuse replays. Exposed so the mock
 * platform and receivers' tests verify with the same rule. No state; any
 * thread.
 */
#ifndef PXD_WEBHOOK_H
#define PXD_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#define PXD_WEBHOOK_HEADER "X-Pixeld-Signature"
/* "t=" + 20 digits + ",v1=" + 64 hex + NUL */
#define PXD_WEBHOOK_SIG_MAX 96

/*
 * Writes "t=<t>,v1=<hex>" for <body> of <len> bytes signed with <secret> of
 * <secret_len> bytes at Unix time <t> into <out> (at least
 * PXD_WEBHOOK_SIG_MAX bytes). Returns 0, or -EINVAL when <t> is negative,
 * -ENOSPC when <outlen> is too small, -EIO when OpenSSL fails.
 */
int pxd_webhook_sign(const void *secret, size_t secret_len, int64_t t, const void *body, size_t len,
		     char *out, size_t outlen);

/*
 * Checks header value <sig> against <body> at Unix time <now>: the v1 HMAC
 * must match (compared in constant time) and t must lie within <tolerance_s>
 * of <now>. Returns 0, -EBADMSG (malformed header or wrong signature) or
 * -ETIME (outside the tolerance: a replay or a skewed clock).
 */
int pxd_webhook_verify(const void *secret, size_t secret_len, const char *sig, const void *body,
		       size_t len, int64_t now, int64_t tolerance_s);

#endif
