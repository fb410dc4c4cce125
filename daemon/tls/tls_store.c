// SPDX-License-Identifier: MIT
#include "daemon/tls/tls_store.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/tls/tls_sni.h"
#include "daemon/tls/tls_tickets.h"
#include "tls.h"

/*
 * The profile (README "HTTPS"): Mozilla's "intermediate" configuration,
 * version 5.7. TLS 1.2 and 1.3 only; for 1.2 ECDHE with AEAD ciphers only,
 * in server order (AES-GCM first: AES-NI makes it the cheapest; ChaCha20
 * for clients without it); groups X25519, P-256, P-384.
 */
#define CIPHERS_TLS12                                                \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define CIPHERS_TLS13 "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define GROUPS "X25519:P-256:P-384"
#define SID_CTX "pixeld"

static int store_idx = -1;

static const unsigned char alpn_http11[] = "\x08http/1.1";

/* ALPN (RFC 7301 §3.2): a client that offers protocols but not http/1.1 is refused. */
static int alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned int inlen, void *arg)
{
	enum pxd_tls_fail *why = SSL_get_app_data(s);
	unsigned char *sel;

	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, alpn_http11, sizeof(alpn_http11) - 1, in, inlen) ==
	    OPENSSL_NPN_NEGOTIATED) {
		*out = sel;
		return SSL_TLSEXT_ERR_OK;
	}
	if (why)
		*why = PXD_TLS_FAIL_ALPN;
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* The whole profile, on every context: OpenSSL takes some settings from the base context the
 * SSL was made from and others (ALPN) from the one SNI switched to. */
static SSL_CTX *profile_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, CIPHERS_TLS12) ||
	    !SSL_CTX_set_ciphersuites(ctx, CIPHERS_TLS13) ||
	    !SSL_CTX_set1_groups_list(ctx, GROUPS) ||
	    !SSL_CTX_set_session_id_context(ctx, (const unsigned char *)SID_CTX,
					    sizeof(SID_CTX) - 1)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
				     SSL_OP_NO_COMPRESSION);
	/* Resumption by tickets only, so any thread can resume any session. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 1);
	/* Memory BIOs: let OpenSSL take all that is queued in one read. */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	pxd_tls_tickets_attach(ctx);
	return ctx;
}

static void store_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct pxd_tls_store *st = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		SSL_CTX_free(st->e[i].ctx);
	free(st);
}

static int fill_entry(struct pxd_tls_entry *e, const struct pxd_conf_cert *cc, char *err,
		      size_t errlen)
{
	int rc;

	snprintf(e->name, sizeof(e->name), "%s", cc->name);
	memcpy(e->hosts, cc->hosts, sizeof(e->hosts));
	e->nhosts = cc->nhosts;
	e->ctx = profile_ctx();
	if (!e->ctx) {
		snprintf(err, errlen, "certificate.%s: cannot set up an OpenSSL context", cc->name);
		return -ENOMEM;
	}
	rc = pxd_tls_cert_load(e->ctx, cc, &e->info, err, errlen);
	return rc;
}

SSL_CTX *pxd_tls_store_build(const struct pxd_conf_tls *c, char *err, size_t errlen)
{
	struct pxd_tls_store *st;
	SSL_CTX *base;

	if (store_idx < 0)
		store_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, store_free);
	st = calloc(1, sizeof(*st));
	base = profile_ctx();
	if (!st || !base || store_idx < 0) {
		snprintf(err, errlen, "no memory for the TLS contexts");
		free(st);
		SSL_CTX_free(base);
		return NULL;
	}
	/* From here the base context owns the store. */
	SSL_CTX_set_ex_data(base, store_idx, st);
	st->base = base;
	st->default_idx = c->refuse_unknown ? -1 : 0;
	for (size_t i = 0; i < c->ncerts; i++) {
		int rc = fill_entry(&st->e[i], &c->certs[i], err, errlen);

		st->n = i + 1;
		if (rc) {
			SSL_CTX_free(base);
			return NULL;
		}
		if (!c->refuse_unknown && strcmp(c->certs[i].name, c->default_cert) == 0)
			st->default_idx = (int)i;
	}
	SSL_CTX_set_client_hello_cb(base, pxd_tls_sni_client_hello, st);
	ERR_clear_error();
	return base;
}

const struct pxd_tls_store *pxd_tls_store_of(const SSL_CTX *base)
{
	return SSL_CTX_get_ex_data(base, store_idx);
}
