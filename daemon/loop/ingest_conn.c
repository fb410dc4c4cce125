// SPDX-License-Identifier: MIT
/*
 * ingest_conn.c - one ingest thread's connection lifecycle: accept, the
 * multishot recv and its re-arming, sends, linger and close, timers, and the
 * peer address. What the bytes mean is ingest_request.c's (and ingest_tls.c's
 * for TLS connections). Ingest thread only.
 */
#include "ingest_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "compiler.h"
#include "ingest_request.h"
#include "ingest_tls.h"
#include "log.h"
#include "uring.h"

static struct pxd_log_ratelimit rl_errors;

static inline uint64_t ud_of(struct pxd_ingest *ing, enum pxd_op op, struct pxd_conn *c)
{
	return pxd_ud_encode(op, pxd_conn_slot(&ing->conns, c), c->gen, 0);
}

static void log_rl(const char *what, int err)
{
	uint64_t suppressed;

	if (pxd_log_ratelimit_ok(&rl_errors, 1000, &suppressed))
		pxd_log_warn("ingest", "%s: %s (similar lines suppressed=%lu)", what,
			     strerror(-err), suppressed);
}

/*
 * When even a flushed SQ has no room we cannot submit anything for this
 * connection; shutting the socket down synchronously makes the kernel end
 * its pending multishot recv, which brings it through the normal close path.
 */
struct io_uring_sqe *pxd_ingest_conn_sqe(struct pxd_ingest *ing, struct pxd_conn *c)
{
	struct io_uring_sqe *sqe = pxd_uring_get_sqe(&ing->ring);

	if (!sqe) {
		log_rl("submission queue full, dropping one connection", -EBUSY);
		shutdown(c->fd, SHUT_RDWR);
	}
	return sqe;
}

void pxd_ingest_conn_arm_accept(struct pxd_ingest *ing, unsigned l)
{
	struct io_uring_sqe *sqe = pxd_uring_get_sqe(&ing->ring);

	if (!sqe)
		return; /* retried on the next pass: accept_armed stays false */
	io_uring_prep_multishot_accept(sqe, ing->listen_fd[l], NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, pxd_ud_encode(PXD_OP_ACCEPT, 0, 0, (uint16_t)l));
	ing->accept_armed[l] = true;
}

static void arm_recv(struct pxd_ingest *ing, struct pxd_conn *c)
{
	struct io_uring_sqe *sqe = pxd_ingest_conn_sqe(ing, c);

	if (!sqe)
		return;
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = PXD_BUFRING_GROUP;
	io_uring_sqe_set_data64(sqe, ud_of(ing, PXD_OP_RECV, c));
	c->flags |= PXD_CONN_RECV_ARMED;
	c->flags &= ~PXD_CONN_NEED_RECV;
}

void pxd_ingest_conn_release(struct pxd_ingest *ing, struct pxd_conn *c)
{
	pxd_tls_conn_free(c->tls);
	c->tls = NULL;
	pxd_stat_add(&ing->m->conn_open, (uint64_t)-1);
	pxd_conn_put(&ing->conns, c);
}

static void submit_close(struct pxd_ingest *ing, struct pxd_conn *c)
{
	struct io_uring_sqe *sqe = pxd_uring_get_sqe(&ing->ring);

	c->flags |= PXD_CONN_CLOSE_SUBMITTED;
	if (!sqe) {
		close(c->fd);
		pxd_ingest_conn_release(ing, c);
		return;
	}
	io_uring_prep_close(sqe, c->fd);
	io_uring_sqe_set_data64(sqe, ud_of(ing, PXD_OP_CLOSE, c));
}

/* The fd is closed only when no SQE of ours still refers to it. */
void pxd_ingest_conn_finish_close(struct pxd_ingest *ing, struct pxd_conn *c)
{
	if ((c->flags & PXD_CONN_CLOSING) && !(c->flags & PXD_CONN_CLOSE_SUBMITTED) &&
	    !(c->flags & (PXD_CONN_RECV_ARMED | PXD_CONN_SENDING)) && !c->inflight)
		submit_close(ing, c);
}

void pxd_ingest_conn_close(struct pxd_ingest *ing, struct pxd_conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->flags & PXD_CONN_CLOSING)
		return;
	c->flags |= PXD_CONN_CLOSING;
	pxd_conn_timer_clear(c);
	pxd_list_del(&c->rearm_node);
	if (c->flags & PXD_CONN_RECV_ARMED) {
		sqe = pxd_uring_get_sqe(&ing->ring);
		if (sqe) {
			io_uring_prep_cancel64(sqe, ud_of(ing, PXD_OP_RECV, c), 0);
			io_uring_sqe_set_data64(sqe, pxd_ud_encode(PXD_OP_CANCEL, 0, 0, 0));
		} else {
			shutdown(c->fd, SHUT_RDWR);
		}
	}
	pxd_ingest_conn_finish_close(ing, c);
}

/*
 * After the last answer of a connection that closes, half-close our side and
 * keep reading until the peer's FIN (or LINGER_MS): closing with unread bytes
 * would make the kernel send a RST that can destroy the answer in flight.
 */
static void conn_linger(struct pxd_ingest *ing, struct pxd_conn *c)
{
	struct io_uring_sqe *sqe = pxd_ingest_conn_sqe(ing, c);

	c->flags &= ~PXD_CONN_CLOSE_AFTER;
	if (!sqe) {
		pxd_ingest_conn_close(ing, c);
		return;
	}
	io_uring_prep_shutdown(sqe, c->fd, SHUT_WR);
	io_uring_sqe_set_data64(sqe, ud_of(ing, PXD_OP_SHUTDOWN, c));
	c->inflight++;
	pxd_dbuf_release(&ing->conns.pool, &c->in);
	pxd_conn_timer_set(&ing->conns, c, PXD_TIMER_LINGER, (uint64_t)ing->mono_ms);
}

void pxd_ingest_conn_send(struct pxd_ingest *ing, struct pxd_conn *c)
{
	struct io_uring_sqe *sqe;
	struct pxd_dbuf tmp;

	if ((c->flags & (PXD_CONN_SENDING | PXD_CONN_CLOSING | PXD_CONN_PARKED)) ||
	    (!c->tls && !c->out.len))
		return;
	if (c->tls && pxd_ingest_tls_seal(ing, c))
		return;
	sqe = pxd_ingest_conn_sqe(ing, c);
	if (!sqe)
		return;
	/* The kernel reads <sending> until the CQE: new answers go to <out>. */
	if (!c->tls) {
		tmp = c->sending;
		c->sending = c->out;
		c->out = tmp;
		c->out.len = 0;
	}
	c->sent = 0;
	io_uring_prep_send(sqe, c->fd, c->sending.p, c->sending.len, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ud_of(ing, PXD_OP_SEND, c));
	c->flags |= PXD_CONN_SENDING;
}

void pxd_ingest_conn_on_accept(struct pxd_ingest *ing, struct io_uring_cqe *cqe, unsigned l)
{
	struct pxd_conn *c;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		ing->accept_armed[l] = false;
	if (cqe->res < 0) {
		if (cqe->res != -ECANCELED)
			log_rl("accept", cqe->res);
		return;
	}
	if (ing->stopping) {
		close(cqe->res);
		return;
	}
	c = pxd_conn_get(&ing->conns, cqe->res,
			 l == PXD_LISTENER_ADMIN || ing->listen_fd[PXD_LISTENER_ADMIN] < 0
			     ? 0
			     : PXD_INGEST_ADMIN_RESERVE);
	if (!c) {
		/* At server.max_connections: refusing here keeps every open
		 * connection's memory and latency as they are. */
		pxd_stat_add(&ing->m->conn_refused, 1);
		close(cqe->res);
		return;
	}
	if (l == PXD_LISTENER_ADMIN)
		c->flags |= PXD_CONN_ADMIN;
	if (l == PXD_LISTENER_TLS) {
		c->tls = pxd_tls_conn_new(&ing->tls);
		if (!c->tls) {
			log_rl("TLS connection refused", -ENOMEM);
			pxd_conn_put(&ing->conns, c);
			close(cqe->res);
			return;
		}
		c->flags |= PXD_CONN_TLS;
	}
	pxd_stat_add(&ing->m->conn_accepted, 1);
	pxd_stat_add(&ing->m->conn_open, 1);
	arm_recv(ing, c);
	pxd_conn_timer_set(&ing->conns, c, c->tls ? PXD_TIMER_HANDSHAKE : PXD_TIMER_IDLE,
			   (uint64_t)ing->mono_ms);
}

/*
 * Multishot recv, per io_uring's contract: each CQE with res > 0 carries one
 * provided buffer (IORING_CQE_F_BUFFER, id in the upper flag bits) that we
 * must give back; IORING_CQE_F_MORE clear means the recv has ended and must
 * be re-armed if we still want data; -ENOBUFS means every buffer was in use,
 * which is back-pressure: the connection is re-armed once buffers return.
 */
void pxd_ingest_conn_on_recv(struct pxd_ingest *ing, struct pxd_conn *c, struct io_uring_cqe *cqe)
{
	bool more = cqe->flags & IORING_CQE_F_MORE;

	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		char *data = pxd_bufring_get(&ing->br, bid);

		if (c && cqe->res > 0) {
			pxd_stat_add(&ing->m->bytes_in, (uint64_t)cqe->res);
			if (c->tls)
				pxd_ingest_tls_on_data(ing, c, data, (size_t)cqe->res);
			else
				pxd_ingest_request_on_data(ing, c, data, (size_t)cqe->res);
		}
		pxd_bufring_put(&ing->br, bid);
	}
	if (!c)
		return;
	if (!more)
		c->flags &= ~PXD_CONN_RECV_ARMED;
	if (cqe->res == 0 || (cqe->res < 0 && cqe->res != -ENOBUFS)) {
		/* EOF or error. A peer that half-closed after its last request
		 * still gets the answers already queued. */
		if (cqe->res == 0 && (c->flags & PXD_CONN_SENDING) &&
		    !(c->flags & PXD_CONN_CLOSING))
			c->flags |= PXD_CONN_CLOSE_AFTER;
		else
			pxd_ingest_conn_close(ing, c);
		pxd_ingest_conn_finish_close(ing, c);
		return;
	}
	if (cqe->res == -ENOBUFS) {
		pxd_stat_add(&ing->m->recv_nobufs, 1);
		c->flags |= PXD_CONN_NEED_RECV;
		pxd_list_add_tail(&ing->conns.rearm, &c->rearm_node);
		return;
	}
	if (!more && !(c->flags & PXD_CONN_CLOSING))
		arm_recv(ing, c);
	pxd_ingest_conn_finish_close(ing, c);
}

void pxd_ingest_conn_on_send(struct pxd_ingest *ing, struct pxd_conn *c, struct io_uring_cqe *cqe)
{
	c->flags &= ~PXD_CONN_SENDING;
	if (cqe->res < 0) {
		pxd_ingest_conn_close(ing, c);
		pxd_ingest_conn_finish_close(ing, c);
		return;
	}
	pxd_stat_add(&ing->m->bytes_out, (uint64_t)cqe->res);
	c->sent += (uint32_t)cqe->res;
	if (c->flags & PXD_CONN_CLOSING) {
		pxd_ingest_conn_finish_close(ing, c);
		return;
	}
	if (c->sent < c->sending.len) {
		struct io_uring_sqe *sqe = pxd_ingest_conn_sqe(ing, c);

		if (!sqe)
			return;
		io_uring_prep_send(sqe, c->fd, c->sending.p + c->sent, c->sending.len - c->sent,
				   MSG_NOSIGNAL);
		io_uring_sqe_set_data64(sqe, ud_of(ing, PXD_OP_SEND, c));
		c->flags |= PXD_CONN_SENDING;
		return;
	}
	c->sending.len = 0;
	if (c->flags & PXD_CONN_PAUSED)
		pxd_ingest_request_resume(ing, c);
	pxd_ingest_conn_send(ing, c);
	if (c->flags & PXD_CONN_SENDING)
		return;
	pxd_dbuf_release(&ing->conns.pool, &c->sending);
	if (c->flags & PXD_CONN_CLOSE_AFTER)
		conn_linger(ing, c);
}

void pxd_ingest_conn_expire_timers(struct pxd_ingest *ing)
{
	uint64_t now = (uint64_t)ing->mono_ms;
	struct pxd_conn *c;

	while ((c = pxd_conn_expired(&ing->conns, PXD_TIMER_REQUEST, now))) {
		pxd_stat_add(&ing->m->conn_timeouts, 1);
		pxd_dbuf_release(&ing->conns.pool, &c->in);
		pxd_ingest_request_refuse(ing, c, PXD_REFUSAL_REQUEST_TIMEOUT);
		if (c->flags & PXD_CONN_SENDING)
			continue; /* the 408 goes out after the send in flight */
		pxd_ingest_conn_send(ing, c);
	}
	while ((c = pxd_conn_expired(&ing->conns, PXD_TIMER_IDLE, now))) {
		pxd_stat_add(&ing->m->conn_idle_closed, 1);
		pxd_ingest_conn_close(ing, c);
	}
	while ((c = pxd_conn_expired(&ing->conns, PXD_TIMER_LINGER, now)))
		pxd_ingest_conn_close(ing, c);
	while ((c = pxd_conn_expired(&ing->conns, PXD_TIMER_HANDSHAKE, now))) {
		pxd_stat_add(&ing->m->tls.failures[PXD_TLS_FAIL_TIMEOUT], 1);
		pxd_ingest_conn_close(ing, c);
	}
}

void pxd_ingest_conn_rearm_starved(struct pxd_ingest *ing)
{
	/* Re-arm only when a good share of buffers is back, or we would bounce
	 * straight into -ENOBUFS again. */
	while (!pxd_list_empty(&ing->conns.rearm) && ing->br.lent < ing->br.nbufs / 2) {
		struct pxd_conn *c =
		    container_of(ing->conns.rearm.next, struct pxd_conn, rearm_node);

		pxd_list_del(&c->rearm_node);
		if (!(c->flags & (PXD_CONN_CLOSING | PXD_CONN_RECV_ARMED)))
			arm_recv(ing, c);
	}
}

const struct sockaddr_storage *pxd_ingest_peer(struct pxd_ingest *ing, struct pxd_conn *c)
{
	/* Once per connection, and only when an event needs the address:
	 * multishot accept shares one address buffer between connections. */
	if (!(c->flags & PXD_CONN_PEER_KNOWN)) {
		socklen_t len = sizeof(ing->peer);

		memset(&c->peer, 0, sizeof(c->peer));
		if (!getpeername(c->fd, (struct sockaddr *)&ing->peer, &len))
			memcpy(&c->peer, &ing->peer, PXD_MIN((size_t)len, sizeof(c->peer)));
		c->flags |= PXD_CONN_PEER_KNOWN;
	}
	/* The scratch's bytes past the 28 stay whatever they were: readers look
	 * only at the address family's own struct. */
	memcpy(&ing->peer, &c->peer, sizeof(c->peer));
	return &ing->peer;
}
