// SPDX-License-Identifier: MIT
#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct pl_tls {
	SSL *ssl;
	BIO *rbio, *wbio;
};

static SSL_CTX *ctx;

/* A new ticket (TLS 1.3 sends it after the handshake): keep the newest per worker, the
 * oldest dropped when the cache is full. */
static int new_session(SSL *s, SSL_SESSION *sess)
{
	struct pl_worker *w = SSL_get_app_data(s);

	if (w->tls_ntickets == PL_TLS_TICKETS) {
		SSL_SESSION_free(w->tls_tickets[0]);
		memmove(w->tls_tickets, w->tls_tickets + 1,
			(PL_TLS_TICKETS - 1) * sizeof(w->tls_tickets[0]));
		w->tls_ntickets--;
	}
	w->tls_tickets[w->tls_ntickets++] = sess;
	return 1; /* we keep the reference */
}

int pl_tls_global_init(void)
{
	static const unsigned char alpn[] = "\x08http/1.1";

	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0)
		return -ENOMEM;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx,
				       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session);
	SSL_CTX_set_read_ahead(ctx, 1);
	return 0;
}

void pl_tls_global_fini(void)
{
	SSL_CTX_free(ctx);
	ctx = NULL;
}

struct pl_tls *pl_tls_new(struct pl_worker *w, const char *sni, bool resume)
{
	struct pl_tls *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ssl = SSL_new(ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->rbio || !t->wbio) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		free(t);
		return NULL;
	}
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_connect_state(t->ssl);
	SSL_set_app_data(t->ssl, w);
	if (sni && *sni)
		SSL_set_tlsext_host_name(t->ssl, sni);
	if (resume && w->tls_ntickets) {
		SSL_SESSION *sess = w->tls_tickets[--w->tls_ntickets];

		SSL_set_session(t->ssl, sess); /* takes its own reference */
		SSL_SESSION_free(sess);
	}
	return t;
}

void pl_tls_free(struct pl_tls *t)
{
	if (!t)
		return;
	/* Without this SSL_free takes the connection as broken and marks its session (the
	 * ticket --tls-resume keeps) not resumable. */
	SSL_set_shutdown(t->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(t->ssl);
	free(t);
}

void pl_tls_worker_fini(struct pl_worker *w)
{
	while (w->tls_ntickets)
		SSL_SESSION_free(w->tls_tickets[--w->tls_ntickets]);
}

int pl_tls_input(struct pl_tls *t, const void *p, size_t n)
{
	return BIO_write(t->rbio, p, (int)n) == (int)n ? 0 : -ENOMEM;
}

int pl_tls_handshake(struct pl_tls *t, bool *resumed)
{
	int r;

	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		*resumed = SSL_session_reused(t->ssl);
		return 1;
	}
	r = SSL_get_error(t->ssl, r) == SSL_ERROR_WANT_READ ? 0 : -1;
	ERR_clear_error();
	return r;
}

ssize_t pl_tls_read(struct pl_tls *t, void *buf, size_t cap)
{
	int r;

	ERR_clear_error();
	r = SSL_read(t->ssl, buf, (int)cap);
	if (r > 0)
		return r;
	r = SSL_get_error(t->ssl, r) == SSL_ERROR_WANT_READ ? 0 : -1;
	ERR_clear_error();
	return r;
}

int pl_tls_write(struct pl_tls *t, const void *p, size_t n)
{
	ERR_clear_error();
	return SSL_write(t->ssl, p, (int)n) == (int)n ? 0 : -1;
}

size_t pl_tls_pending(const struct pl_tls *t)
{
	return BIO_ctrl_pending(t->wbio);
}

size_t pl_tls_take(struct pl_tls *t, void *dst, size_t cap)
{
	int n = BIO_read(t->wbio, dst, (int)cap);

	return n > 0 ? (size_t)n : 0;
}
