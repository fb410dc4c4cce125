/* SPDX-License-Identifier: MIT */
/*
 * wm_sync.h - the main thread's side of the watermarks: where every
 * destination starts each journal stream at startup, and, once a second and
 * at shutdown, collecting what the shards published, saving the file and
 * deleting the segments every destination is past. Main thread only.
 */
#ifndef PXD_WM_SYNC_H
#define PXD_WM_SYNC_H

#include <stddef.h>

#include "daemon.h"

/*
 * Loads <journal_dir>/watermarks into d->watermarks and resolves every
 * (destination, stream) start; saves the result. Before the shards are set
 * up. Returns 0, or -errno with <err> saying what to do (a damaged file).
 */
int pxd_wm_sync_start(struct pxd_daemon *d, char *err, size_t errlen);

/* Collects the shards' watermarks, saves them, deletes consumed segments. */
void pxd_wm_sync_tick(struct pxd_daemon *d);

/* Frees the set. */
void pxd_wm_sync_stop(struct pxd_daemon *d);

#endif
