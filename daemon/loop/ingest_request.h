/* SPDX-License-Identifier: MIT */
/*
 * ingest_request.h - request dispatch of one ingest thread: the bytes of a
 * connection become requests for the router and answers queued on it.
 * Ingest thread only.
 */
#ifndef PXD_INGEST_REQUEST_H
#define PXD_INGEST_REQUEST_H

#include "ingest.h"
#include "refusal.h"

/* Takes <n> bytes (plaintext) received on <c>: parses and answers every
 * complete request, keeps the rest, and sets <c>'s request or idle timer. */
void pxd_ingest_request_on_data(struct pxd_ingest *ing, struct pxd_conn *c, const char *data,
				size_t n);

/* Queues refusal <r> on <c>, which then closes. */
void pxd_ingest_request_refuse(struct pxd_ingest *ing, struct pxd_conn *c, enum pxd_refusal r);

/* Parses the input <c> held back (PXD_CONN_PAUSED) now that its output has drained. */
void pxd_ingest_request_resume(struct pxd_ingest *ing, struct pxd_conn *c);

/* Answers the connection that waits for this thread's admin job once the main thread ran it. */
void pxd_ingest_request_answer_deferred(struct pxd_ingest *ing);

#endif
