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
 * With xdp.bot_block on: true when the request's user agent is a bot or a
 * known-good crawler, whose events are not conversions (counted as
 * "bot"/"good_bot" refusals; the client still gets its normal answer). With
 * bot_block = ua+ip a bot's TCP peer also goes on the XDP deny list.
 */
bool pxd_accept_is_bot(struct pxd_reqctx *rc);

/*
 * Fills <ev>'s server part from the request in <rc> and checks it. Returns
 * PXD_REFUSAL_NONE or the refusal with <detail>.
 */
enum pxd_refusal pxd_accept_prepare(struct pxd_reqctx *rc, struct pxd_event *ev,
				    enum pxd_event_source source, char *detail, size_t dlen);

/* Returns the dispatcher shard of a prepared <ev> (tenant and user key). */
unsigned pxd_accept_shard(struct pxd_reqctx *rc, const struct pxd_event *ev);

/* Returns PXD_REFUSAL_NONE when the journal takes events (healthy, under
 * journal.max_bytes), else PXD_REFUSAL_JOURNAL_FULL. */
enum pxd_refusal pxd_accept_journal_ok(struct pxd_reqctx *rc);

/*
 * Serializes a prepared <ev>, appends it to this thread's journal stream
 * for <shard> and hands it to the shard. Returns PXD_REFUSAL_NONE (accepted
 * and counted for <rc>'s endpoint; <rc>->journaled set),
 * PXD_REFUSAL_JOURNAL_FULL (no memory for the journal buffer) or
 * PXD_REFUSAL_INTERNAL.
 */
enum pxd_refusal pxd_accept_commit(struct pxd_reqctx *rc, struct pxd_event *ev, unsigned shard);

#endif
