// SPDX-License-Identifier: MIT
/*
 * engine.c - a pixelload worker thread: ring and connection setup, the start
 * gate, the closed-loop and open-loop (fixed or burst) schedules, polling the
 * ring, timeouts, per-second counts, and the drain at the end.
 */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler.h"
#include "conn.h"
#include "tls.h"
#include "options.h"
#include "uring.h"

#define IOV_PER_REQ 4	       /* head before id, id, head after id, body */
#define CONNECTS_IN_FLIGHT 512 /* per thread: keeps SYN bursts under the listen backlog */
#define RING_ENTRIES 4096
#define RECV_BUFS 4096 /* provided receive buffers per thread (power of two) */
#define RECV_BUF_SIZE 2048
#define TICK_NS (250 * 1000000ull) /* timeout scan and longest wait */
/*
 * Open loop: when the next request is due sooner than this, poll instead of
 * sleeping. Each sleep ends in a wake-up (an IPI and a context switch, dear on
 * a VM) before an answer can be timed: on the 2-core dev VM that put about
 * 45 us of pixelload's own into every p50 at 30k requests/s.
 */
#define SPIN_NS (50 * 1000ull)
#define DRAIN_GRACE_NS (2 * PL_NS) /* after the deadline, how long answers may still come */

const char *const pl_fail_name[PL_FAIL_COUNT] = { "connect_refused", "connect", "reset", "closed",
						  "timeout",	     "parse",	"tls",	 "other" };

struct pl_sec *pl_engine_sec(struct pl_worker *w, uint64_t t)
{
	size_t i = t > w->start ? (size_t)((t - w->start) / PL_NS) : 0;

	if (i >= w->nsecs) {
		size_t n = PXD_MAX(i + 1, w->nsecs * 2);
		struct pl_sec *v = realloc(w->secs, n * sizeof(*v));

		if (!v)
			return NULL;
		memset(v + w->nsecs, 0, (n - w->nsecs) * sizeof(*v));
		w->secs = v;
		w->nsecs = n;
	}
	if (!w->secs[i].h && !(w->secs[i].h = calloc(1, sizeof(struct pl_hist))))
		return NULL;
	w->used_secs = PXD_MAX(w->used_secs, i + 1);
	if (i != w->cur_sec) { /* a second ended: publish its p99 for the progress line */
		if (w->cur_sec < w->nsecs && w->secs[w->cur_sec].h)
			atomic_store_explicit(&w->pub_p99, pl_hist_pct(w->secs[w->cur_sec].h, 99),
					      memory_order_relaxed);
		w->cur_sec = i;
	}
	return &w->secs[i];
}

/* Fails connects and requests that waited longer than --timeout. */
static void scan_timeouts(struct pl_worker *w)
{
	uint64_t limit = (uint64_t)(w->o->timeout_s * PL_NS);

	for (unsigned i = 0; i < w->nconns; i++) {
		struct pl_conn *c = &w->conns[i];

		if ((c->state == PL_CONN_CONNECTING || (c->state == PL_CONN_OPEN && c->nflight)) &&
		    w->now - c->active_ns > limit)
			pl_conn_fail(w, c, PL_FAIL_TIMEOUT);
	}
}

/* Waits at most <wait_ns> for completions (polls below SPIN_NS) and handles them. */
static void poll_ring(struct pl_worker *w, uint64_t wait_ns)
{
	struct __kernel_timespec ts = { .tv_sec = (long long)(wait_ns / PL_NS),
					.tv_nsec = (long long)(wait_ns % PL_NS) };
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	int err;

	for (uint32_t i = 0; i < w->ndirty; i++) {
		struct pl_conn *c = &w->conns[w->dirty[i]];

		c->in_dirty = false;
		pl_conn_flush(w, c);
	}
	w->ndirty = 0;
	if (wait_ns < SPIN_NS) /* DEFER_TASKRUN: completions run only when we enter */
		err = io_uring_submit_and_get_events(&w->ring);
	else
		err = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
	if (err < 0 && err != -ETIME && err != -EINTR && err != -EBUSY && !w->fatal)
		w->fatal = err;
	w->now = pl_mono_ns();
	io_uring_for_each_cqe (&w->ring, head, cqe) {
		pl_conn_on_cqe(w, cqe);
		n++;
	}
	io_uring_cq_advance(&w->ring, n);
	pxd_bufring_flush(&w->br);
	while (w->nrearm) {
		struct pl_conn *c = &w->conns[w->rearm[--w->nrearm]];

		if (c->state == PL_CONN_OPEN && !c->recv_armed)
			pl_conn_arm_recv(w, c);
	}
}

/* Burst: 1x, ramp to <f>x, hold, ramp down, 1x, each a fifth of the run. */
static double rate_factor(const struct pl_opts *o, double frac)
{
	double f = o->burst_factor;

	if (!o->burst || frac < 0.2 || frac >= 0.8)
		return 1;
	if (frac < 0.4)
		return 1 + (f - 1) * (frac - 0.2) / 0.2;
	if (frac < 0.6)
		return f;
	return f - (f - 1) * (frac - 0.6) / 0.2;
}

static uint64_t next_interval(const struct pl_worker *w, uint64_t due)
{
	double frac = w->o->duration_s > 0
			  ? (double)(due - w->start) / (w->o->duration_s * (double)PL_NS)
			  : 0;

	return (uint64_t)((double)PL_NS / (w->rate * rate_factor(w->o, frac)));
}

/* Issues what the schedule (open loop) or free capacity (closed loop) allows now. */
static void drive(struct pl_worker *w)
{
	const struct pl_opts *o = w->o;
	bool quota_left = !o->requests || w->quota;
	struct pl_conn *c;

	if (w->stopping)
		return;
	if (!o->rate) {
		if (w->now >= w->end)
			return;
		if (!o->new_conn || o->idle) {
			while (quota_left && (c = pl_conn_pop_ready(w))) {
				unsigned room = o->idle ? 1 : o->pipeline - c->nflight;

				while (room-- && (!o->requests || w->quota))
					pl_conn_issue(w, c, w->now);
				quota_left = !o->requests || w->quota;
			}
		} else {
			while (w->active < w->nconns && w->connecting < CONNECTS_IN_FLIGHT &&
			       w->now >= w->hold_until && (!o->requests || w->quota))
				pl_conn_start(w,
					      o->requests ? (unsigned)PXD_MIN(w->quota, o->pipeline)
							  : o->pipeline,
					      w->now);
		}
		return;
	}
	while (w->next_due <= w->now && w->next_due < w->end && (!o->requests || w->quota)) {
		if (o->new_conn) {
			if (w->active >= w->nconns || w->connecting >= CONNECTS_IN_FLIGHT ||
			    w->now < w->hold_until)
				break;
			pl_conn_start(w, 1, w->next_due);
		} else {
			if (!(c = pl_conn_pop_ready(w)))
				break; /* all busy: the request waits, its latency grows */
			pl_conn_issue(w, c, w->next_due);
			pl_conn_mark_ready(w, c);
		}
		w->next_due += next_interval(w, w->next_due);
	}
}

/* Counts the schedule's requests from the next due one to the deadline. */
static uint64_t unsent_dues(const struct pl_worker *w)
{
	uint64_t n = 0;

	if (w->next_due >= w->end)
		return 0;
	if (!w->o->burst)
		n = (uint64_t)((double)(w->end - w->next_due) * w->rate / (double)PL_NS) + 1;
	else
		for (uint64_t due = w->next_due; due < w->end; due += next_interval(w, due))
			n++;
	return w->o->requests ? PXD_MIN(n, w->quota) : n;
}

/* Keeps keep-alive connections up to the target count (after errors, server closes). */
static void maintain(struct pl_worker *w)
{
	const struct pl_opts *o = w->o;

	if (o->new_conn || w->stopping || (o->idle && w->start))
		return;
	while (w->active < w->nconns && w->connecting < CONNECTS_IN_FLIGHT &&
	       w->now >= w->hold_until && w->nfree)
		pl_conn_start(w, 0, w->now);
}

static int worker_setup(struct pl_worker *w)
{
	const struct pl_opts *o = w->o;
	unsigned n = w->nconns, depth = o->pipeline;
	int err;

	err = pxd_uring_setup(&w->ring, RING_ENTRIES);
	if (err)
		return err;
	w->ring_ok = true;
	err = pxd_bufring_init(&w->br, &w->ring, RECV_BUFS, RECV_BUF_SIZE);
	if (err)
		return err;
	w->br_ok = true;
	w->conns = calloc(n, sizeof(*w->conns));
	w->free_slots = calloc(n, sizeof(uint32_t));
	w->ready = calloc(n, sizeof(uint32_t));
	w->dirty = calloc(n, sizeof(uint32_t));
	w->rearm = calloc(n, sizeof(uint32_t));
	w->iov_mem = calloc((size_t)n * depth * IOV_PER_REQ, sizeof(struct iovec));
	w->id_mem = calloc((size_t)n * depth, PL_ID_LEN);
	w->fl_mem = calloc((size_t)n * depth, sizeof(struct pl_flight));
	if (w->pool->scratch_len &&
	    !(w->scratch_mem = malloc((size_t)n * depth * w->pool->scratch_len)))
		return -ENOMEM;
	w->src_addrs = calloc(PXD_MAX(o->sources, 1), sizeof(struct sockaddr_in));
	if (!w->conns || !w->free_slots || !w->ready || !w->dirty || !w->rearm || !w->iov_mem ||
	    !w->id_mem || !w->fl_mem || !w->src_addrs)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		struct pl_conn *c = &w->conns[i];

		c->fd = -1;
		c->iov = w->iov_mem + (size_t)i * depth * IOV_PER_REQ;
		c->ids = w->id_mem + (size_t)i * depth * PL_ID_LEN;
		c->fl = w->fl_mem + (size_t)i * depth;
		if (w->scratch_mem)
			c->scratch = w->scratch_mem + (size_t)i * depth * w->pool->scratch_len;
		w->free_slots[n - 1 - i] = i;
	}
	w->nfree = n;
	/* Source i is 127.(1 + i % 254).(i / 254 % 256).(1 + i / 65024 % 254): spread over /16s. */
	for (unsigned i = 0; i < o->sources; i++) {
		struct sockaddr_in *a = &w->src_addrs[i];
		unsigned j = (i + w->idx * 7919u) % o->sources;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(127u << 24 | (1 + j % 254) << 16 | (j / 254 % 256) << 8 |
					   (1 + j / 65024 % 254));
	}
	w->tmpl_next = (w->idx * 997u) % PL_POOL_SIZE;
	w->cur_sec = SIZE_MAX;
	return 0;
}

/* Keep-alive runs connect everything before the clock starts: setup is not load. */
static void preconnect(struct pl_worker *w)
{
	uint64_t limit = (uint64_t)(w->o->timeout_s * PL_NS);
	unsigned started = 0;

	w->now = pl_mono_ns();
	while (!w->fatal) {
		while (started < w->nconns && w->connecting < CONNECTS_IN_FLIGHT) {
			pl_conn_start(w, 0, w->now);
			started++;
		}
		if (started == w->nconns && !w->connecting)
			break;
		poll_ring(w, TICK_NS);
		for (unsigned i = 0; i < w->nconns; i++)
			if (w->conns[i].state == PL_CONN_CONNECTING &&
			    w->now - w->conns[i].active_ns > limit)
				pl_conn_fail(w, &w->conns[i], PL_FAIL_TIMEOUT);
	}
}

void *pl_engine_thread(void *arg)
{
	struct pl_worker *w = arg;
	const struct pl_opts *o = w->o;

	w->fatal = worker_setup(w);
	if (!w->fatal && !o->new_conn)
		preconnect(w);
	pthread_barrier_wait(&w->gate->barrier); /* all connected */
	pthread_barrier_wait(&w->gate->barrier); /* the clock is set */
	w->start = w->now = atomic_load(&w->gate->start);
	w->end = o->duration_s ? w->start + (uint64_t)(o->duration_s * (double)PL_NS) : UINT64_MAX;
	w->next_due = w->start;
	w->next_tick = w->start + TICK_NS;
	while (!w->fatal) {
		uint64_t wait = TICK_NS;

		maintain(w);
		drive(w); /* before the deadline check: requests due before it still go */
		if (!w->stopping && (w->now >= w->end || (o->requests && !w->quota))) {
			w->stopping = true;
			w->stop_at = w->now;
		}
		if (w->stopping && (o->idle || (!w->inflight && !w->connecting) ||
				    w->now >= w->stop_at + DRAIN_GRACE_NS))
			break;
		if (o->rate && !w->stopping && w->next_due > w->now)
			wait = PXD_MIN(wait, w->next_due - w->now);
		if (!w->stopping && w->end > w->now)
			wait = PXD_MIN(wait, w->end - w->now);
		poll_ring(w, wait);
		if (w->now >= w->next_tick) {
			scan_timeouts(w);
			w->next_tick = w->now + TICK_NS;
			pl_engine_sec(w, w->now);
		}
	}
	w->st.in_flight_at_end = w->inflight;
	if (o->rate && w->now >= w->end) /* due but never sent: reported, not hidden */
		w->st.unsent_at_end = unsent_dues(w);
	atomic_store(&w->finished, true);
	return NULL;
}

void pl_engine_fini(struct pl_worker *w)
{
	for (unsigned i = 0; w->conns && i < w->nconns; i++) {
		if (w->conns[i].fd >= 0)
			close(w->conns[i].fd);
		pl_tls_free(w->conns[i].tls);
		free(w->conns[i].tx);
	}
	pl_tls_worker_fini(w);
	if (w->br_ok)
		pxd_bufring_fini(&w->br, &w->ring);
	if (w->ring_ok)
		io_uring_queue_exit(&w->ring);
	free(w->conns);
	free(w->free_slots);
	free(w->ready);
	free(w->dirty);
	free(w->rearm);
	free(w->iov_mem);
	free(w->id_mem);
	free(w->scratch_mem);
	free(w->fl_mem);
	free(w->src_addrs);
	for (size_t s = 0; s < w->nsecs; s++)
		free(w->secs[s].h);
	free(w->secs);
}

int pl_gate_init(struct pl_gate *g, unsigned workers)
{
	atomic_init(&g->start, 0);
	return -pthread_barrier_init(&g->barrier, NULL, workers + 1);
}

uint64_t pl_gate_open(struct pl_gate *g)
{
	uint64_t t;

	pthread_barrier_wait(&g->barrier);
	t = pl_mono_ns();
	atomic_store(&g->start, t);
	pthread_barrier_wait(&g->barrier);
	return t;
}

void pl_gate_fini(struct pl_gate *g)
{
	pthread_barrier_destroy(&g->barrier);
}
