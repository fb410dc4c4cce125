/* SPDX-License-Identifier: MIT */
/*
 * dest_backlog.h - how far a destination's delivery lags the journal, in
 * bytes: for /metrics (pixeld_destination_backlog_bytes) and the console's
 * journal view. Reads the writers' published ends and the shards'
 * watermarks (atomics); any thread.
 */
#ifndef PXD_DEST_BACKLOG_H
#define PXD_DEST_BACKLOG_H

#include <stdint.h>

#include "daemon.h"

/* Journal bytes written and not yet delivered to destination <dest>, summed
 * over every (ingest, shard) stream; across segments the full ones count as
 * journal.segment_bytes (approximate by design). */
uint64_t pxd_dest_backlog_bytes(const struct pxd_daemon *d, unsigned dest);

#endif
