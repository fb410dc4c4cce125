/* SPDX-License-Identifier: MIT */
/*
 * tls_cert.h - one certificate and key pair: reading the PEM files into an
 * SSL_CTX and refusing what would fail clients (a key readable by others,
 * an unreadable file, a key that does not match, a certificate expired or
 * not yet valid), with the facts `pixelctl tls status` shows. Main thread
 * (start and SIGHUP); the facts are read-only afterwards.
 */
#ifndef PXD_TLS_CERT_H
#define PXD_TLS_CERT_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "conf_tls.h"

#define PXD_TLS_SUBJECT_MAX 256
#define PXD_TLS_NAMES_MAX 1024

struct pxd_tls_cert_info {
	char subject[PXD_TLS_SUBJECT_MAX]; /* OpenSSL one-line form: /CN=... */
	char names[PXD_TLS_NAMES_MAX];	   /* the DNS subjectAltNames, comma separated */
	int64_t not_before;		   /* Unix seconds */
	int64_t not_after;
};

/*
 * Loads <cc>'s certificate chain and key into <ctx> and fills <info>.
 * Returns 0, or -EPERM (key readable by others), -ENOENT/-EACCES (unreadable), -EINVAL
 * (not PEM, key mismatch), -EKEYEXPIRED (expired), -EKEYREJECTED (not yet
 * valid) with <err> naming the file, what is wrong and what to do.
 */
int pxd_tls_cert_load(SSL_CTX *ctx, const struct pxd_conf_cert *cc, struct pxd_tls_cert_info *info,
		      char *err, size_t errlen);

#endif
