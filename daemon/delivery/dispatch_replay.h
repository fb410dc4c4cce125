/* SPDX-License-Identifier: MIT */
/*
 * dispatch_replay.h - the replay queue of one dispatcher shard: dead letters
 * that POST /admin/dlq/replay hands back (pxd_dispatcher_replay(),
 * dispatcher.h, any thread, under the shard's replay lock) and messages of
 * the JetStream consumers (role dispatch), moved into their destinations'
 * batches on the shard's thread. The queue is in memory; the dead letters'
 * outcomes are recorded in their .settled files (dlq.h), which is what
 * makes a replay survive a crash: at start the shard queues again every
 * replay without an outcome. Shard thread, except where noted.
 */
#ifndef PXD_DISPATCH_REPLAY_H
#define PXD_DISPATCH_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "dispatcher.h"

/* Moves queued events into their destinations' batches while there is room.
 * Returns how many were taken. Shard thread. */
size_t pxd_dispatch_replay_drain(struct pxd_dispatcher *ds, int64_t now);

/* Appends to <dest>.settled the id of every outstanding replay whose event
 * has an outcome now (delivered, dead-lettered again, skipped for consent);
 * durable with the next pxd_dlq_sync(). Call before syncing the dead
 * letters. */
void pxd_dispatch_replay_settle(struct pxd_dispatcher *ds);

/*
 * At the shard's start: queues every dead letter replayed before and
 * without an outcome (dlq.h, replay_pending) that falls to this shard and
 * whose destination is still an HTTP one here. Writes how many to
 * <*resumed>. Returns 0 or the -errno of reading the files (logged; what
 * was queued before stays).
 */
int pxd_dispatch_replay_resume(struct pxd_dispatcher *ds, size_t *resumed);

#endif
