/* SPDX-License-Identifier: MIT */
/*
 * dispatch_durable.h - what one dispatcher shard makes durable before it
 * lets the journal go: local sinks synced (one whose sync fails is rewound
 * to its last durable point), dead letters synced, then each destination's
 * watermark per stream published and saved. Also the SIGHUP reopen, which
 * syncs before it closes. Called on the shard's thread.
 */
#ifndef PXD_DISPATCH_DURABLE_H
#define PXD_DISPATCH_DURABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "dispatcher.h"

/* Syncs the sinks and dead letters of <ds>, then publishes the watermarks
 * of every destination whose data is durable. Returns false when a sync
 * failed (some watermark is held: the caller tries again soon, even with
 * no new events). */
bool pxd_dispatch_durable_publish(struct pxd_dispatcher *ds, int64_t now);

/* pxd_dispatch_durable_publish(), then the watermark file saved with what
 * every shard published (pxd_watermark_sync_publish()): the shard's loop
 * calls it every 20 ms while events move or a sync is failing, and once at
 * its end. Returns what the publish returned. */
bool pxd_dispatch_durable_save(struct pxd_dispatcher *ds, int64_t now);

/* SIGHUP: every sink synced first (a failed sync rewinds it), then its file
 * reopened by name; the dead letters likewise (pxd_dlq_reopen()). */
void pxd_dispatch_durable_reopen(struct pxd_dispatcher *ds, int64_t now);

#endif
