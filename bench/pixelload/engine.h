/* SPDX-License-Identifier: MIT */
/*
 * engine.h - pixelload's load engine: one worker thread per --threads, each
 * with its own io_uring, provided receive buffers and connections, sending
 * the pool's requests closed loop or on an open-loop schedule and counting
 * every answer and failure. main sets a worker up, starts it, opens the start
 * gate, and reads its counts once it has finished; the progress line reads
 * only the pub_ atomics while it runs.
 */
#ifndef PL_ENGINE_H
#define PL_ENGINE_H

#include <liburing.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bufring.h"
#include "histogram.h"
#include "request.h"

#define PL_NS 1000000000ull

struct pl_opts;
struct pl_conn;
struct pl_flight;

/* Why requests failed; a connection lost with no request on it counts once. */
enum pl_fail {
	PL_FAIL_CONNECT_REFUSED = 0,
	PL_FAIL_CONNECT, /* connect failed otherwise (unreachable, no ports, ...) */
	PL_FAIL_RESET,	 /* ECONNRESET / EPIPE with requests on the connection */
	PL_FAIL_CLOSED,	 /* clean EOF while requests were still unanswered */
	PL_FAIL_TIMEOUT, /* no answer (or no connect) within --timeout */
	PL_FAIL_PARSE,	 /* the answer is not HTTP/1.x we can frame */
	PL_FAIL_TLS,	 /* --tls: the handshake failed or a record was bad */
	PL_FAIL_OTHER,
	PL_FAIL_COUNT, /* number of kinds; keep last */
};

/* The failure kinds as the summary and the JSON result name them. */
extern const char *const pl_fail_name[PL_FAIL_COUNT];

/* One second of the run: its answers, failures and latencies. */
struct pl_sec {
	uint64_t answered, errors, non2xx;
	struct pl_hist *h;
};

/* Counts of one request kind. */
struct pl_kstats {
	uint64_t sent, answered, ok, events, bot_ok, bot_events;
};

struct pl_stats {
	uint64_t sent, answered, failed, non2xx, conns_opened, bytes_sent, bytes_recv;
	uint64_t unsent_at_end, in_flight_at_end, idle_closed;
	uint64_t tls_handshakes, tls_resumed; /* --tls: completed, of them resumed */
	uint64_t status[600];
	uint64_t err[PL_FAIL_COUNT];
	struct pl_kstats kind[PL_KIND_COUNT];
	struct pl_hist lat;
	struct pl_hist lag; /* open loop: intended send time to issue, in us */
};

/* Holds the workers until all are connected, then starts them on one clock. */
struct pl_gate {
	pthread_barrier_t barrier;
	_Atomic uint64_t start;
};

/*
 * One worker thread. main fills the first block (zeroed struct) before it
 * starts the thread; the thread owns the rest. While it runs, other threads
 * read only the pub_ atomics and finished; once it is joined, main reads st
 * and secs.
 */
#define PL_TLS_TICKETS 64

struct pl_worker {
	unsigned idx;
	pthread_t th;
	const struct pl_opts *o;
	const struct pl_pool *pool;
	struct pl_gate *gate;
	unsigned nconns;
	uint64_t quota; /* -n: requests still to send; 0 without -n */
	double rate;	/* open loop: this thread's share of -R */

	struct io_uring ring;
	struct pxd_bufring br;
	bool ring_ok, br_ok;
	struct pl_conn *conns;
	unsigned active, connecting;
	uint32_t *free_slots, nfree;
	uint32_t *ready, ready_head, ready_n; /* FIFO of connections with room */
	uint32_t *dirty, ndirty;	      /* connections with unsent requests */
	uint32_t *rearm, nrearm;	      /* recv to re-arm once buffers are back */
	struct iovec *iov_mem;
	char *id_mem, *scratch_mem;
	struct pl_flight *fl_mem;
	struct sockaddr_in *src_addrs;
	uint32_t src_next, tmpl_next;
	uint64_t now, start, end, stop_at, next_due, hold_until, next_tick, seq;
	uint64_t inflight;
	bool stopping;
	int fatal; /* -errno that stopped the thread, 0 */
	struct pl_sec *secs;
	size_t nsecs, cur_sec, used_secs;
	struct pl_stats st;
	/* --tls-resume: the newest tickets received, each offered once (as browsers do:
	 * OpenSSL clients never resume a TLS 1.3 ticket twice) */
	struct ssl_session_st *tls_tickets[PL_TLS_TICKETS];
	unsigned tls_ntickets;
	_Atomic uint64_t pub_answered, pub_failed, pub_non2xx, pub_p99, pub_open;
	_Atomic uint64_t pub_idle_done, pub_idle_lost; /* --idle: answered, lost before that */
	_Atomic bool finished;
};

/** Sets <g> up for <workers> threads and main. Returns 0 or -errno. */
int pl_gate_init(struct pl_gate *g, unsigned workers);

/**
 * main thread: waits until every worker has connected (keep-alive runs
 * connect before the clock starts), starts the clock and lets them go.
 * Returns the start time (pl_mono_ns()).
 */
uint64_t pl_gate_open(struct pl_gate *g);

/** Frees <g> once every worker has passed it. */
void pl_gate_fini(struct pl_gate *g);

/**
 * The thread function of worker <arg> (a struct pl_worker). Runs until the
 * duration or -n is done and the answers are in (or 2 s later),
 * or a fatal ring error (in fatal); sets finished last. Returns NULL.
 */
void *pl_engine_thread(void *arg);

/** Frees what a finished, joined worker <w> holds, not <w> itself. */
void pl_engine_fini(struct pl_worker *w);

/**
 * Worker threads only: the per-second slot of time <t>, grown on demand;
 * when a second has ended it publishes that second's p99 to pub_p99.
 * Returns NULL without memory (that second then goes uncounted).
 */
struct pl_sec *pl_engine_sec(struct pl_worker *w, uint64_t t);

/* ---- inline definitions ---- */

/** CLOCK_MONOTONIC in ns. */
static inline uint64_t pl_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * PL_NS + (uint64_t)ts.tv_nsec;
}

#endif
