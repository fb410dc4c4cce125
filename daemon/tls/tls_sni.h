/* SPDX-License-Identifier: MIT */
/*
 * tls_sni.h - which certificate answers a ClientHello: the server_name
 * extension read out of the hello, matched against each certificate's hosts
 * (exact, or "*.example.com" for one label), else the default certificate,
 * else the handshake is refused with unrecognized_name. Runs inside
 * OpenSSL's ClientHello callback on the connection's ingest thread.
 */
#ifndef PXD_TLS_SNI_H
#define PXD_TLS_SNI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "daemon/tls/tls_store.h"

/*
 * Reads the host name of a server_name extension body <ext, len> (RFC 6066
 * §3) into <name> (lowercased, NUL-ended, one trailing dot dropped, no empty
 * label). Returns its
 * length, or -EINVAL for a malformed extension or a name that is no host
 * name, -ENOENT when it carries no host_name entry.
 */
int pxd_tls_sni_parse(const uint8_t *ext, size_t len, char *name, size_t cap);

/* True when <name> matches the pattern <pat> ("t.example.com" or "*.example.com"). */
bool pxd_tls_sni_match(const char *pat, const char *name);

/* The entry of <st> serving <name> (NULL: no SNI), or -1 when none does. */
int pxd_tls_sni_pick(const struct pxd_tls_store *st, const char *name);

/* OpenSSL ClientHello callback; <arg> is the store. Switches the SSL to the picked context. */
int pxd_tls_sni_client_hello(SSL *s, int *alert, void *arg);

#endif
