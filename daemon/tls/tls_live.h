/* SPDX-License-Identifier: MIT */
/*
 * tls_live.h - the published certificate set (include/tls.h has the calls
 * other subsystems make); the layout is shared by tls_live.c and the status
 * and metrics code, which take their own reference to read it.
 */
#ifndef PXD_TLS_LIVE_H
#define PXD_TLS_LIVE_H

#include <openssl/ssl.h>
#include <pthread.h>

struct pxd_tls_live {
	pthread_mutex_t mu;
	SSL_CTX *base; /* one reference held by the live set; under mu */
	unsigned gen;  /* bumped under mu, read atomically */
};

/* A reference to the current base context (the caller frees it with SSL_CTX_free); <gen> may
 * be NULL. Any thread. */
SSL_CTX *pxd_tls_live_acquire(struct pxd_tls_live *live, unsigned *gen);

#endif
