/* SPDX-License-Identifier: MIT */
/*
 * watermark_sync.h - saving the watermarks: where every destination starts
 * each journal stream at startup (main thread); a shard saving what every
 * shard published right after it published (its own thread, at most every
 * 20 ms, group-committed under d->wm_lock so concurrent publications share
 * one save); and once a second and at shutdown, the main thread saving what
 * is left and deleting the segments every destination is past.
 */
#ifndef PXD_WATERMARK_SYNC_H
#define PXD_WATERMARK_SYNC_H

#include <stddef.h>

#include "daemon.h"

/*
 * Loads <journal_dir>/watermarks into d->watermarks and resolves every
 * (destination, stream) start; saves the result. Before the shards are set
 * up. Returns 0, or -errno with <err> saying what to do (a damaged file).
 */
int pxd_watermark_sync_start(struct pxd_daemon *d, char *err, size_t errlen);

/*
 * Any shard thread, after it published its watermarks: counts a publication
 * and saves the file unless a save that began after it (another shard's)
 * already covered it. A failed save is logged by the module and retried by
 * the next publication or tick.
 */
void pxd_watermark_sync_publish(struct pxd_daemon *d);

/* Main thread: saves what a failed or missing save left, deletes consumed
 * segments. */
void pxd_watermark_sync_tick(struct pxd_daemon *d);

/* Frees the set and the lock. Accepts a daemon whose start failed. */
void pxd_watermark_sync_stop(struct pxd_daemon *d);

#endif
