// SPDX-License-Identifier: MIT
#include "daemon/delivery/dispatch_durable.h"

#include <stdbool.h>
#include <string.h>

#include "daemon/delivery/batcher.h"
#include "daemon/delivery/dispatch_replay.h"
#include "dispatch_http.h"
#include "dlq.h"
#include "log.h"
#include "watermark_sync.h"

/*
 * Each destination's watermark per stream: the start of its first event of
 * that stream still in its batch, else everything routed so far. Only moves
 * forward. Published after the sinks were synced here, then saved
 * (pxd_dispatch_durable_save(), daemon/journal/watermark_sync.c).
 */
static void hold_back(struct pxd_evrec *const *recs, size_t n, unsigned stream, uint64_t *wm)
{
	for (size_t k = 0; k < n; k++)
		if (recs[k] && recs[k]->stream == stream && recs[k]->start < *wm)
			*wm = recs[k]->start;
}

/*
 * An HTTP destination's events are also in its requests (out, or a refused
 * batch being bisected), and retries go back in front of the batch, so the
 * watermark is the lowest start of them all; a lagging destination starts
 * from its own cursor instead of the stream's. Also refreshes the backlog-age
 * gauge, which needs the same walk.
 */
static void wm_compute(struct pxd_dispatcher *ds)
{
	unsigned ndests = ds->d->conf->ndests;

	for (unsigned i = 0; i < ds->nstreams; i++) {
		struct pxd_dstream *st = &ds->streams[i];

		for (unsigned d = 0; d < ndests; d++) {
			const struct pxd_batcher *b = &ds->batchers[d];
			uint64_t wm = st->lag[d].lagging ? st->lag[d].cursor : st->cursor;

			/* A sink whose last sync failed holds what it has. */
			if (ds->unsynced[d])
				continue;

			hold_back(b->recs, b->n, i, &wm);
			for (size_t r = 0; ds->hd && r < ds->hd[d].nreqs; r++) {
				const struct pxd_dispatch_req *q = &ds->hd[d].reqs[r];

				if (q->in_use && !q->bisect_range)
					hold_back(q->recs, q->n, i, &wm);
			}
			if (wm > st->wm[d])
				__atomic_store_n(&st->wm[d], wm, __ATOMIC_RELEASE);
		}
	}
	for (unsigned d = 0; ds->hd && d < ndests; d++) {
		const struct pxd_batcher *b = &ds->batchers[d];
		int64_t oldest = INT64_MAX;

		if (!pxd_dispatch_is_http(&ds->dests[d]))
			continue;
		for (size_t k = 0; k < b->n; k++)
			oldest = PXD_MIN(oldest, b->recs[k]->received_ms);
		for (size_t r = 0; r < ds->hd[d].nreqs; r++) {
			const struct pxd_dispatch_req *q = &ds->hd[d].reqs[r];

			for (size_t k = 0; q->in_use && k < q->n; k++)
				if (q->recs[k])
					oldest = PXD_MIN(oldest, q->recs[k]->received_ms);
		}
		__atomic_store_n(&ds->m[d].oldest_pending_ms, oldest == INT64_MAX ? 0 : oldest,
				 __ATOMIC_RELAXED);
	}
}

/*
 * After a failed sync of local sink <i>, what it wrote since its last good
 * sync may never reach the disk, and a later sync of the same file cannot
 * tell (Linux drops the dirty pages of a failed writeback and reports the
 * error once). So its watermark stays where the last good sync left it, its
 * batch is dropped, the sink reopens its file, and it reads every stream
 * back from that watermark: those events are written again, a duplicate
 * rather than a loss. Writes wait a growing delay meanwhile.
 */
static void rewind_dest(struct pxd_dispatcher *ds, unsigned i, int rc, int64_t now)
{
	struct pxd_dest *dest = &ds->dests[i];
	struct pxd_batcher *b = &ds->batchers[i];
	static __thread struct pxd_log_ratelimit rl;
	uint64_t suppressed = 0;

	pxd_batcher_clear(b);
	__atomic_store_n(&ds->m[i].pending, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ds->m[i].oldest_pending_ms, 0, __ATOMIC_RELAXED);
	for (unsigned s = 0; s < ds->nstreams; s++)
		pxd_dlag_begin(&ds->streams[s].lag[i], ds->streams[s].wm[i]);
	if (dest->adapter->reopen && dest->adapter->reopen(dest))
		pxd_log_warn("dispatch", "destination %s: cannot reopen its file",
			     dest->conf->name);
	pxd_batcher_hold_off(b, now);
	if (pxd_log_ratelimit_ok(&rl, 5000, &suppressed))
		pxd_log_err("dispatch",
			    "destination %s: sync failed: %s; its watermark is held and what it "
			    "wrote since its last good sync is written again (duplicates, not "
			    "losses); check the disk (similar lines suppressed=%lu)",
			    dest->conf->name, strerror(-rc), suppressed);
}

/* Syncs every local sink; one that fails is rewound (rewind_dest()) and
 * its watermark held until a sync works. Returns false when one failed. */
static bool sync_dests(struct pxd_dispatcher *ds, int64_t now)
{
	bool synced = true;

	for (unsigned i = 0; i < ds->d->conf->ndests; i++) {
		struct pxd_dest *dest = &ds->dests[i];
		int rc;

		if (!dest->adapter->sync)
			continue;
		pxd_stat_add(&ds->m[i].syncs, 1);
		rc = dest->adapter->sync(dest);
		ds->unsynced[i] = rc != 0;
		if (rc) {
			pxd_stat_add(&ds->m[i].sync_errors, 1);
			rewind_dest(ds, i, rc, now);
			synced = false;
		}
	}
	return synced;
}

void pxd_dispatch_durable_reopen(struct pxd_dispatcher *ds, int64_t now)
{
	sync_dests(ds, now);
	for (unsigned i = 0; i < ds->d->conf->ndests; i++) {
		struct pxd_dest *dest = &ds->dests[i];

		if (dest->adapter->reopen && dest->adapter->reopen(dest))
			pxd_log_warn("dispatch",
				     "destination %s: reopen failed; still writing to "
				     "the old file",
				     dest->conf->name);
	}
	if (ds->dlq && pxd_dlq_reopen(ds->dlq))
		pxd_log_err("dispatch",
			    "dead letters in %s/dlq: a sync before reopening failed; those files "
			    "stay open and watermarks are held until a sync works",
			    ds->d->conf->data_dir);
}

bool pxd_dispatch_durable_publish(struct pxd_dispatcher *ds, int64_t now)
{
	bool synced;

	/* Sinks and dead letters first: a watermark must never get ahead of
	 * the data. */
	synced = sync_dests(ds, now);
	if (ds->dlq)
		pxd_dispatch_replay_settle(ds);
	if (pxd_dispatch_http_sync_dlq(ds))
		return false;
	wm_compute(ds);
	return synced;
}

bool pxd_dispatch_durable_save(struct pxd_dispatcher *ds, int64_t now)
{
	bool synced = pxd_dispatch_durable_publish(ds, now);

	pxd_watermark_sync_publish(ds->d);
	return synced;
}
