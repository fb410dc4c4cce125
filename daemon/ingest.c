// SPDX-License-Identifier: MIT
#include "ingest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "bot_ua.h"
#include "http_reply.h"
#include "log.h"
#include "router.h"
#include "uring.h"

#define SQ_ENTRIES 4096
#define RECV_BUFS 2048
#define RECV_BUF_SIZE 4096
#define LINGER_MS 2000
/* Connection slots only the admin listener may use. */
#define ADMIN_RESERVE 16
/* Queued output past which a connection stops parsing until it drains. */
#define OUT_HIGH_WATER (256u * 1024)
/* Raw bytes of one request held at most: head, body and chunk framing. */
#define IN_MAX (2 * PXD_HTTP_MAX_HEAD + PXD_HTTP_MAX_BODY)
#define IN_MAX_ADMIN (2 * PXD_HTTP_MAX_HEAD + PXD_ADMIN_MAX_BODY)

static struct pxd_log_ratelimit rl_errors;

static inline uint64_t ud_of(struct pxd_ingest *ing, enum pxd_op op, struct pxd_conn *c)
{
	return pxd_ud_encode(op, pxd_conn_slot(&ing->conns, c), c->gen, 0);
}

static void clock_tick(struct pxd_ingest *ing)
{
	ing->now_ms = pxd_now_ms();
	ing->mono_ms = pxd_mono_ms();
	pxd_reply_update_date(ing);
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
static struct io_uring_sqe *conn_sqe(struct pxd_ingest *ing, struct pxd_conn *c)
{
	struct io_uring_sqe *sqe = pxd_uring_get_sqe(&ing->ring);

	if (!sqe) {
		log_rl("submission queue full, dropping one connection", -EBUSY);
		shutdown(c->fd, SHUT_RDWR);
	}
	return sqe;
}

static void arm_accept(struct pxd_ingest *ing, unsigned l)
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
	struct io_uring_sqe *sqe = conn_sqe(ing, c);

	if (!sqe)
		return;
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = PXD_BUFRING_GROUP;
	io_uring_sqe_set_data64(sqe, ud_of(ing, PXD_OP_RECV, c));
	c->flags |= PXD_CONN_RECV_ARMED;
	c->flags &= ~PXD_CONN_NEED_RECV;
}

static void submit_close(struct pxd_ingest *ing, struct pxd_conn *c)
{
	struct io_uring_sqe *sqe = pxd_uring_get_sqe(&ing->ring);

	c->flags |= PXD_CONN_CLOSE_SUBMITTED;
	if (!sqe) {
		close(c->fd);
		pxd_stat_add(&ing->m->conn_open, (uint64_t)-1);
		pxd_conn_put(&ing->conns, c);
		return;
	}
	io_uring_prep_close(sqe, c->fd);
	io_uring_sqe_set_data64(sqe, ud_of(ing, PXD_OP_CLOSE, c));
}

/* The fd is closed only when no SQE of ours still refers to it. */
static void maybe_finish_close(struct pxd_ingest *ing, struct pxd_conn *c)
{
	if ((c->flags & PXD_CONN_CLOSING) && !(c->flags & PXD_CONN_CLOSE_SUBMITTED) &&
	    !(c->flags & (PXD_CONN_RECV_ARMED | PXD_CONN_SENDING)) && !c->inflight)
		submit_close(ing, c);
}

static void conn_close(struct pxd_ingest *ing, struct pxd_conn *c)
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
	maybe_finish_close(ing, c);
}

/*
 * After the last answer of a connection that closes, half-close our side and
 * keep reading until the peer's FIN (or LINGER_MS): closing with unread bytes
 * would make the kernel send a RST that can destroy the answer in flight.
 */
static void conn_linger(struct pxd_ingest *ing, struct pxd_conn *c)
{
	struct io_uring_sqe *sqe = conn_sqe(ing, c);

	c->flags &= ~PXD_CONN_CLOSE_AFTER;
	if (!sqe) {
		conn_close(ing, c);
		return;
	}
	io_uring_prep_shutdown(sqe, c->fd, SHUT_WR);
	io_uring_sqe_set_data64(sqe, ud_of(ing, PXD_OP_SHUTDOWN, c));
	c->inflight++;
	pxd_dbuf_release(&ing->conns.pool, &c->in);
	pxd_conn_timer_set(&ing->conns, c, PXD_TIMER_LINGER, (uint64_t)ing->mono_ms);
}

static void start_send(struct pxd_ingest *ing, struct pxd_conn *c)
{
	struct io_uring_sqe *sqe;
	struct pxd_dbuf tmp;

	if ((c->flags & (PXD_CONN_SENDING | PXD_CONN_CLOSING | PXD_CONN_PARKED)) || !c->out.len)
		return;
	sqe = conn_sqe(ing, c);
	if (!sqe)
		return;
	/* The kernel reads <sending> until the CQE: new answers go to <out>. */
	tmp = c->sending;
	c->sending = c->out;
	c->out = tmp;
	c->out.len = 0;
	c->sent = 0;
	io_uring_prep_send(sqe, c->fd, c->sending.p, c->sending.len, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ud_of(ing, PXD_OP_SEND, c));
	c->flags |= PXD_CONN_SENDING;
}

static void answer_refusal(struct pxd_ingest *ing, struct pxd_conn *c, enum pxd_refusal r)
{
	struct pxd_reqctx rc = {
		.ing = ing,
		.conn = c,
		.ep = (c->flags & PXD_CONN_ADMIN) ? PXD_EP_ADMIN : PXD_EP_UNKNOWN,
		.close = true,
	};

	pxd_reply_refusal(&rc, r, NULL);
}

/*
 * The answers queued on <c> go out only once the journal write (ack=fast)
 * or the fsync (ack=durable) that covers this pass's appends has completed. A connection parked
 * again (pipelining) moves to the tail with the newer snapshot.
 */
static void park(struct pxd_ingest *ing, struct pxd_conn *c)
{
	pxd_list_del(&c->park_node);
	pxd_list_add_tail(&ing->parked, &c->park_node);
	c->flags |= PXD_CONN_PARKED;
	c->park_snap = ing->snap_tail;
	ing->parked_this_pass = true;
}

/*
 * Parses and answers every complete request in <buf, len>. Returns how many
 * bytes were consumed; the rest is an unfinished request (or input held back
 * while output drains) that the caller keeps.
 */
static size_t process(struct pxd_ingest *ing, struct pxd_conn *c, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		enum pxd_refusal refusal = PXD_REFUSAL_NONE;
		struct pxd_reqctx rc;
		ssize_t n;

		if (c->out.len > OUT_HIGH_WATER) {
			c->flags |= PXD_CONN_PAUSED;
			break;
		}
		if (c->flags & PXD_CONN_ADMIN)
			n = pxd_http_parse_request(buf + off, len - off, &ing->req,
						   ing->admin_body_scratch, PXD_ADMIN_MAX_BODY,
						   &refusal);
		else
			n = pxd_http_parse_request(buf + off, len - off, &ing->req,
						   ing->body_scratch, PXD_HTTP_MAX_BODY, &refusal);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			answer_refusal(ing, c, refusal);
			return len;
		}
		memset(&rc, 0, sizeof(rc));
		rc.ing = ing;
		rc.conn = c;
		rc.req = &ing->req;
		rc.head = ing->req.method == PXD_HTTP_HEAD;
		rc.close = !ing->req.keep_alive || ing->stopping;
		pxd_router_dispatch(&rc);
		if (rc.journaled)
			park(ing, c);
		off += (size_t)n;
		if (c->flags & PXD_CONN_CLOSE_AFTER)
			return len;
	}
	return off;
}

static void after_input(struct pxd_ingest *ing, struct pxd_conn *c)
{
	start_send(ing, c);
	if (c->flags & (PXD_CONN_CLOSE_AFTER | PXD_CONN_CLOSING))
		return;
	if (c->in.len)
		pxd_conn_timer_set(&ing->conns, c, PXD_TIMER_REQUEST, (uint64_t)ing->mono_ms);
	else
		pxd_conn_timer_set(&ing->conns, c, PXD_TIMER_IDLE, (uint64_t)ing->mono_ms);
}

static void on_data(struct pxd_ingest *ing, struct pxd_conn *c, const char *data, size_t n)
{
	size_t used;

	pxd_stat_add(&ing->m->bytes_in, n);
	if (c->flags & (PXD_CONN_CLOSING | PXD_CONN_CLOSE_AFTER) || c->timer == PXD_TIMER_LINGER)
		return; /* answered for good: what comes now is discarded */

	if (!c->in.len && !(c->flags & PXD_CONN_PAUSED)) {
		/* Common case: whole requests inside one receive buffer, parsed in place. */
		used = process(ing, c, data, n);
		if (used < n &&
		    pxd_dbuf_append(&ing->conns.pool, &c->in, data + used, (uint32_t)(n - used))) {
			conn_close(ing, c);
			return;
		}
	} else {
		if (c->in.len + n > ((c->flags & PXD_CONN_ADMIN) ? IN_MAX_ADMIN : IN_MAX)) {
			answer_refusal(ing, c, PXD_REFUSAL_BODY_TOO_LARGE);
		} else if (pxd_dbuf_append(&ing->conns.pool, &c->in, data, (uint32_t)n)) {
			conn_close(ing, c);
			return;
		} else if (!(c->flags & PXD_CONN_PAUSED)) {
			used = process(ing, c, c->in.p, c->in.len);
			pxd_dbuf_consume(&c->in, (uint32_t)used);
		}
		if (!c->in.len)
			pxd_dbuf_release(&ing->conns.pool, &c->in);
	}
	after_input(ing, c);
}

static void on_accept(struct pxd_ingest *ing, struct io_uring_cqe *cqe, unsigned l)
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
	c = pxd_conn_get(
	    &ing->conns, cqe->res,
	    l == PXD_LISTENER_ADMIN || ing->listen_fd[PXD_LISTENER_ADMIN] < 0 ? 0 : ADMIN_RESERVE);
	if (!c) {
		/* At server.max_connections: refusing here keeps every open
		 * connection's memory and latency as they are. */
		pxd_stat_add(&ing->m->conn_refused, 1);
		close(cqe->res);
		return;
	}
	if (l == PXD_LISTENER_ADMIN)
		c->flags |= PXD_CONN_ADMIN;
	pxd_stat_add(&ing->m->conn_accepted, 1);
	pxd_stat_add(&ing->m->conn_open, 1);
	arm_recv(ing, c);
	pxd_conn_timer_set(&ing->conns, c, PXD_TIMER_IDLE, (uint64_t)ing->mono_ms);
}

/*
 * Multishot recv, per io_uring's contract: each CQE with res > 0 carries one
 * provided buffer (IORING_CQE_F_BUFFER, id in the upper flag bits) that we
 * must give back; IORING_CQE_F_MORE clear means the recv has ended and must
 * be re-armed if we still want data; -ENOBUFS means every buffer was in use,
 * which is back-pressure: the connection is re-armed once buffers return.
 */
static void on_recv(struct pxd_ingest *ing, struct pxd_conn *c, struct io_uring_cqe *cqe)
{
	bool more = cqe->flags & IORING_CQE_F_MORE;

	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		char *data = pxd_bufring_get(&ing->br, bid);

		if (c && cqe->res > 0)
			on_data(ing, c, data, (size_t)cqe->res);
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
			conn_close(ing, c);
		maybe_finish_close(ing, c);
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
	maybe_finish_close(ing, c);
}

static void on_send(struct pxd_ingest *ing, struct pxd_conn *c, struct io_uring_cqe *cqe)
{
	c->flags &= ~PXD_CONN_SENDING;
	if (cqe->res < 0) {
		conn_close(ing, c);
		maybe_finish_close(ing, c);
		return;
	}
	pxd_stat_add(&ing->m->bytes_out, (uint64_t)cqe->res);
	c->sent += (uint32_t)cqe->res;
	if (c->flags & PXD_CONN_CLOSING) {
		maybe_finish_close(ing, c);
		return;
	}
	if (c->sent < c->sending.len) {
		struct io_uring_sqe *sqe = conn_sqe(ing, c);

		if (!sqe)
			return;
		io_uring_prep_send(sqe, c->fd, c->sending.p + c->sent, c->sending.len - c->sent,
				   MSG_NOSIGNAL);
		io_uring_sqe_set_data64(sqe, ud_of(ing, PXD_OP_SEND, c));
		c->flags |= PXD_CONN_SENDING;
		return;
	}
	c->sending.len = 0;
	if (c->flags & PXD_CONN_PAUSED) {
		size_t used;

		c->flags &= ~PXD_CONN_PAUSED;
		used = process(ing, c, c->in.p, c->in.len);
		pxd_dbuf_consume(&c->in, (uint32_t)used);
		if (!c->in.len)
			pxd_dbuf_release(&ing->conns.pool, &c->in);
		after_input(ing, c);
	}
	start_send(ing, c);
	if (c->flags & PXD_CONN_SENDING)
		return;
	pxd_dbuf_release(&ing->conns.pool, &c->sending);
	if (c->flags & PXD_CONN_CLOSE_AFTER)
		conn_linger(ing, c);
}

static void on_journal(struct pxd_ingest *ing, unsigned idx, enum pxd_op op, int res)
{
	struct pxd_jstream *js = &ing->streams[idx];
	int64_t ms;
	unsigned b = 0;
	int err = pxd_journal_complete(js, &ing->conns.pool, op, res, ing->mono_ms, &ms);

	while (b < PXD_COMMIT_BUCKETS && (double)ms > pxd_commit_bucket_ms[b])
		b++;
	pxd_stat_add(&ing->m->journal_commit_ms[b], 1);
	pxd_stat_add(&ing->m->journal_commit_ms_sum, (uint64_t)(ms > 0 ? ms : 0));
	if (err) {
		uint64_t suppressed;
		static __thread struct pxd_log_ratelimit rl;

		pxd_stat_add(&ing->m->journal_errors, 1);
		if (pxd_log_ratelimit_ok(&rl, 5000, &suppressed))
			pxd_log_err("journal",
				    "%s %s failed: %s; new events are refused with 503 "
				    "until it succeeds (nothing acknowledged is dropped; "
				    "retrying; similar lines suppressed=%lu)",
				    js->dir, op == PXD_OP_JWRITE ? "write" : "fdatasync",
				    strerror(-err), suppressed);
	}
}

/* Snapshot of every stream's appended position, for connections parked in this pass. */
static void take_snapshot(struct pxd_ingest *ing)
{
	uint64_t *snap;

	if (!ing->parked_this_pass)
		return;
	ing->parked_this_pass = false;
	if (ing->snap_tail - ing->snap_head == PXD_INGEST_SNAPS) {
		/* Full: refresh the newest instead (its connections wait a little
		 * longer, never less than they must). */
		snap = ing->snaps + ((ing->snap_tail - 1) % PXD_INGEST_SNAPS) * ing->nstreams;
		for (struct pxd_list *n = ing->parked.next; n != &ing->parked; n = n->next) {
			struct pxd_conn *c = container_of(n, struct pxd_conn, park_node);

			if (c->park_snap == ing->snap_tail)
				c->park_snap = ing->snap_tail - 1;
		}
	} else {
		snap = ing->snaps + (ing->snap_tail % PXD_INGEST_SNAPS) * ing->nstreams;
		ing->snap_tail++;
	}
	for (unsigned s = 0; s < ing->nstreams; s++)
		snap[s] = ing->streams[s].appended;
}

/*
 * ack=durable waits for the fdatasync; ack=fast for the write only: once the
 * bytes are in the page cache a crash of the process cannot lose them, while
 * an answer sent before the write is issued could outrun it (the write may
 * still sit in io_uring's worker when the process dies).
 */
static bool snapshot_synced(const struct pxd_ingest *ing, uint64_t id)
{
	const uint64_t *snap = ing->snaps + (id % PXD_INGEST_SNAPS) * ing->nstreams;
	bool durable = ing->d->conf->ack == PXD_ACK_DURABLE;

	for (unsigned s = 0; s < ing->nstreams; s++)
		if ((durable ? ing->streams[s].synced : ing->streams[s].written) < snap[s])
			return false;
	return true;
}

static void release_parked(struct pxd_ingest *ing)
{
	while (!pxd_list_empty(&ing->parked)) {
		struct pxd_conn *c = container_of(ing->parked.next, struct pxd_conn, park_node);

		if (!snapshot_synced(ing, c->park_snap))
			break;
		pxd_list_del(&c->park_node);
		c->flags &= ~PXD_CONN_PARKED;
		start_send(ing, c);
	}
	while (ing->snap_head < ing->snap_tail && snapshot_synced(ing, ing->snap_head) &&
	       (pxd_list_empty(&ing->parked) ||
		container_of(ing->parked.next, struct pxd_conn, park_node)->park_snap >
		    ing->snap_head))
		ing->snap_head++;
}

static void pump_journal(struct pxd_ingest *ing)
{
	const struct pxd_conf *conf = ing->d->conf;

	for (unsigned s = 0; s < ing->nstreams; s++)
		pxd_journal_pump(&ing->streams[s], &ing->ring, &ing->conns.pool, s, ing->mono_ms,
				 conf->ack == PXD_ACK_DURABLE, conf->commit_interval_ms);
}

/* True when every appended byte is written and synced. */
static bool journal_settled(const struct pxd_ingest *ing)
{
	for (unsigned s = 0; s < ing->nstreams; s++) {
		const struct pxd_jstream *js = &ing->streams[s];

		if (js->fill.len || js->next_fill.len || js->state != PXD_JSTATE_IDLE ||
		    js->synced != js->appended)
			return false;
	}
	return true;
}

static void on_cqe(struct pxd_ingest *ing, struct io_uring_cqe *cqe)
{
	struct pxd_ud ud = pxd_ud_decode(io_uring_cqe_get_data64(cqe));
	struct pxd_conn *c = NULL;

	if (ud.op == PXD_OP_ACCEPT) {
		on_accept(ing, cqe, ud.aux);
		return;
	}
	if (ud.op == PXD_OP_CANCEL || ud.op == PXD_OP_NONE)
		return;
	if (ud.op == PXD_OP_JWRITE || ud.op == PXD_OP_JSYNC) {
		on_journal(ing, ud.slot, ud.op, cqe->res);
		return;
	}
	if (ud.slot < ing->conns.nslots && ing->conns.slots[ud.slot].gen == ud.gen &&
	    ing->conns.slots[ud.slot].fd >= 0)
		c = &ing->conns.slots[ud.slot];

	switch (ud.op) {
	case PXD_OP_RECV:
		on_recv(ing, c, cqe);
		break;
	case PXD_OP_SEND:
		if (c)
			on_send(ing, c, cqe);
		break;
	case PXD_OP_SHUTDOWN:
		if (c) {
			c->inflight--;
			maybe_finish_close(ing, c);
		}
		break;
	case PXD_OP_CLOSE:
		if (c) {
			pxd_stat_add(&ing->m->conn_open, (uint64_t)-1);
			pxd_conn_put(&ing->conns, c);
		}
		break;
	default:
		break;
	}
}

static void expire_timers(struct pxd_ingest *ing)
{
	uint64_t now = (uint64_t)ing->mono_ms;
	struct pxd_conn *c;

	while ((c = pxd_conn_expired(&ing->conns, PXD_TIMER_REQUEST, now))) {
		pxd_stat_add(&ing->m->conn_timeouts, 1);
		pxd_dbuf_release(&ing->conns.pool, &c->in);
		answer_refusal(ing, c, PXD_REFUSAL_REQUEST_TIMEOUT);
		if (c->flags & PXD_CONN_SENDING)
			continue; /* the 408 goes out after the send in flight */
		start_send(ing, c);
	}
	while ((c = pxd_conn_expired(&ing->conns, PXD_TIMER_IDLE, now))) {
		pxd_stat_add(&ing->m->conn_idle_closed, 1);
		conn_close(ing, c);
	}
	while ((c = pxd_conn_expired(&ing->conns, PXD_TIMER_LINGER, now)))
		conn_close(ing, c);
}

static void publish_journal_gauges(struct pxd_ingest *ing)
{
	uint64_t deleted = 0;
	uint64_t segs = 0;

	for (unsigned s = 0; s < ing->nstreams; s++)
		deleted += __atomic_load_n(&ing->streams[s].deleted_bytes, __ATOMIC_RELAXED);
	for (unsigned s = 0; s < ing->nstreams; s++)
		segs += __atomic_load_n(&ing->streams[s].cur_seq, __ATOMIC_RELAXED) -
			__atomic_load_n(&ing->streams[s].first_seq, __ATOMIC_RELAXED) + 1;
	__atomic_store_n(&ing->m->journal_bytes,
			 ing->journal_base + ing->journal_appended - deleted, __ATOMIC_RELAXED);
	__atomic_store_n(&ing->m->journal_segments, segs, __ATOMIC_RELAXED);
}

static void rearm_starved(struct pxd_ingest *ing)
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

/* SIGTERM: no new connections; idle ones close now, busy ones after their answer. */
static void begin_stop(struct pxd_ingest *ing)
{
	ing->stopping = true;
	ing->stop_deadline_ms = ing->mono_ms + ing->d->conf->shutdown_timeout_ms;
	for (unsigned l = 0; l < PXD_LISTENER_COUNT; l++) {
		if (ing->listen_fd[l] < 0)
			continue;
		/* Closing the socket does not end a multishot accept that holds a
		 * reference to it; shutdown() does, with -EINVAL or a final CQE. */
		shutdown(ing->listen_fd[l], SHUT_RDWR);
	}
	for (uint32_t i = 0; i < ing->conns.nslots; i++) {
		struct pxd_conn *c = &ing->conns.slots[i];

		if (c->fd >= 0 && c->timer == PXD_TIMER_IDLE && !(c->flags & PXD_CONN_SENDING) &&
		    !c->out.len)
			conn_close(ing, c);
	}
}

static bool all_closed(const struct pxd_ingest *ing)
{
	return ing->conns.nfree == ing->conns.nslots;
}

/*
 * The ring is created on the thread that uses it: with SINGLE_ISSUER the
 * kernel binds the ring to its creator and refuses submissions from any
 * other task.
 */
static int setup_ring(struct pxd_ingest *ing)
{
	int err = pxd_uring_setup(&ing->ring, SQ_ENTRIES);

	if (err) {
		pxd_log_err("ingest",
			    "io_uring setup failed: %s; pixeld needs Linux >= 6.0 with "
			    "io_uring enabled (sysctl kernel.io_uring_disabled=0)",
			    strerror(-err));
		return err;
	}
	ing->ring_ready = true;
	err = pxd_bufring_init(&ing->br, &ing->ring, RECV_BUFS, RECV_BUF_SIZE);
	if (err)
		pxd_log_err("ingest", "registering receive buffers failed: %s", strerror(-err));
	return err;
}

void *pxd_ingest_run(void *arg)
{
	struct pxd_ingest *ing = arg;
	struct pxd_arena arena = { 0 };

	/* Bound to this thread: jansson's allocations while parsing beacons
	 * come from it and are forgotten after each request. */
	int err = setup_ring(ing);

	__atomic_store_n(&ing->started, err ? err : 1, __ATOMIC_RELEASE);
	if (err)
		return NULL;
	if (pxd_arena_init(&arena, PXD_ARENA_DEFAULT_SIZE))
		pxd_log_warn("ingest", "no memory for the JSON arena; beacons use malloc");
	clock_tick(ing);
	for (unsigned l = 0; l < PXD_LISTENER_COUNT; l++)
		if (ing->listen_fd[l] >= 0)
			arm_accept(ing, l);

	for (;;) {
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;
		uint64_t next;
		int64_t wait_ms = 500;
		unsigned head;
		unsigned count = 0;

		if (!ing->stopping && __atomic_load_n(&ing->d->stop_ingest, __ATOMIC_ACQUIRE))
			begin_stop(ing);
		if (ing->stopping && ((all_closed(ing) && journal_settled(ing)) ||
				      ing->mono_ms > ing->stop_deadline_ms))
			break;
		for (unsigned l = 0; l < PXD_LISTENER_COUNT; l++)
			if (!ing->stopping && ing->listen_fd[l] >= 0 && !ing->accept_armed[l])
				arm_accept(ing, l);

		next = pxd_conn_next_deadline(&ing->conns);
		if (next != UINT64_MAX) {
			int64_t until = (int64_t)next - ing->mono_ms;

			wait_ms = until < 0 ? 0 : PXD_MIN(until, wait_ms);
		}
		if (ing->stopping)
			wait_ms = PXD_MIN(wait_ms, 50);
		if (!journal_settled(ing))
			wait_ms = PXD_MIN(wait_ms, (int64_t)ing->d->conf->commit_interval_ms);
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (wait_ms % 1000) * 1000000;
		io_uring_submit_and_wait_timeout(&ing->ring, &cqe, 1, &ts, NULL);
		clock_tick(ing);

		io_uring_for_each_cqe (&ing->ring, head, cqe) {
			on_cqe(ing, cqe);
			count++;
		}
		io_uring_cq_advance(&ing->ring, count);
		pxd_bufring_flush(&ing->br);
		rearm_starved(ing);
		expire_timers(ing);
		take_snapshot(ing);
		pump_journal(ing);
		release_parked(ing);
		publish_journal_gauges(ing);
	}
	io_uring_submit(&ing->ring);
	pxd_arena_fini(&arena);
	return NULL;
}

const struct sockaddr_storage *pxd_ingest_peer(struct pxd_ingest *ing, struct pxd_conn *c)
{
	socklen_t len = sizeof(c->peer);

	(void)ing;
	/* Once per connection, and only when an event needs the address:
	 * multishot accept shares one address buffer between connections. */
	if (!(c->flags & PXD_CONN_PEER_KNOWN)) {
		if (getpeername(c->fd, (struct sockaddr *)&c->peer, &len))
			memset(&c->peer, 0, sizeof(c->peer));
		c->flags |= PXD_CONN_PEER_KNOWN;
	}
	return &c->peer;
}

/*
 * Opens this thread's journal streams, one per shard. What an earlier run
 * left is recovered first: a torn tail is cut, and writing starts in a new
 * segment after the last one. Every stream starts in overflow: the shard
 * replays it from its watermarks and asks for the ring when it has caught up.
 */
static int open_streams(struct pxd_ingest *ing)
{
	const struct pxd_conf *conf = ing->d->conf;

	ing->nstreams = ing->d->ndisp;
	ing->streams = calloc(ing->nstreams, sizeof(*ing->streams));
	ing->snaps = calloc((size_t)PXD_INGEST_SNAPS * ing->nstreams, sizeof(*ing->snaps));
	if (!ing->streams || !ing->snaps)
		return -ENOMEM;
	for (unsigned s = 0; s < ing->nstreams; s++) {
		struct pxd_journal_tail tail;
		char dir[4096];
		int err;

		if (pxd_journal_stream_path(dir, sizeof(dir), conf->journal_dir, ing->id, s))
			return -ENAMETOOLONG;
		if (mkdir(dir, 0750) && errno != EEXIST) {
			err = -errno;
			pxd_log_err("journal", "cannot create %s: %s; check journal.dir", dir,
				    strerror(-err));
			return err;
		}
		err = pxd_journal_cut_torn(dir, &tail);
		if (err && err != -EBADMSG) {
			pxd_log_err("journal", "cannot recover %s: %s", dir, strerror(-err));
			return err;
		}
		if (err == -EBADMSG)
			pxd_log_err("journal",
				    "%s: segment %u is corrupt; writing continues in a new "
				    "segment; run pixelctl journal verify",
				    dir, tail.last_seq);
		err = pxd_journal_open(&ing->streams[s], dir, ing->id, s, tail.last_seq + 1);
		if (err) {
			pxd_log_err("journal", "cannot open a segment in %s: %s", dir,
				    strerror(-err));
			return err;
		}
		ing->streams[s].first_seq = tail.first_seq ? tail.first_seq : tail.last_seq + 1;
		ing->streams[s].overflow = 1;
		ing->journal_base += tail.bytes;
	}
	ing->journal_quota = conf->max_bytes / ing->d->ningest;
	return 0;
}

int pxd_ingest_init(struct pxd_ingest *ing, struct pxd_daemon *d, unsigned id, int listen_fd,
		    int admin_fd)
{
	const struct pxd_conf *conf = d->conf;
	uint32_t slots =
	    conf->max_connections / d->ningest + 1 + (admin_fd >= 0 ? ADMIN_RESERVE : 0);
	int err;

	memset(ing, 0, sizeof(*ing));
	ing->id = id;
	ing->d = d;
	ing->m = &d->metrics.ingest[id];
	ing->listen_fd[PXD_LISTENER_PUBLIC] = listen_fd;
	ing->listen_fd[PXD_LISTENER_ADMIN] = admin_fd;
	ing->body_scratch = malloc(PXD_HTTP_MAX_BODY);
	ing->query_scratch = malloc(PXD_HTTP_MAX_URI + 1);
	ing->line_scratch = malloc(PXD_EVENT_LINE_MAX);
	ing->json_scratch = malloc(PXD_HTTP_MAX_BODY);
	if (admin_fd >= 0)
		ing->admin_body_scratch = malloc(PXD_ADMIN_MAX_BODY);
	if (!ing->body_scratch || !ing->query_scratch || !ing->line_scratch || !ing->json_scratch ||
	    (admin_fd >= 0 && !ing->admin_body_scratch))
		return -ENOMEM;
	err = pxd_conn_table_init(&ing->conns, slots, conf->request_timeout_ms,
				  conf->idle_timeout_ms, LINGER_MS);
	if (err)
		return err;
	pxd_list_init(&ing->parked);
	err = open_streams(ing);
	if (err)
		return err;
	pxd_uuid7_init(&ing->uuid);
	if (d->bot_ua) {
		err = pxd_bot_ua_scratch_new(d->bot_ua, &ing->ua_scratch);
		if (err)
			return err;
	}
	return 0;
}

void pxd_ingest_fini(struct pxd_ingest *ing)
{
	for (uint32_t i = 0; i < ing->conns.nslots; i++)
		if (ing->conns.slots[i].fd >= 0)
			close(ing->conns.slots[i].fd);
	for (unsigned s = 0; ing->streams && s < ing->nstreams; s++)
		pxd_journal_close(&ing->streams[s], &ing->conns.pool);
	free(ing->streams);
	free(ing->snaps);
	ing->streams = NULL;
	pxd_conn_table_fini(&ing->conns);
	if (ing->ring_ready) {
		pxd_bufring_fini(&ing->br, &ing->ring);
		io_uring_queue_exit(&ing->ring);
	}
	pxd_bot_ua_scratch_free(ing->ua_scratch);
	ing->ua_scratch = NULL;
	free(ing->body_scratch);
	free(ing->query_scratch);
	free(ing->line_scratch);
	free(ing->json_scratch);
	free(ing->admin_body_scratch);
	ing->body_scratch = NULL;
}
