// SPDX-License-Identifier: MIT
/*
 * conn.c - one pixelload connection's I/O on the worker's io_uring: the
 * SQEs it submits, the completions it handles, framing and timing its
 * answers, and its slot's reuse. Just past 600 lines, kept whole: the
 * submit and completion halves of one connection state machine share its
 * static helpers, and pixelload's engine.c only calls its entry points.
 */
#include "conn.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler.h"
#include "options.h"
#include "tls.h"
#include "uring.h"

#define CONNECT_HOLD_NS (100 * 1000000ull) /* pause after a refused connect */

enum op {
	OP_CONNECT = 1,
	OP_SEND,
	OP_RECV,
	OP_SHUTDOWN,
	OP_CLOSE,
};

/* user_data = {op:8, generation:24, slot:32}: a late CQE of a reused slot is recognised. */
static uint64_t ud_make(enum op op, uint32_t gen, uint32_t slot)
{
	return (uint64_t)op << 56 | (uint64_t)(gen & 0xffffff) << 32 | slot;
}

static struct io_uring_sqe *get_sqe(struct pl_worker *w)
{
	struct io_uring_sqe *sqe = pxd_uring_get_sqe(&w->ring);

	if (!sqe && !w->fatal)
		w->fatal = -EBUSY; /* the SQ stays full: the kernel is not consuming it */
	return sqe;
}

static void count_error(struct pl_worker *w, enum pl_fail e, uint64_t n)
{
	struct pl_sec *s = w->start ? pl_engine_sec(w, w->now) : NULL;

	w->st.err[e] += n ? n : 1;
	w->st.failed += n;
	if (s)
		s->errors += n ? n : 1;
	atomic_store_explicit(&w->pub_failed, w->st.failed, memory_order_relaxed);
}

/* Whether <c> takes another request now; new connections take theirs at connect. */
static bool has_room(const struct pl_worker *w, const struct pl_conn *c)
{
	if (c->state != PL_CONN_OPEN || c->server_close || w->o->new_conn || (c->tls && !c->tls_up))
		return false;
	if (w->o->idle)
		return !c->answered_once && !c->nflight;
	return c->nflight < w->o->pipeline;
}

void pl_conn_mark_ready(struct pl_worker *w, struct pl_conn *c)
{
	if (c->in_ready || !has_room(w, c))
		return;
	c->in_ready = true;
	w->ready[(w->ready_head + w->ready_n++) % w->nconns] = (uint32_t)(c - w->conns);
}

struct pl_conn *pl_conn_pop_ready(struct pl_worker *w)
{
	while (w->ready_n) {
		struct pl_conn *c = &w->conns[w->ready[w->ready_head]];

		w->ready_head = (w->ready_head + 1) % w->nconns;
		w->ready_n--;
		c->in_ready = false;
		if (has_room(w, c))
			return c;
	}
	return NULL;
}

static void mark_dirty(struct pl_worker *w, struct pl_conn *c)
{
	if (!c->in_dirty) {
		c->in_dirty = true;
		w->dirty[w->ndirty++] = (uint32_t)(c - w->conns);
	}
}

static void put_hex(char *out, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = PL_ID_LEN - 1; i >= 0; i--, v >>= 4)
		out[i] = hex[v & 15];
}

void pl_conn_issue(struct pl_worker *w, struct pl_conn *c, uint64_t t0)
{
	unsigned pos = (c->head + c->nflight) % w->o->pipeline;
	struct pl_flight *f = &c->fl[pos];
	const struct pl_tmpl *t;

	f->t0 = t0;
	f->tmpl = w->tmpl_next;
	w->tmpl_next = (w->tmpl_next + 1) % PL_POOL_SIZE;
	t = &w->pool->t[f->tmpl];
	if (t->id_off >= 0)
		put_hex(c->ids + (size_t)pos * PL_ID_LEN, (uint64_t)w->idx << 48 | w->seq++);
	if (t->nbatch_ids) {
		char *b = c->scratch + pos * w->pool->scratch_len;

		memcpy(b, t->body, t->body_len);
		for (unsigned i = 0; i < t->nbatch_ids; i++)
			memcpy(b + t->batch_ids[i], c->ids + (size_t)pos * PL_ID_LEN, PL_ID_LEN);
	}
	if (w->o->rate)
		pl_hist_add(&w->st.lag, (w->now - t0) / 1000);
	c->nflight++;
	c->nunsent++;
	w->inflight++;
	w->st.sent++;
	w->st.kind[t->kind].sent++;
	if (w->quota)
		w->quota--;
	mark_dirty(w, c);
}

static void add_iov(struct iovec *iov, unsigned *n, const char *p, size_t len)
{
	if (len) {
		iov[*n].iov_base = (void *)p;
		iov[*n].iov_len = len;
		(*n)++;
	}
}

static void submit_send(struct pl_worker *w, struct pl_conn *c, unsigned n, size_t total)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return;
	memset(&c->msg, 0, sizeof(c->msg));
	c->msg.msg_iov = c->iov;
	c->msg.msg_iovlen = n;
	/* MSG_WAITALL: io_uring retries a short send itself (kernel >= 5.19). */
	io_uring_prep_sendmsg(sqe, c->fd, &c->msg, MSG_NOSIGNAL | MSG_WAITALL);
	io_uring_sqe_set_data64(sqe, ud_make(OP_SEND, c->gen, (uint32_t)(c - w->conns)));
	c->ops++;
	c->send_busy = true;
	c->send_left = total;
	c->active_ns = w->now;
	w->st.bytes_sent += total;
}

/* --tls: sends the records OpenSSL has written (handshake messages, requests). */
static void send_records(struct pl_worker *w, struct pl_conn *c)
{
	size_t n = pl_tls_pending(c->tls);

	if (!n || c->send_busy)
		return;
	if (n > c->txcap) {
		char *p = realloc(c->tx, n);

		if (!p) {
			pl_conn_fail(w, c, PL_FAIL_OTHER);
			return;
		}
		c->tx = p;
		c->txcap = n;
	}
	c->iov[0].iov_base = c->tx;
	c->iov[0].iov_len = pl_tls_take(c->tls, c->tx, n);
	submit_send(w, c, 1, c->iov[0].iov_len);
}

/* Adds <p, len> with its PL_ID_LEN-byte placeholder at <off> replaced by <id>. */
static void add_iov_with_id(struct iovec *iov, unsigned *n, const char *p, size_t len, size_t off,
			    const char *id)
{
	add_iov(iov, n, p, off);
	add_iov(iov, n, id, PL_ID_LEN);
	add_iov(iov, n, p + off + PL_ID_LEN, len - off - PL_ID_LEN);
}

void pl_conn_flush(struct pl_worker *w, struct pl_conn *c)
{
	size_t total = 0;
	unsigned n = 0;

	if (c->state != PL_CONN_OPEN || c->send_busy || !c->nunsent || (c->tls && !c->tls_up))
		return;
	for (unsigned k = c->nflight - c->nunsent; k < c->nflight; k++) {
		unsigned pos = (c->head + k) % w->o->pipeline;
		const struct pl_tmpl *t = &w->pool->t[c->fl[pos].tmpl];
		const char *id = c->ids + (size_t)pos * PL_ID_LEN;
		size_t off = (size_t)t->id_off;

		if (t->id_off >= 0 && !t->id_in_body) {
			add_iov_with_id(c->iov, &n, t->head, t->head_len, off, id);
		} else {
			add_iov(c->iov, &n, t->head, t->head_len);
		}
		if (t->nbatch_ids) {
			add_iov(c->iov, &n, c->scratch + pos * w->pool->scratch_len, t->body_len);
		} else if (t->id_off >= 0 && t->id_in_body) {
			add_iov_with_id(c->iov, &n, t->body, t->body_len, off, id);
		} else {
			add_iov(c->iov, &n, t->body, t->body_len);
		}
		total += t->head_len + t->body_len;
	}
	if (!c->tls) {
		submit_send(w, c, n, total);
		c->nunsent = c->send_busy ? 0 : c->nunsent;
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		if (pl_tls_write(c->tls, c->iov[i].iov_base, c->iov[i].iov_len)) {
			pl_conn_fail(w, c, PL_FAIL_TLS);
			return;
		}
	}
	c->nunsent = 0;
	send_records(w, c);
}

void pl_conn_arm_recv(struct pl_worker *w, struct pl_conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return;
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = PXD_BUFRING_GROUP;
	io_uring_sqe_set_data64(sqe, ud_make(OP_RECV, c->gen, (uint32_t)(c - w->conns)));
	c->ops++;
	c->recv_armed = true;
}

static void release_slot(struct pl_worker *w, struct pl_conn *c)
{
	pl_tls_free(c->tls);
	c->tls = NULL;
	c->state = PL_CONN_FREE;
	c->fd = -1;
	c->gen = (c->gen + 1) & 0xffffff;
	w->active--;
	w->free_slots[w->nfree++] = (uint32_t)(c - w->conns);
	if (w->o->idle && !c->answered_once)
		atomic_fetch_add_explicit(&w->pub_idle_lost, 1, memory_order_relaxed);
	atomic_store_explicit(&w->pub_open, w->active, memory_order_relaxed);
}

/* Closes once nothing of <c> is in flight; until then shutdown wakes what is. */
static void try_close(struct pl_worker *w, struct pl_conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->state != PL_CONN_CLOSING || c->ops)
		return;
	sqe = get_sqe(w);
	if (!sqe) {
		close(c->fd);
		release_slot(w, c);
		return;
	}
	io_uring_prep_close(sqe, c->fd);
	io_uring_sqe_set_data64(sqe, ud_make(OP_CLOSE, c->gen, (uint32_t)(c - w->conns)));
	c->ops++;
}

static void conn_close(struct pl_worker *w, struct pl_conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->state == PL_CONN_CLOSING || c->state == PL_CONN_FREE)
		return;
	if (c->state == PL_CONN_CONNECTING)
		w->connecting--;
	c->state = PL_CONN_CLOSING;
	if (c->ops && (sqe = get_sqe(w))) {
		/* A pending connect, recv or send holds the socket: shutdown ends them. */
		io_uring_prep_shutdown(sqe, c->fd, SHUT_RDWR);
		io_uring_sqe_set_data64(sqe,
					ud_make(OP_SHUTDOWN, c->gen, (uint32_t)(c - w->conns)));
		c->ops++;
	}
	try_close(w, c);
}

void pl_conn_fail(struct pl_worker *w, struct pl_conn *c, enum pl_fail e)
{
	count_error(w, e, c->nflight);
	w->inflight -= c->nflight;
	c->nflight = c->nunsent = 0;
	conn_close(w, c);
}

void pl_conn_start(struct pl_worker *w, unsigned nreq, uint64_t t0)
{
	const struct pl_opts *o = w->o;
	struct io_uring_sqe *sqe;
	struct pl_conn *c;
	uint32_t slot;
	int one = 1, fd;

	if (!w->nfree)
		return;
	fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		w->hold_until = w->now + CONNECT_HOLD_NS;
		count_error(w, PL_FAIL_CONNECT, 0);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o->sources) {
		/* Pick the port at connect time, per (source, destination): 28k per pair. */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&w->src_addrs[w->src_next],
			 sizeof(struct sockaddr_in))) {
			close(fd);
			w->hold_until = w->now + CONNECT_HOLD_NS;
			count_error(w, PL_FAIL_CONNECT, 0);
			return;
		}
		w->src_next = (w->src_next + 1) % o->sources;
	}
	sqe = get_sqe(w);
	if (!sqe) {
		close(fd);
		return;
	}
	slot = w->free_slots[--w->nfree];
	c = &w->conns[slot];
	c->fd = fd;
	c->state = PL_CONN_CONNECTING;
	c->ops = 1;
	c->recv_armed = c->send_busy = c->server_close = c->answered_once = false;
	c->head = c->nflight = c->nunsent = 0;
	c->active_ns = w->now;
	memset(&c->rp, 0, sizeof(c->rp));
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)&o->addr, o->addrlen);
	io_uring_sqe_set_data64(sqe, ud_make(OP_CONNECT, c->gen, slot));
	w->active++;
	w->connecting++;
	for (unsigned i = 0; i < nreq; i++)
		pl_conn_issue(w, c, t0);
	atomic_store_explicit(&w->pub_open, w->active, memory_order_relaxed);
}

static void on_connect(struct pl_worker *w, struct pl_conn *c, int res)
{
	c->ops--;
	if (c->state != PL_CONN_CONNECTING) {
		try_close(w, c);
		return;
	}
	if (res < 0) {
		w->hold_until = w->now + CONNECT_HOLD_NS;
		pl_conn_fail(w, c,
			     res == -ECONNREFUSED ? PL_FAIL_CONNECT_REFUSED
			     : res == -ETIMEDOUT  ? PL_FAIL_TIMEOUT
						  : PL_FAIL_CONNECT);
		return;
	}
	w->connecting--;
	c->state = PL_CONN_OPEN;
	c->active_ns = w->now;
	w->st.conns_opened++;
	pl_conn_arm_recv(w, c);
	if (w->o->tls) {
		bool resumed;

		c->tls_up = false;
		c->tls = pl_tls_new(w, w->o->sni, w->o->tls_resume);
		if (!c->tls || pl_tls_handshake(c->tls, &resumed) < 0) {
			pl_conn_fail(w, c, PL_FAIL_TLS);
			return;
		}
		send_records(w, c); /* the ClientHello; requests wait for the handshake */
		return;
	}
	if (c->nunsent)
		mark_dirty(w, c);
	pl_conn_mark_ready(w, c);
}

static void on_send(struct pl_worker *w, struct pl_conn *c, int res)
{
	struct io_uring_sqe *sqe;

	c->ops--;
	c->send_busy = false;
	if (c->state != PL_CONN_OPEN) {
		try_close(w, c);
		return;
	}
	if (res < 0) {
		pl_conn_fail(w, c,
			     res == -ECONNRESET || res == -EPIPE ? PL_FAIL_RESET : PL_FAIL_OTHER);
		return;
	}
	if ((size_t)res < c->send_left) { /* short send: move the iovecs past what went */
		size_t done = (size_t)res;

		while (done >= c->msg.msg_iov->iov_len) {
			done -= c->msg.msg_iov->iov_len;
			c->msg.msg_iov++;
			c->msg.msg_iovlen--;
		}
		c->msg.msg_iov->iov_base = (char *)c->msg.msg_iov->iov_base + done;
		c->msg.msg_iov->iov_len -= done;
		c->send_left -= (size_t)res;
		if (!(sqe = get_sqe(w)))
			return;
		io_uring_prep_sendmsg(sqe, c->fd, &c->msg, MSG_NOSIGNAL | MSG_WAITALL);
		io_uring_sqe_set_data64(sqe, ud_make(OP_SEND, c->gen, (uint32_t)(c - w->conns)));
		c->ops++;
		c->send_busy = true;
		return;
	}
	if (c->tls)
		send_records(w, c);
	if (c->nunsent)
		mark_dirty(w, c);
	pl_conn_mark_ready(w, c);
}

static void record_answer(struct pl_worker *w, struct pl_conn *c, unsigned status)
{
	struct pl_flight *f = &c->fl[c->head];
	const struct pl_tmpl *t = &w->pool->t[f->tmpl];
	struct pl_kstats *k = &w->st.kind[t->kind];
	uint64_t us = (w->now - f->t0) / 1000;
	struct pl_sec *s = pl_engine_sec(w, w->now);
	bool ok = status >= 200 && status < 300;

	c->head = (uint16_t)((c->head + 1) % w->o->pipeline);
	c->nflight--;
	w->inflight--;
	w->st.answered++;
	w->st.status[status]++;
	pl_hist_add(&w->st.lat, us);
	k->answered++;
	if (ok) {
		k->ok++;
		if (t->bot) {
			k->bot_ok++;
			k->bot_events += t->events;
		} else {
			k->events += t->events;
		}
	} else {
		w->st.non2xx++;
	}
	if (s) {
		s->answered++;
		s->non2xx += !ok;
		pl_hist_add(s->h, us);
	}
	atomic_store_explicit(&w->pub_answered, w->st.answered, memory_order_relaxed);
	atomic_store_explicit(&w->pub_non2xx, w->st.non2xx, memory_order_relaxed);
	if (w->o->idle && !c->answered_once)
		atomic_fetch_add_explicit(&w->pub_idle_done, 1, memory_order_relaxed);
	c->answered_once = true;
}

/* Parses <len> received bytes; returns false when the connection was failed. */
static bool on_bytes(struct pl_worker *w, struct pl_conn *c, const char *buf, size_t len)
{
	bool done;

	w->st.bytes_recv += len;
	while (len) {
		ssize_t n = pl_resp_feed(&c->rp, buf, len, &done);

		if (n < 0) {
			pl_conn_fail(w, c, PL_FAIL_PARSE);
			return false;
		}
		buf += n;
		len -= (size_t)n;
		if (!done)
			continue;
		if (c->nflight <= c->nunsent) { /* an answer nobody asked for */
			pl_conn_fail(w, c, PL_FAIL_PARSE);
			return false;
		}
		c->active_ns = w->now;
		if (c->rp.close)
			c->server_close = true;
		record_answer(w, c, c->rp.status);
	}
	return true;
}

/* --tls: records in; the handshake, then the plaintext answers through on_bytes. */
static bool on_records(struct pl_worker *w, struct pl_conn *c, const char *buf, size_t len)
{
	char plain[16384];
	ssize_t n;

	if (pl_tls_input(c->tls, buf, len)) {
		pl_conn_fail(w, c, PL_FAIL_OTHER);
		return false;
	}
	if (!c->tls_up) {
		bool resumed = false;
		int r = pl_tls_handshake(c->tls, &resumed);

		if (r < 0) {
			pl_conn_fail(w, c, PL_FAIL_TLS);
			return false;
		}
		if (r == 1) {
			c->tls_up = true;
			w->st.tls_handshakes++;
			w->st.tls_resumed += resumed;
		}
	}
	while (c->tls_up && (n = pl_tls_read(c->tls, plain, sizeof(plain))) > 0)
		if (!on_bytes(w, c, plain, (size_t)n))
			return false;
	send_records(w, c);
	if (c->tls_up && c->nunsent)
		mark_dirty(w, c);
	return true;
}

static void on_recv(struct pl_worker *w, struct pl_conn *c, struct io_uring_cqe *cqe)
{
	bool more = cqe->flags & IORING_CQE_F_MORE;
	int res = cqe->res;

	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		const char *buf = pxd_bufring_get(&w->br, bid);

		if (res > 0 && c->state == PL_CONN_OPEN) {
			if (c->tls)
				on_records(w, c, buf, (size_t)res);
			else
				on_bytes(w, c, buf, (size_t)res);
		}
		pxd_bufring_put(&w->br, bid);
	}
	if (!more) {
		c->ops--;
		c->recv_armed = false;
	}
	if (c->state != PL_CONN_OPEN) {
		try_close(w, c);
		return;
	}
	if (res == 0) { /* EOF */
		if (c->rp.state == PL_RESP_BODY_EOF && c->nflight) {
			record_answer(w, c, c->rp.status);
			c->rp.state = PL_RESP_STATUS;
		}
		if (c->nflight || c->rp.state != PL_RESP_STATUS)
			pl_conn_fail(w, c, PL_FAIL_CLOSED);
		else {
			w->st.idle_closed += w->o->idle;
			conn_close(w, c);
		}
		return;
	}
	if (res < 0 && res != -ENOBUFS) {
		pl_conn_fail(w, c, res == -ECONNRESET ? PL_FAIL_RESET : PL_FAIL_OTHER);
		return;
	}
	if (!more) /* -ENOBUFS, or the kernel ended the multishot: re-arm when buffers are back */
		w->rearm[w->nrearm++] = (uint32_t)(c - w->conns);
	if (w->o->new_conn && !c->nflight && !c->server_close) {
		conn_close(w, c); /* the client closes first: TIME_WAIT stays on this side */
		return;
	}
	pl_conn_mark_ready(w, c);
}

void pl_conn_on_cqe(struct pl_worker *w, struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	enum op op = (enum op)(ud >> 56);
	uint32_t gen = (uint32_t)(ud >> 32) & 0xffffff, slot = (uint32_t)ud;
	struct pl_conn *c = &w->conns[slot];

	if (gen != c->gen) { /* cannot happen while ops are counted; keep buffers safe */
		if (cqe->flags & IORING_CQE_F_BUFFER)
			pxd_bufring_put(&w->br, cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		return;
	}
	switch (op) {
	case OP_CONNECT:
		on_connect(w, c, cqe->res);
		break;
	case OP_SEND:
		on_send(w, c, cqe->res);
		break;
	case OP_RECV:
		on_recv(w, c, cqe);
		break;
	case OP_SHUTDOWN:
		c->ops--;
		try_close(w, c);
		break;
	case OP_CLOSE:
		release_slot(w, c);
		break;
	}
}
