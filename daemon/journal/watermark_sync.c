// SPDX-License-Identifier: MIT
#include "watermark_sync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dispatcher.h"
#include "ingest.h"
#include "journal_format.h"
#include "log.h"
#include "watermark.h"

int pxd_watermark_sync_start(struct pxd_daemon *d, char *err, size_t errlen)
{
	const struct pxd_conf *conf = d->conf;
	int rc = pthread_mutex_init(&d->wm_lock, NULL);

	if (rc) {
		snprintf(err, errlen, "cannot create the watermark lock: %s", strerror(rc));
		return -rc;
	}
	rc = pxd_watermarks_load(conf->journal_dir, &d->watermarks);
	if (rc) {
		snprintf(err, errlen,
			 "%s/%s: %s; move it away to send everything still in the "
			 "journal to every destination again",
			 conf->journal_dir, PXD_WATERMARK_FILE, strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; i < d->ningest; i++) {
		for (unsigned s = 0; s < d->ndisp; s++) {
			struct pxd_journal_tail tail = { 0 };
			char dir[4096];

			if (pxd_journal_stream_path(dir, sizeof(dir), conf->journal_dir, i, s))
				return -ENAMETOOLONG;
			rc = pxd_journal_scan_end(dir, &tail);
			if (rc && rc != -ENOENT)
				return rc;
			for (size_t k = 0; k < conf->ndests; k++) {
				uint64_t pos;

				rc = pxd_watermarks_resolve(d->watermarks, conf->dests[k].name, i,
							    s, tail.end, &pos, NULL);
				if (rc)
					return rc;
			}
		}
	}
	{
		const char *names[PXD_CONF_MAX_DESTS];

		for (size_t k = 0; k < conf->ndests; k++)
			names[k] = conf->dests[k].name;
		pxd_watermarks_prune(d->watermarks, names, conf->ndests);
	}
	rc = pxd_watermarks_save(d->watermarks, conf->journal_dir);
	if (rc)
		snprintf(err, errlen, "cannot write %s/%s: %s; check journal.dir",
			 conf->journal_dir, PXD_WATERMARK_FILE, strerror(-rc));
	return rc;
}

/*
 * The lowest watermark of stream <st>, below which its segments go. When one
 * destination alone keeps segments the others are done with, a line names
 * it (once a minute at most), next to pixeld_destination_backlog_bytes.
 */
static uint64_t slowest(const struct pxd_conf *conf, const struct pxd_dstream *st)
{
	static struct pxd_log_ratelimit rl;
	uint64_t low = UINT64_MAX, others = UINT64_MAX;
	uint64_t suppressed = 0;
	size_t laggard = 0;

	for (size_t k = 0; k < conf->ndests; k++) {
		uint64_t wm = __atomic_load_n(&st->wm[k], __ATOMIC_ACQUIRE);

		if (wm < low) {
			others = low;
			low = wm;
			laggard = k;
		} else {
			others = PXD_MIN(others, wm);
		}
	}
	if (conf->ndests > 1 && pxd_journal_pos_seq(others) > pxd_journal_pos_seq(low) &&
	    pxd_log_ratelimit_ok(&rl, 60000, &suppressed))
		pxd_log_warn("journal",
			     "%s: segments from %u on are kept for destination %s, the slowest "
			     "(the others are at segment %u); see "
			     "pixeld_destination_backlog_bytes (similar lines suppressed=%lu)",
			     st->dir, pxd_journal_pos_seq(low), conf->dests[laggard].name,
			     pxd_journal_pos_seq(others), suppressed);
	return low;
}

/*
 * Under d->wm_lock: collects what the shards published up to now and saves
 * it, unless a save already covered publication <gen>. Returns 0 or the
 * -errno of the save (logged by the module; the file keeps the last save).
 */
static int save_locked(struct pxd_daemon *d, uint64_t gen)
{
	const struct pxd_conf *conf = d->conf;
	/* Read before collecting: every publication up to <cur> is visible. */
	uint64_t cur = __atomic_load_n(&d->wm_gen, __ATOMIC_ACQUIRE);
	int rc;

	if (d->wm_saved_gen >= gen)
		return 0; /* a save that collected after publication <gen> is done */
	for (unsigned s = 0; s < d->ndisp; s++) {
		const struct pxd_dispatcher *ds = &d->disp[s];

		for (unsigned i = 0; i < ds->nstreams; i++)
			for (size_t k = 0; k < conf->ndests; k++)
				pxd_watermarks_set(
				    d->watermarks, conf->dests[k].name, i, s,
				    __atomic_load_n(&ds->streams[i].wm[k], __ATOMIC_ACQUIRE));
	}
	rc = pxd_watermarks_save(d->watermarks, conf->journal_dir);
	if (rc == 0)
		d->wm_saved_gen = cur;
	return rc;
}

void pxd_watermark_sync_publish(struct pxd_daemon *d)
{
	uint64_t gen = __atomic_add_fetch(&d->wm_gen, 1, __ATOMIC_ACQ_REL);

	pthread_mutex_lock(&d->wm_lock);
	save_locked(d, gen);
	pthread_mutex_unlock(&d->wm_lock);
}

void pxd_watermark_sync_tick(struct pxd_daemon *d)
{
	const struct pxd_conf *conf = d->conf;
	int rc;

	/* The shards save as they publish; this catches a save that failed. */
	pthread_mutex_lock(&d->wm_lock);
	rc = save_locked(d, __atomic_load_n(&d->wm_gen, __ATOMIC_ACQUIRE));
	pthread_mutex_unlock(&d->wm_lock);
	if (rc)
		return; /* logged by the module; the segments stay until a save works */
	for (unsigned s = 0; s < d->ndisp; s++) {
		const struct pxd_dispatcher *ds = &d->disp[s];

		for (unsigned i = 0; i < ds->nstreams; i++) {
			const struct pxd_dstream *st = &ds->streams[i];
			uint64_t low = UINT64_MAX;
			uint64_t bytes = 0;
			unsigned nsegs = 0;

			if (!conf->ndests)
				continue;
			low = slowest(conf, st);
			if (pxd_journal_delete_below(st->dir, low, &nsegs, &bytes) == 0 && nsegs) {
				struct pxd_jstream *js = &d->ingest[i].streams[s];

				__atomic_add_fetch(&js->deleted_bytes, bytes, __ATOMIC_RELAXED);
				__atomic_store_n(&js->first_seq, pxd_journal_pos_seq(low),
						 __ATOMIC_RELAXED);
			}
		}
	}
}

void pxd_watermark_sync_stop(struct pxd_daemon *d)
{
	if (!d->watermarks)
		return;
	pxd_watermarks_free(d->watermarks);
	d->watermarks = NULL;
	pthread_mutex_destroy(&d->wm_lock);
}
