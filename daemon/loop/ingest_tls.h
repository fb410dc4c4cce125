/* SPDX-License-Identifier: MIT */
/*
 * ingest_tls.h - the TLS record glue of one ingest thread, between
 * ingest_conn.c (which moves records) and ingest_request.c (which reads
 * plaintext). Ingest thread only.
 */
#ifndef PXD_INGEST_TLS_H
#define PXD_INGEST_TLS_H

#include "ingest.h"

/*
 * Encrypts what <c>'s <out> holds and moves every record waiting to
 * <sending>. Returns 0 when there is something to send, -EAGAIN when not,
 * or -errno after closing <c>.
 */
int pxd_ingest_tls_seal(struct pxd_ingest *ing, struct pxd_conn *c);

/* Takes <n> bytes of records received on <c>: handshake, then plaintext to
 * pxd_ingest_request_on_data(). */
void pxd_ingest_tls_on_data(struct pxd_ingest *ing, struct pxd_conn *c, const char *data, size_t n);

#endif
