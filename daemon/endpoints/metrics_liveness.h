/* SPDX-License-Identifier: MIT */
/*
 * metrics_liveness.h - the /metrics gauges the alert rules need beside the
 * counters: how long ago each dispatcher last looped (a stalled shard) and
 * the journal's quota (journal bytes against journal.max_bytes). Rendered by
 * the admin listener's ingest thread; reads atomics only.
 */
#ifndef PXD_METRICS_LIVENESS_H
#define PXD_METRICS_LIVENESS_H

#include "buf.h"
#include "daemon.h"

/* Appends pixeld_dispatcher_last_loop_seconds{shard} and
 * pixeld_journal_max_bytes to <out> (which records an allocation failure
 * itself), ages measured at monotonic <mono_ms>. */
void pxd_metrics_liveness_render(const struct pxd_daemon *d, int64_t mono_ms, struct pxd_buf *out);

#endif
