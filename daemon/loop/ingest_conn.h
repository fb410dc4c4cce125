/* SPDX-License-Identifier: MIT */
/*
 * ingest_conn.h - the connection lifecycle of one ingest thread (accept,
 * recv, send, linger, close, timers), shared by the other loop files. Every
 * function runs on the thread that owns <ing>.
 */
#ifndef PXD_INGEST_CONN_H
#define PXD_INGEST_CONN_H

#include "ingest.h"

/* Connection slots only the admin listener may use. */
#define PXD_INGEST_ADMIN_RESERVE 16

/* Returns an SQE for <c>, or NULL after shutting <c>'s socket down when even a
 * flushed SQ is full (the close then comes through the normal path). */
struct io_uring_sqe *pxd_ingest_conn_sqe(struct pxd_ingest *ing, struct pxd_conn *c);

/* Arms the multishot accept of listener <l>; leaves accept_armed false when
 * the SQ is full, so the loop tries again on its next pass. */
void pxd_ingest_conn_arm_accept(struct pxd_ingest *ing, unsigned l);

/* Frees <c>'s TLS state and returns its slot: its fd is already closed. */
void pxd_ingest_conn_release(struct pxd_ingest *ing, struct pxd_conn *c);

/* Submits the close of a closing <c> once no SQE of ours refers to its fd. */
void pxd_ingest_conn_finish_close(struct pxd_ingest *ing, struct pxd_conn *c);

/* Starts closing <c>: cancels its recv; the fd closes when nothing is in flight. */
void pxd_ingest_conn_close(struct pxd_ingest *ing, struct pxd_conn *c);

/* Sends what <c> has queued unless a send is in flight, it is closing, or its
 * answers are parked for the journal. */
void pxd_ingest_conn_send(struct pxd_ingest *ing, struct pxd_conn *c);

/* CQE handlers: a multishot accept of listener <l>, a recv (<c> NULL when the
 * connection is gone: its buffer is still given back), a send. */
void pxd_ingest_conn_on_accept(struct pxd_ingest *ing, struct io_uring_cqe *cqe, unsigned l);
void pxd_ingest_conn_on_recv(struct pxd_ingest *ing, struct pxd_conn *c, struct io_uring_cqe *cqe);
void pxd_ingest_conn_on_send(struct pxd_ingest *ing, struct pxd_conn *c, struct io_uring_cqe *cqe);

/* Handles every request, idle, linger and handshake deadline passed. */
void pxd_ingest_conn_expire_timers(struct pxd_ingest *ing);

/* Re-arms the recv of connections starved of provided buffers once enough are back. */
void pxd_ingest_conn_rearm_starved(struct pxd_ingest *ing);

#endif
