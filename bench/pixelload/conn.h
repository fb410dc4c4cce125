/* SPDX-License-Identifier: MIT */
/*
 * conn.h - one pixelload client connection on a worker's ring: connect,
 * pipelined sends with the event ids patched in, multishot receive framed by
 * response.h, close, and counting each answer or failure into the worker.
 * Private to the engine (engine.c drives, conn.c does the I/O); only the
 * worker thread that owns the connection touches it.
 */
#ifndef PL_CONN_H
#define PL_CONN_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "engine.h"
#include "response.h"

enum pl_conn_state {
	PL_CONN_FREE = 0,
	PL_CONN_CONNECTING,
	PL_CONN_OPEN,
	PL_CONN_CLOSING,
};

/* A request handed to a connection: when it counts from, and what it was. */
struct pl_flight {
	uint64_t t0;
	uint32_t tmpl;
};

/*
 * One client connection. Requests queue in the flight FIFO from the moment
 * they are issued; the last <nunsent> of them wait for the socket (connect or
 * a send in flight). Answers arrive in order, so the head is always the one
 * the next answer belongs to. <ops> counts this slot's SQEs in flight: the
 * slot is reused only when the last one has completed.
 */
struct pl_conn {
	int fd;
	uint32_t gen;
	uint8_t state;
	uint8_t ops;
	bool recv_armed, send_busy, in_ready, in_dirty, server_close, answered_once;
	uint16_t head, nflight, nunsent;
	uint64_t active_ns; /* connect start, last send or last answer: the timeout clock */
	size_t send_left;
	struct msghdr msg;
	struct iovec *iov;
	char *ids;
	char *scratch; /* batch bodies with their ids patched, one per flight slot */
	struct pl_flight *fl;
	struct pl_resp rp;
	struct pl_tls *tls; /* --tls: records go through it; requests wait for tls_up */
	bool tls_up;
	char *tx; /* --tls: the records of the send in flight */
	size_t txcap;
};

/**
 * Opens a connection on a free slot of <w> (none free: nothing happens);
 * <nreq> requests counting from <t0> go out once it is up. A socket or bind
 * failure is counted and holds new connects for CONNECT_HOLD_NS.
 */
void pl_conn_start(struct pl_worker *w, unsigned nreq, uint64_t t0);

/** Queues the next pool request on <c>, counting from <t0>; it is sent by pl_conn_flush(). */
void pl_conn_issue(struct pl_worker *w, struct pl_conn *c, uint64_t t0);

/** Sends every queued request of <c> in one sendmsg (unless one is in flight). */
void pl_conn_flush(struct pl_worker *w, struct pl_conn *c);

/** Arms the multishot receive of <c> from the worker's buffer group. */
void pl_conn_arm_recv(struct pl_worker *w, struct pl_conn *c);

/** Fails every request still on <c> for <e> (once when there is none) and closes it. */
void pl_conn_fail(struct pl_worker *w, struct pl_conn *c, enum pl_fail e);

/** Puts <c> on the ready FIFO of <w> if it takes another request now. */
void pl_conn_mark_ready(struct pl_worker *w, struct pl_conn *c);

/** Returns the next connection of <w> that takes a request now, or NULL. */
struct pl_conn *pl_conn_pop_ready(struct pl_worker *w);

/** Handles one completion of <w>'s ring; late ones of a reused slot are dropped. */
void pl_conn_on_cqe(struct pl_worker *w, struct io_uring_cqe *cqe);

#endif
