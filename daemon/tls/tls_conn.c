// SPDX-License-Identifier: MIT
/*
 * One connection's TLS through two memory BIOs: the loop writes what recv
 * delivered into <rbio> and sends what OpenSSL left in <wbio>, so OpenSSL
 * never touches the socket and never blocks. A memory BIO keeps its buffer
 * once grown, so records after the handshake cost no allocation.
 */
#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>

struct pxd_tls_conn {
	SSL *ssl;
	BIO *rbio;
	BIO *wbio;
	enum pxd_tls_fail why; /* set by our callbacks; PXD_TLS_FAIL_COUNT while unset */
};

struct pxd_tls_conn *pxd_tls_conn_new(const struct pxd_tls_ref *ref)
{
	struct pxd_tls_conn *tc;

	if (!ref->base)
		return NULL;
	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return NULL;
	tc->why = PXD_TLS_FAIL_COUNT;
	tc->ssl = SSL_new(ref->base);
	tc->rbio = BIO_new(BIO_s_mem());
	tc->wbio = BIO_new(BIO_s_mem());
	if (!tc->ssl || !tc->rbio || !tc->wbio) {
		BIO_free(tc->rbio);
		BIO_free(tc->wbio);
		SSL_free(tc->ssl);
		free(tc);
		ERR_clear_error();
		return NULL;
	}
	/* An empty read BIO means "wait for more", not end of stream. */
	BIO_set_mem_eof_return(tc->rbio, -1);
	SSL_set_bio(tc->ssl, tc->rbio, tc->wbio);
	SSL_set_accept_state(tc->ssl);
	SSL_set_app_data(tc->ssl, &tc->why);
	return tc;
}

void pxd_tls_conn_free(struct pxd_tls_conn *tc)
{
	if (!tc)
		return;
	SSL_free(tc->ssl); /* frees both BIOs */
	free(tc);
}

int pxd_tls_conn_input(struct pxd_tls_conn *tc, const void *p, size_t n)
{
	return BIO_write(tc->rbio, p, (int)n) == (int)n ? 0 : -ENOMEM;
}

static enum pxd_tls_fail classify(struct pxd_tls_conn *tc, int ssl_err)
{
	unsigned long e = ERR_peek_last_error();
	int reason = ERR_GET_REASON(e);

	if (tc->why != PXD_TLS_FAIL_COUNT)
		return tc->why;
	if (ssl_err == SSL_ERROR_ZERO_RETURN || reason >= SSL_AD_REASON_OFFSET)
		return PXD_TLS_FAIL_PEER_CLOSED;
	switch (reason) {
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_VERSION_TOO_LOW:
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_SHARED_GROUPS:
	case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
		return PXD_TLS_FAIL_PROTOCOL;
	case SSL_R_HTTP_REQUEST:
		return PXD_TLS_FAIL_PLAIN_HTTP;
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_RECORD_LENGTH_MISMATCH:
	case SSL_R_LENGTH_MISMATCH:
	case SSL_R_BAD_PACKET_LENGTH:
	case SSL_R_UNEXPECTED_MESSAGE:
	case SSL_R_UNEXPECTED_RECORD:
		return PXD_TLS_FAIL_NOT_TLS;
	default:
		return PXD_TLS_FAIL_OTHER;
	}
}

enum pxd_tls_step pxd_tls_conn_handshake(struct pxd_tls_conn *tc, enum pxd_tls_version *version,
					 bool *resumed, enum pxd_tls_fail *why)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(tc->ssl);
	if (r == 1) {
		*version = SSL_version(tc->ssl) == TLS1_3_VERSION ? PXD_TLS_V13 : PXD_TLS_V12;
		*resumed = SSL_session_reused(tc->ssl);
		return PXD_TLS_STEP_DONE;
	}
	e = SSL_get_error(tc->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		ERR_clear_error();
		return PXD_TLS_STEP_AGAIN;
	}
	*why = classify(tc, e);
	ERR_clear_error();
	return PXD_TLS_STEP_FAILED;
}

ssize_t pxd_tls_conn_read(struct pxd_tls_conn *tc, void *buf, size_t cap)
{
	int r, e;

	ERR_clear_error();
	r = SSL_read(tc->ssl, buf, (int)cap);
	if (r > 0)
		return r;
	e = SSL_get_error(tc->ssl, r);
	ERR_clear_error();
	return e == SSL_ERROR_WANT_READ ? -EAGAIN : -ECONNRESET;
}

int pxd_tls_conn_write(struct pxd_tls_conn *tc, const void *p, size_t n)
{
	ERR_clear_error();
	if (SSL_write(tc->ssl, p, (int)n) == (int)n)
		return 0;
	ERR_clear_error();
	return -EIO;
}

void pxd_tls_conn_close_notify(struct pxd_tls_conn *tc)
{
	ERR_clear_error();
	if (SSL_is_init_finished(tc->ssl) && !(SSL_get_shutdown(tc->ssl) & SSL_SENT_SHUTDOWN))
		SSL_shutdown(tc->ssl); /* 0: sent, the peer's answer is not awaited */
	ERR_clear_error();
}

size_t pxd_tls_conn_pending(const struct pxd_tls_conn *tc)
{
	return BIO_ctrl_pending(tc->wbio);
}

size_t pxd_tls_conn_take(struct pxd_tls_conn *tc, void *dst, size_t cap)
{
	int n = BIO_read(tc->wbio, dst, (int)cap);

	return n > 0 ? (size_t)n : 0;
}
