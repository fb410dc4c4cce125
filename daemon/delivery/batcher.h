/* SPDX-License-Identifier: MIT */
/*
 * batcher.h - one destination's batch in one dispatcher shard (struct
 * pxd_batcher, dispatcher.h): its limits, whether it has room, when it is
 * due, and writing it to a local sink with a growing delay after a failed
 * write. HTTP batches are taken apart into requests by dispatch_http.c.
 * Called on the shard's thread only.
 */
#ifndef PXD_BATCHER_H
#define PXD_BATCHER_H

#include <stdbool.h>
#include <stdint.h>

#include "dispatcher.h"

/*
 * Sets up <b> for <dest>: limits from the adapter and the destination's
 * config. An HTTP destination with <max_in_flight> requests gets room for
 * what is out (it may come back as retries) plus two batches, so a put-back
 * always fits. Returns 0 or -ENOMEM.
 */
int pxd_batcher_init(struct pxd_batcher *b, const struct pxd_dest *dest, uint32_t max_in_flight);

/* Drops every event still held and frees the arrays. Accepts a zeroed struct. */
void pxd_batcher_fini(struct pxd_batcher *b);

/* Drops every event held (each a reference on its record); the batch is
 * empty afterwards and its limits stay. */
void pxd_batcher_clear(struct pxd_batcher *b);

/* Whether one more event fits, counting <held> events out in requests. */
static inline bool pxd_batcher_has_room(const struct pxd_batcher *b, size_t held)
{
	return b->n + held < b->cap;
}

/* Whether a local batch should be written at <now> (everything when <draining>). */
bool pxd_batcher_due(const struct pxd_batcher *b, int64_t now, bool draining);

/*
 * Writes local batch <b> to <dest> unless a retry delay is pending. Events
 * whose outcome is OK or PERMANENT leave the batch; RETRY ones stay and the
 * whole batch waits for a growing delay. Counts into <m>. Returns the
 * adapter's result (0, or -errno when the whole write failed), 0 when
 * nothing was due.
 */
int pxd_batcher_write_local(struct pxd_batcher *b, struct pxd_dest *dest,
			    struct pxd_metrics_dest *m, int64_t now);

/* After a failed write or sync: no write before a delay that doubles with
 * each consecutive failure (100 ms to 5 s). */
void pxd_batcher_hold_off(struct pxd_batcher *b, int64_t now);

#endif
