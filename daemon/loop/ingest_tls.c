// SPDX-License-Identifier: MIT
/*
 * ingest_tls.c - the TLS record glue of one ingest thread: records in, the
 * handshake, plaintext on to ingest_request.c, and sealing answers into
 * records before ingest_conn.c sends them. Ingest thread only.
 */
#include "ingest_tls.h"

#include <errno.h>

#include "ingest_conn.h"
#include "ingest_request.h"

/* A TLS connection starts with a handshake record (RFC 8446 §5.1, ContentType 22). */
#define TLS_RECORD_HANDSHAKE 0x16
#define TLS_PLAIN_MAX 16384 /* one record's plaintext */

/*
 * TLS: encrypts what <out> holds and moves every record waiting (handshake
 * messages, tickets, alerts, answers) to <sending>. Returns 0 when there is
 * something to send, -EAGAIN when not, or -errno after closing <c>.
 */
int pxd_ingest_tls_seal(struct pxd_ingest *ing, struct pxd_conn *c)
{
	size_t n;

	if (c->out.len && pxd_tls_conn_write(c->tls, c->out.p, c->out.len)) {
		pxd_ingest_conn_close(ing, c);
		return -EIO;
	}
	pxd_dbuf_release(&ing->conns.pool, &c->out);
	if ((c->flags & (PXD_CONN_CLOSE_AFTER | PXD_CONN_TLS_UP)) ==
	    (PXD_CONN_CLOSE_AFTER | PXD_CONN_TLS_UP))
		pxd_tls_conn_close_notify(c->tls);
	n = pxd_tls_conn_pending(c->tls);
	if (!n)
		return -EAGAIN;
	if (pxd_dbuf_reserve(&ing->conns.pool, &c->sending, (uint32_t)n)) {
		pxd_ingest_conn_close(ing, c);
		return -ENOMEM;
	}
	c->sending.len += (uint32_t)pxd_tls_conn_take(c->tls, c->sending.p + c->sending.len, n);
	return 0;
}

/* Sends the alert OpenSSL left (if any), then closes. */
static void tls_failed(struct pxd_ingest *ing, struct pxd_conn *c, enum pxd_tls_fail why)
{
	pxd_stat_add(&ing->m->tls.failures[why], 1);
	c->flags |= PXD_CONN_CLOSE_AFTER;
	pxd_ingest_conn_send(ing, c);
	if (!(c->flags & PXD_CONN_SENDING))
		pxd_ingest_conn_close(ing, c);
}

/* Plain HTTP on the TLS port gets one plain-text 400 (as nginx answers it), then close. */
static void tls_plain_http(struct pxd_ingest *ing, struct pxd_conn *c)
{
	pxd_stat_add(&ing->m->tls.failures[PXD_TLS_FAIL_PLAIN_HTTP], 1);
	pxd_tls_conn_free(c->tls);
	c->tls = NULL;
	pxd_ingest_request_refuse(ing, c, PXD_REFUSAL_PLAIN_HTTP);
	pxd_ingest_conn_send(ing, c);
}

/*
 * Records in, handshake until it is done, then each piece of plaintext
 * through on_data exactly as a plain connection's bytes; what OpenSSL has to
 * say (handshake messages, tickets) goes out with the answers.
 */
void pxd_ingest_tls_on_data(struct pxd_ingest *ing, struct pxd_conn *c, const char *data, size_t n)
{
	char plain[TLS_PLAIN_MAX];
	ssize_t got = 0;

	if (c->flags & (PXD_CONN_CLOSING | PXD_CONN_CLOSE_AFTER) || c->timer == PXD_TIMER_LINGER)
		return;
	if (!(c->flags & PXD_CONN_TLS_FED)) {
		c->flags |= PXD_CONN_TLS_FED;
		if ((unsigned char)data[0] != TLS_RECORD_HANDSHAKE) {
			if (data[0] >= 'A' && data[0] <= 'Z')
				tls_plain_http(ing, c);
			else
				tls_failed(ing, c, PXD_TLS_FAIL_NOT_TLS);
			return;
		}
	}
	if (pxd_tls_conn_input(c->tls, data, n)) {
		pxd_ingest_conn_close(ing, c);
		return;
	}
	if (!(c->flags & PXD_CONN_TLS_UP)) {
		enum pxd_tls_version v = PXD_TLS_V12;
		enum pxd_tls_fail why = PXD_TLS_FAIL_OTHER;
		bool resumed = false;

		switch (pxd_tls_conn_handshake(c->tls, &v, &resumed, &why)) {
		case PXD_TLS_STEP_AGAIN:
			pxd_ingest_conn_send(ing, c);
			return;
		case PXD_TLS_STEP_FAILED:
			tls_failed(ing, c, why);
			return;
		case PXD_TLS_STEP_DONE:
			break;
		}
		c->flags |= PXD_CONN_TLS_UP;
		pxd_stat_add(&ing->m->tls.handshakes[v], 1);
		pxd_stat_add(&ing->m->tls.resumed[v], resumed);
		pxd_conn_timer_set(&ing->conns, c, PXD_TIMER_IDLE, (uint64_t)ing->mono_ms);
		/* The session ticket goes now, not with the first answer (which may wait for
		 * the journal): clients use a TLS 1.3 ticket once, so a late one leaves their
		 * next connection nothing to resume with. */
		pxd_ingest_conn_send(ing, c);
	}
	while (!(c->flags & (PXD_CONN_CLOSING | PXD_CONN_CLOSE_AFTER)) &&
	       (got = pxd_tls_conn_read(c->tls, plain, sizeof(plain))) > 0)
		pxd_ingest_request_on_data(ing, c, plain, (size_t)got);
	if (got == -ECONNRESET && !(c->flags & PXD_CONN_CLOSING)) {
		/* close_notify or a bad record: answers already queued still go. */
		if (c->flags & PXD_CONN_SENDING)
			c->flags |= PXD_CONN_CLOSE_AFTER;
		else
			pxd_ingest_conn_close(ing, c);
	}
	pxd_ingest_conn_send(ing, c);
}
