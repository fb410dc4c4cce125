/* SPDX-License-Identifier: MIT */
/*
 * intake.h - the last steps of every way in: add the server's fields to a
 * parsed event (received_at, client IP, user agent, tenant, host), check it,
 * serialize it into the canonical line and hand it to its dispatcher shard.
 * Ingest thread only; no allocation but the event record itself.
 */
#ifndef PXD_INTAKE_H
#define PXD_INTAKE_H

#include <stddef.h>

#include "event.h"
#include "event_json.h"
#include "handoff.h"
#include "http_reply.h"
#include "journal.h"

#define PXD_INTAKE_MAX_SHARDS 64 /* server.dispatchers at most */

/*
 * With xdp.bot_block on: true when the request's user agent is a bot or a
 * known-good crawler, whose events are not conversions (counted as
 * "bot"/"good_bot" refusals; the client still gets its normal answer). With
 * bot_block = ua+ip a bot's TCP peer also goes on the XDP deny list.
 */
bool pxd_intake_is_bot(struct pxd_reqctx *rc);

/*
 * Checks that the journal takes one event (pxd_intake_journal_room(rc, 0)),
 * then fills <ev>'s server part from the request in <rc> and checks it.
 * Returns PXD_REFUSAL_NONE or the refusal with <detail>.
 */
enum pxd_refusal pxd_intake_prepare(struct pxd_reqctx *rc, struct pxd_event *ev,
				    enum pxd_event_source source, char *detail, size_t dlen);

/* pxd_intake_prepare() without the journal check: a batch checks its room once. */
enum pxd_refusal pxd_intake_fill(struct pxd_reqctx *rc, struct pxd_event *ev,
				 enum pxd_event_source source, char *detail, size_t dlen);

/* Returns the dispatcher shard of a prepared <ev> (tenant and user key). */
unsigned pxd_intake_shard(struct pxd_reqctx *rc, const struct pxd_event *ev);

/*
 * Returns PXD_REFUSAL_NONE when the journal takes <bytes> more (healthy,
 * and this thread's share of journal.max_bytes not passed by them; 0: not
 * yet reached), else PXD_REFUSAL_JOURNAL_FULL.
 */
enum pxd_refusal pxd_intake_journal_room(struct pxd_reqctx *rc, uint64_t bytes);

/*
 * Serializes a prepared <ev>, appends it to this thread's journal stream
 * for <shard> and hands it to the shard. Returns PXD_REFUSAL_NONE (accepted
 * and counted for <rc>'s endpoint; <rc>->journaled set),
 * PXD_REFUSAL_JOURNAL_FULL (no memory for the journal buffer) or
 * PXD_REFUSAL_INTERNAL.
 */
enum pxd_refusal pxd_intake_commit(struct pxd_reqctx *rc, struct pxd_event *ev, unsigned shard);

/*
 * A batch that is all or nothing: events are staged (serialized and
 * appended, not yet handed to their shards), then either all published or
 * all taken back. At most PXD_EVENT_JSON_MAX_BATCH events; ingest thread.
 */
struct pxd_intake_batch {
	struct pxd_jmark marks[PXD_INTAKE_MAX_SHARDS];
	struct pxd_evrec *recs[PXD_EVENT_JSON_MAX_BATCH];
	unsigned shards[PXD_EVENT_JSON_MAX_BATCH];
	size_t n;
};

/* Starts batch <b>. */
void pxd_intake_batch_begin(struct pxd_reqctx *rc, struct pxd_intake_batch *b);

/* Stages prepared <ev> for <shard>: PXD_REFUSAL_NONE, _JOURNAL_FULL or _INTERNAL (memory). */
enum pxd_refusal pxd_intake_batch_add(struct pxd_reqctx *rc, struct pxd_intake_batch *b,
				      struct pxd_event *ev, unsigned shard);

/* Hands every staged event to its shard (accepted and counted). */
void pxd_intake_batch_publish(struct pxd_reqctx *rc, struct pxd_intake_batch *b);

/* Takes every staged event back out of the journal's memory and frees it. */
void pxd_intake_batch_abort(struct pxd_reqctx *rc, struct pxd_intake_batch *b);

#endif
