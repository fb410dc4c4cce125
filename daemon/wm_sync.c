// SPDX-License-Identifier: MIT
#include "wm_sync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dispatcher.h"
#include "ingest.h"
#include "journal_format.h"
#include "log.h"
#include "watermark.h"

int pxd_wm_sync_start(struct pxd_daemon *d, char *err, size_t errlen)
{
	const struct pxd_conf *conf = d->conf;
	int rc = pxd_watermarks_load(conf->journal_dir, &d->watermarks);

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

void pxd_wm_sync_tick(struct pxd_daemon *d)
{
	const struct pxd_conf *conf = d->conf;
	int rc;

	for (unsigned s = 0; s < d->ndisp; s++) {
		const struct pxd_dispatcher *ds = &d->disp[s];

		for (unsigned i = 0; i < ds->nstreams; i++)
			for (size_t k = 0; k < conf->ndests; k++)
				pxd_watermarks_set(
				    d->watermarks, conf->dests[k].name, i, s,
				    __atomic_load_n(&ds->streams[i].wm[k], __ATOMIC_ACQUIRE));
	}
	rc = pxd_watermarks_save(d->watermarks, conf->journal_dir);
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
			for (size_t k = 0; k < conf->ndests; k++)
				low = PXD_MIN(low, __atomic_load_n(&st->wm[k], __ATOMIC_ACQUIRE));
			if (pxd_journal_delete_below(st->dir, low, &nsegs, &bytes) == 0 && nsegs) {
				struct pxd_jstream *js = &d->ingest[i].streams[s];

				__atomic_add_fetch(&js->deleted_bytes, bytes, __ATOMIC_RELAXED);
				__atomic_store_n(&js->first_seq, pxd_journal_pos_seq(low),
						 __ATOMIC_RELAXED);
			}
		}
	}
}

void pxd_wm_sync_stop(struct pxd_daemon *d)
{
	pxd_watermarks_free(d->watermarks);
	d->watermarks = NULL;
}
