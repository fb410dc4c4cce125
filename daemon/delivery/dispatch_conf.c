// SPDX-License-Identifier: MIT
/*
 * dispatch_conf.c - the shard's epoch section over the live configuration
 * (dispatch_conf.h). Reader <ningest + shard> of pxd_daemon.live. Only this
 * thread reads its destinations' conf pointers, so re-pointing them needs no
 * lock; the generation they point at stays allocated while the section
 * lasts. A retired destination is a lagging one that does not catch up.
 */
#include "daemon/delivery/dispatch_conf.h"

static unsigned reader(const struct pxd_dispatcher *ds)
{
	return ds->d->ningest + ds->id;
}

void pxd_dispatch_conf_enter(struct pxd_dispatcher *ds)
{
	ds->conf_seen = pxd_conf_live_enter(&ds->d->live, reader(ds));
}

/*
 * Destination <i> was just retired: on every stream it stops where the
 * shared pass is, as a lagging destination that does not catch up, so its
 * watermark (and the journal behind it) stays.
 */
static void hold(struct pxd_dispatcher *ds, unsigned i)
{
	for (unsigned s = 0; s < ds->nstreams; s++)
		if (!ds->streams[s].lag[i].lagging)
			pxd_dlag_begin(&ds->streams[s].lag[i], ds->streams[s].cursor);
}

/* pixelctl journal drop: retired destination <i> lets its backlog go and
 * rides the shared pass, where it takes nothing, so its watermark follows. */
static void let_go(struct pxd_dispatcher *ds, unsigned i)
{
	for (unsigned s = 0; s < ds->nstreams; s++) {
		struct pxd_dlag *l = &ds->streams[s].lag[i];

		l->cursor = ds->streams[s].cursor;
		__atomic_store_n(&l->lagging, 0, __ATOMIC_RELAXED);
	}
	/* Watermarks are saved only when something moved: this did. */
	ds->wm_dirty = true;
}

void pxd_dispatch_conf_sync(struct pxd_dispatcher *ds)
{
	struct pxd_conf_live *live = &ds->d->live;
	const struct pxd_conf *c;

	pxd_conf_live_leave(live, reader(ds));
	c = pxd_conf_live_enter(live, reader(ds));
	if (c != ds->conf_seen) {
		/* Same destinations in the same slots (conf_reload.c): only what a
		 * reload may change differs, and removed ones are retired. */
		for (unsigned i = 0; i < c->ndests; i++) {
			ds->dests[i].conf = &c->dests[i];
			if (c->dests[i].retired && !ds->retired[i])
				hold(ds, i);
			ds->retired[i] = c->dests[i].retired;
		}
		ds->conf_seen = c;
	}
	for (unsigned i = 0; i < c->ndests; i++) {
		uint32_t drops = __atomic_load_n(&live->drops[i], __ATOMIC_ACQUIRE);

		if (drops == ds->drops_seen[i])
			continue;
		ds->drops_seen[i] = drops;
		if (ds->retired[i])
			let_go(ds, i);
	}
}

bool pxd_dispatch_conf_retired(const struct pxd_dispatcher *ds, unsigned dest)
{
	return ds->retired[dest];
}

void pxd_dispatch_conf_leave(struct pxd_dispatcher *ds)
{
	pxd_conf_live_leave(&ds->d->live, reader(ds));
}
