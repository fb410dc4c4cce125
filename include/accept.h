/* SPDX-License-Identifier: MIT */
/*
 * accept.h - the last steps of every way in: add the server's fields to a
 * parsed event (received_at, client IP, user agent, tenant, host), check it,
 * serialize it into the canonical line and hand it to its dispatcher shard.
 * Ingest thread only; no allocation but the event record itself.
 */
#ifndef PXD_ACCEPT_H
#define PXD_ACCEPT_H

#include <stddef.h>

#include "event.h"
#include "http_reply.h"

/*
 * Fills <ev>'s server part from the request in <rc> and checks it. Returns
 * PXD_REFUSAL_NONE or the refusal with <detail>.
 */
enum pxd_refusal pxd_accept_prepare(struct pxd_reqctx *rc, struct pxd_event *ev,
				    enum pxd_event_source source, char *detail, size_t dlen);

/* Returns the dispatcher shard of a prepared <ev> (tenant and user key). */
unsigned pxd_accept_shard(struct pxd_reqctx *rc, const struct pxd_event *ev);

/* Returns true when the ring from this thread to <shard> has <n> free slots. */
bool pxd_accept_room(struct pxd_reqctx *rc, unsigned shard, unsigned n);

/*
 * Serializes a prepared <ev> and pushes it to <shard>. Returns
 * PXD_REFUSAL_NONE (accepted and counted for <rc>'s endpoint),
 * PXD_REFUSAL_OVERLOADED (ring full, counted) or PXD_REFUSAL_INTERNAL.
 */
enum pxd_refusal pxd_accept_commit(struct pxd_reqctx *rc, struct pxd_event *ev, unsigned shard);

#endif
