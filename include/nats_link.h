/* SPDX-License-Identifier: MIT */
/*
 * nats_link.h - one connection to a NATS cluster with its JetStream
 * context, made from [nats]-style keys (servers, credentials, TLS CA), and
 * the stream pixeld publishes into. Used by the nats destination
 * (adapters/nats.c, its dispatcher thread), the dispatch-role consumer
 * (daemon/nats/nats_consume.c, its thread) and pixelctl nats. The library
 * reconnects on its own threads; a link is used by one thread of ours.
 */
#ifndef PXD_NATS_LINK_H
#define PXD_NATS_LINK_H

#include <nats/nats.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf_nats.h"

struct pxd_nats_link {
	natsConnection *nc;
	jsCtx *js;
};

/*
 * Connects to <c>'s servers as client <name>. With <retry> the call returns
 * at once even when no server answers and the library keeps trying in the
 * background (a collector must start while NATS is away); without it, a
 * failure to connect within connect_timeout is an error. <jo> (may be NULL)
 * gives the JetStream options (publish ack handler, MaxPending). Returns 0
 * or -ENOTCONN/-EINVAL with <err> naming the servers and the library's reason.
 */
int pxd_nats_link_open(struct pxd_nats_link *l, const struct pxd_conf_nats *c, const char *name,
		       bool retry, jsOptions *jo, char *err, size_t errlen);

/* True while the connection is up (not connecting or reconnecting). */
bool pxd_nats_link_up(const struct pxd_nats_link *l);

/*
 * Makes sure stream <c>->stream exists, capturing <subject>.> with the
 * configured replicas and duplicate window (file storage); an existing
 * stream is left as it is. Returns 0 or -EIO with <err> saying why.
 */
int pxd_nats_link_stream(struct pxd_nats_link *l, const struct pxd_conf_nats *c,
			 const char *subject, char *err, size_t errlen);

/* Closes and frees. Accepts a zeroed or closed link. */
void pxd_nats_link_close(struct pxd_nats_link *l);

/*
 * Writes <token> (<n> bytes) into <out> as one subject token: dots,
 * wildcards, spaces and control bytes become '_', an empty token "_".
 * Returns the bytes written (NUL not counted); truncates at <cap> - 1.
 */
size_t pxd_nats_subject_token(char *out, size_t cap, const char *token, size_t n);

#endif
