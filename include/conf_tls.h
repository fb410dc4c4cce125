/* SPDX-License-Identifier: MIT */
/*
 * conf_tls.h - the TLS part of the configuration: the [tls] section (which
 * certificate answers names that match none, ticket key rotation) and the
 * [certificate "NAME"] sections (cert, key, hosts). conf.c hands their keys
 * here; it owns server.tls_listen and server.handshake_timeout itself. Only
 * names, paths and host patterns are parsed here: the files are read and
 * checked by daemon/tls/tls_cert.c. Main thread only.
 */
#ifndef PXD_CONF_TLS_H
#define PXD_CONF_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PXD_CONF_TLS_MAX_CERTS 32
#define PXD_CONF_TLS_MAX_HOSTS 32
#define PXD_CONF_TLS_NAME_MAX 64
#define PXD_CONF_TLS_HOST_MAX 256
#define PXD_CONF_TLS_PATH_MAX 1024

/* One [certificate "NAME"] section. */
struct pxd_conf_cert {
	char name[PXD_CONF_TLS_NAME_MAX];
	int line;			  /* of the section header */
	char cert[PXD_CONF_TLS_PATH_MAX]; /* PEM: the certificate, then its chain */
	char key[PXD_CONF_TLS_PATH_MAX];  /* PEM private key, mode 600 */
	/* Lowercase exact names ("t.shop.example") or wildcards ("*.shop.example",
	 * which matches one label, as RFC 6125 §6.4.3 has it). */
	char hosts[PXD_CONF_TLS_MAX_HOSTS][PXD_CONF_TLS_HOST_MAX];
	size_t nhosts;
};

struct pxd_conf_tls {
	struct pxd_conf_cert certs[PXD_CONF_TLS_MAX_CERTS];
	size_t ncerts;
	/* The certificate for names no hosts list matches (and clients that
	 * send no SNI); empty: the first section. */
	char default_cert[PXD_CONF_TLS_NAME_MAX];
	bool refuse_unknown; /* default_certificate = none: such handshakes fail */
	uint32_t ticket_rotation_s;
};

/* Fills <c> with the defaults: no certificates, tickets rotating hourly. */
void pxd_conf_tls_defaults(struct pxd_conf_tls *c);

/*
 * Sets [tls] key <key> to <value>. Returns 0, -ENOENT for an unknown key, or
 * -EINVAL with <err> saying what is wrong and what to write instead (the
 * caller prefixes "file:line: tls.<key>: ").
 */
int pxd_conf_tls_set(struct pxd_conf_tls *c, const char *key, const char *value, char *err,
		     size_t errlen);

/*
 * Opens a [certificate "<name>"] section at <line>. Returns the new section,
 * or NULL with <err> (name taken, too many sections).
 */
struct pxd_conf_cert *pxd_conf_tls_add_cert(struct pxd_conf_tls *c, const char *name, int line,
					    char *err, size_t errlen);

/* Sets key <key> of one certificate section; returns as pxd_conf_tls_set. */
int pxd_conf_tls_cert_set(struct pxd_conf_cert *cert, const char *key, const char *value, char *err,
			  size_t errlen);

/* Checks one section when it ends: cert, key and hosts are all there. 0 or -EINVAL with <err>. */
int pxd_conf_tls_cert_check(const struct pxd_conf_cert *cert, char *err, size_t errlen);

/*
 * Checks the whole after the file is read: default_certificate names a
 * section, and a TLS listener (<listening>) has a certificate. Returns 0 or
 * -EINVAL with <err>.
 */
int pxd_conf_tls_check(const struct pxd_conf_tls *c, bool listening, char *err, size_t errlen);

#endif
