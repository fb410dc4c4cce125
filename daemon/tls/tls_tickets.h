/* SPDX-License-Identifier: MIT */
/*
 * tls_tickets.h - session ticket keys. Keys are derived from one random
 * master secret and the number of the current rotation period (wall clock /
 * tls.ticket_rotation), so every ingest thread computes the same keys
 * without sharing any mutable state, and a ticket issued on one thread
 * resumes on any other. A ticket is accepted in its period and the next one,
 * and every resumed handshake gets a fresh ticket.
 * Init on the main thread; the callback runs on ingest threads.
 */
#ifndef PXD_TLS_TICKETS_H
#define PXD_TLS_TICKETS_H

#include <openssl/ssl.h>
#include <stdint.h>

/* Draws the master secret (once per process; tickets survive reloads) and
 * sets the rotation period. Returns 0 or -EIO (no randomness). Main thread. */
int pxd_tls_tickets_init(uint32_t rotation_s);

/* Changes the rotation period (SIGHUP). Main thread. */
void pxd_tls_tickets_set_rotation(uint32_t rotation_s);

/* Installs the ticket key callback on <ctx> and its lifetime hint (two periods). */
void pxd_tls_tickets_attach(SSL_CTX *ctx);

#endif
