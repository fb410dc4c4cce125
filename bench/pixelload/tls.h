/* SPDX-License-Identifier: MIT */
/*
 * tls.h - pixelload's TLS client (--tls, --tls-resume): one SSL per
 * connection on two memory BIOs, so the worker's io_uring keeps doing all
 * the I/O; the newest session ticket each worker received, to resume the
 * next connection with. The context is made by main before the workers
 * start; a connection's calls come from the worker thread that owns it.
 */
#ifndef PL_TLS_H
#define PL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct pl_worker;
struct pl_tls;

/** Makes the shared client context (TLS 1.2+, ALPN http/1.1, no verification: a load
 * generator). Returns 0 or -ENOMEM. Main thread, before the workers. */
int pl_tls_global_init(void);

/** Frees the context. Main thread, after the workers. */
void pl_tls_global_fini(void);

/** A client connection of <w> with SNI <sni> (NULL: none), resuming the worker's last session
 * when <resume>. NULL when out of memory. */
struct pl_tls *pl_tls_new(struct pl_worker *w, const char *sni, bool resume);

/** Frees <t>. Accepts NULL. */
void pl_tls_free(struct pl_tls *t);

/** Frees the session <w> keeps. */
void pl_tls_worker_fini(struct pl_worker *w);

/** Queues received bytes. Returns 0 or -ENOMEM. */
int pl_tls_input(struct pl_tls *t, const void *p, size_t n);

/** Advances the handshake: 1 done (with <resumed>), 0 needs more input, -1 failed. */
int pl_tls_handshake(struct pl_tls *t, bool *resumed);

/** Decrypts into <buf>: bytes, 0 for none yet, -1 when closed or broken. */
ssize_t pl_tls_read(struct pl_tls *t, void *buf, size_t cap);

/** Encrypts <n> bytes. Returns 0 or -1. */
int pl_tls_write(struct pl_tls *t, const void *p, size_t n);

/** Bytes of records to send, and taking them. */
size_t pl_tls_pending(const struct pl_tls *t);
size_t pl_tls_take(struct pl_tls *t, void *dst, size_t cap);

#endif
