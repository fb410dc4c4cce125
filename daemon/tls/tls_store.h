/* SPDX-License-Identifier: MIT */
/*
 * tls_store.h - one immutable set of certificates built from the
 * configuration: an SSL_CTX per [certificate] section, all with the same
 * protocol profile, plus the base context every connection starts on (it
 * holds no certificate; the ClientHello callback switches to the one SNI
 * picks). The store belongs to its base context: it is freed when the last
 * SSL made from that context and the last thread holding it let go (the
 * ex_data free callback), so a reload never pulls a certificate from under
 * a live connection. Built on the main thread; read by every thread.
 */
#ifndef PXD_TLS_STORE_H
#define PXD_TLS_STORE_H

#include <openssl/ssl.h>

#include "conf_tls.h"
#include "daemon/tls/tls_cert.h"

struct pxd_tls_entry {
	char name[PXD_CONF_TLS_NAME_MAX];
	SSL_CTX *ctx;
	struct pxd_tls_cert_info info;
	char hosts[PXD_CONF_TLS_MAX_HOSTS][PXD_CONF_TLS_HOST_MAX];
	size_t nhosts;
};

struct pxd_tls_store {
	SSL_CTX *base;
	int default_idx; /* -1: names that match no hosts list are refused */
	size_t n;
	struct pxd_tls_entry e[PXD_CONF_TLS_MAX_CERTS];
};

/*
 * Builds a store from <c>. Returns its base context (one reference, the
 * caller's), or NULL with <err> saying which certificate is wrong and how
 * to fix it (see pxd_tls_cert_load). Main thread.
 */
SSL_CTX *pxd_tls_store_build(const struct pxd_conf_tls *c, char *err, size_t errlen);

/* Returns the store a base context (from pxd_tls_store_build) belongs to. */
const struct pxd_tls_store *pxd_tls_store_of(const SSL_CTX *base);

#endif
