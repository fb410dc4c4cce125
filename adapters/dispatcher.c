// SPDX-License-Identifier: MIT
#include "dispatcher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* Records taken from the rings per pass before batches get a look-in. */
#define POP_BUDGET 4096
/* Idle sleep grows from 1 ms to this while nothing arrives (rings hold
 * seconds of traffic, so a sleeping dispatcher loses nothing). */
#define IDLE_SLEEP_MAX_MS 20
#define SYNC_INTERVAL_MS 1000
#define RETRY_MAX_MS 5000

static const uint32_t default_linger_ms = 200;

struct pxd_sv pxd_dispatcher_event_name(const char *line, size_t len)
{
	static const char key[] = "\"event\":\"";
	const char *p = memmem(line, len, key, sizeof(key) - 1);
	const char *end;

	if (!p)
		return PXD_SV_NULL;
	p += sizeof(key) - 1;
	end = memchr(p, '"', len - (size_t)(p - line));
	return end ? pxd_sv_make(p, (size_t)(end - p)) : PXD_SV_NULL;
}

static int batcher_init(struct pxd_batcher *b, const struct pxd_dest *dest)
{
	const struct pxd_adapter *a = dest->adapter;

	memset(b, 0, sizeof(*b));
	b->max_events = a->max_events ? a->max_events : 1000;
	if (dest->conf->batch_max_events && dest->conf->batch_max_events < b->max_events)
		b->max_events = dest->conf->batch_max_events;
	b->max_bytes = a->max_bytes ? a->max_bytes : 1u << 20;
	b->linger_ms = dest->conf->linger_ms ? dest->conf->linger_ms
			: (a->flags & PXD_ADAPTER_LOCAL) ? 0 : default_linger_ms;
	b->cap = b->max_events;
	b->recs = calloc(b->cap, sizeof(*b->recs));
	b->items = calloc(b->cap, sizeof(*b->items));
	b->outcomes = calloc(b->cap, sizeof(*b->outcomes));
	return b->recs && b->items && b->outcomes ? 0 : -ENOMEM;
}

static void batcher_fini(struct pxd_batcher *b)
{
	free(b->recs);
	free(b->items);
	free(b->outcomes);
	memset(b, 0, sizeof(*b));
}

int pxd_dispatcher_init(struct pxd_dispatcher *ds, struct pxd_daemon *d, unsigned id, char *err,
			size_t errlen)
{
	const struct pxd_conf *conf = d->conf;
	int rc;

	memset(ds, 0, sizeof(*ds));
	ds->id = id;
	ds->d = d;
	ds->m = d->metrics.dest ? &d->metrics.dest[(size_t)id * conf->ndests] : NULL;
	ds->dests = calloc(conf->ndests ? conf->ndests : 1, sizeof(*ds->dests));
	ds->batchers = calloc(conf->ndests ? conf->ndests : 1, sizeof(*ds->batchers));
	if (!ds->dests || !ds->batchers)
		return -ENOMEM;
	for (unsigned i = 0; i < conf->ndests; i++) {
		struct pxd_dest *dest = &ds->dests[i];

		dest->conf = &conf->dests[i];
		dest->data_dir = conf->data_dir;
		dest->index = i;
		dest->adapter = pxd_adapter_find(dest->conf->type);
		if (!dest->adapter) {
			char types[256];

			pxd_adapter_types(types, sizeof(types));
			snprintf(err, errlen, "%s:%d: destination \"%s\": unknown type \"%s\"; use one of: %s",
				 conf->path, dest->conf->line, dest->conf->name, dest->conf->type,
				 types);
			return -EINVAL;
		}
		rc = dest->adapter->init(dest, conf->path, err, errlen);
		if (rc)
			return rc;
		rc = batcher_init(&ds->batchers[i], dest);
		if (rc)
			return rc;
	}
	return 0;
}

void pxd_dispatcher_fini(struct pxd_dispatcher *ds)
{
	if (!ds->dests)
		return;
	for (unsigned i = 0; ds->d && i < ds->d->conf->ndests; i++) {
		if (ds->dests[i].adapter)
			ds->dests[i].adapter->fini(&ds->dests[i]);
		batcher_fini(&ds->batchers[i]);
	}
	free(ds->dests);
	free(ds->batchers);
	ds->dests = NULL;
}

static void rec_unref(struct pxd_evrec *rec)
{
	if (--rec->_refs == 0)
		free(rec);
}

/*
 * Writes or sends the batch of destination <i>. Events whose outcome is OK
 * or PERMANENT leave the batch; RETRY ones stay and the whole batch waits for
 * a growing delay. (HTTP destinations and dead letters arrive with the
 * adapters issue; today every destination is local.)
 */
static void flush(struct pxd_dispatcher *ds, unsigned i, int64_t now)
{
	struct pxd_batcher *b = &ds->batchers[i];
	struct pxd_dest *dest = &ds->dests[i];
	struct pxd_metrics_dest *m = &ds->m[i];
	struct pxd_batch batch = { b->items, b->n };
	size_t kept = 0;
	int rc;

	if (!b->n || now < b->retry_at_ms)
		return;
	for (size_t k = 0; k < b->n; k++)
		b->outcomes[k] = (struct pxd_outcome){ .delivery = PXD_DELIVERY_RETRY };
	rc = dest->adapter->write_local(dest, &batch, b->outcomes);
	pxd_stat_add(&m->batches, 1);
	if (rc) {
		uint64_t suppressed = 0;
		static __thread struct pxd_log_ratelimit rl;

		pxd_stat_add(&m->write_errors, 1);
		if (pxd_log_ratelimit_ok(&rl, 5000, &suppressed))
			pxd_log_warn("dispatch",
				     "destination %s: write failed: %s; %zu events kept and retried "
				     "(similar lines suppressed=%lu)",
				     dest->conf->name, strerror(-rc), b->n, suppressed);
	}
	for (size_t k = 0; k < b->n; k++) {
		switch (b->outcomes[k].delivery) {
		case PXD_DELIVERY_OK:
			pxd_stat_add(&m->events_delivered, 1);
			rec_unref(b->recs[k]);
			break;
		case PXD_DELIVERY_PERMANENT:
			pxd_stat_add(&m->events_failed, 1);
			rec_unref(b->recs[k]);
			break;
		case PXD_DELIVERY_RETRY:
			pxd_stat_add(&m->events_retried, 1);
			b->recs[kept] = b->recs[k];
			b->items[kept] = b->items[k];
			kept++;
			break;
		}
	}
	if (kept) {
		uint32_t delay = 100u << PXD_MIN(b->failures, 6u);

		b->failures++;
		b->retry_at_ms = now + PXD_MIN(delay, RETRY_MAX_MS);
	} else {
		b->failures = 0;
		b->retry_at_ms = 0;
	}
	b->n = kept;
	b->bytes = 0;
	for (size_t k = 0; k < kept; k++)
		b->bytes += b->items[k].len + 1;
	b->first_mono_ms = kept ? b->first_mono_ms : 0;
	__atomic_store_n(&m->pending, (uint64_t)kept, __ATOMIC_RELAXED);
	__atomic_store_n(&m->oldest_pending_ms, kept ? b->recs[0]->received_ms : 0,
			 __ATOMIC_RELAXED);
}

static bool batch_due(const struct pxd_batcher *b, int64_t now, bool draining)
{
	if (!b->n || now < b->retry_at_ms)
		return false;
	return draining || b->n >= b->max_events || b->bytes >= b->max_bytes ||
	       now - b->first_mono_ms >= b->linger_ms;
}

/* Offers <rec> to every destination that wants it. A destination whose
 * batch is full and failing blocks here: back-pressure into the rings. */
static void route(struct pxd_dispatcher *ds, struct pxd_evrec *rec, int64_t now)
{
	struct pxd_sv name = pxd_dispatcher_event_name(rec->line, rec->len);
	unsigned ndests = ds->d->conf->ndests;

	rec->_refs = 1; /* held by this function until the end */
	for (unsigned i = 0; i < ndests; i++) {
		struct pxd_batcher *b = &ds->batchers[i];

		if (!pxd_dest_wants(&ds->dests[i], name.p, name.n)) {
			pxd_stat_add(&ds->m[i].events_filtered, 1);
			continue;
		}
		if (b->n == b->cap || b->bytes + rec->len + 1 > b->max_bytes)
			flush(ds, i, now);
		while (b->n == b->cap) {
			/* The destination refuses writes and its batch is full: wait
			 * here, which fills the rings and makes ingest answer 503. */
			struct timespec ts = { 0, 10 * 1000000 };

			nanosleep(&ts, NULL);
			now = pxd_mono_ms();
			__atomic_store_n(&ds->d->disp_heartbeat_ms[ds->id], now, __ATOMIC_RELAXED);
			flush(ds, i, now);
			if (__atomic_load_n(&ds->d->stop_dispatch, __ATOMIC_ACQUIRE) == 2)
				break;
		}
		if (b->n == b->cap)
			continue;
		if (!b->n)
			b->first_mono_ms = now;
		b->recs[b->n] = rec;
		b->items[b->n] = (struct pxd_batch_item){ .line = rec->line, .len = rec->len };
		b->n++;
		b->bytes += rec->len + 1;
		rec->_refs++;
		__atomic_store_n(&ds->m[i].pending, (uint64_t)b->n, __ATOMIC_RELAXED);
		if (b->n == 1)
			__atomic_store_n(&ds->m[i].oldest_pending_ms, rec->received_ms,
					 __ATOMIC_RELAXED);
	}
	rec_unref(rec);
}

static size_t drain_rings(struct pxd_dispatcher *ds, int64_t now, size_t budget)
{
	struct pxd_handoff *h = ds->d->handoff;
	unsigned ningest = pxd_handoff_ningest(h);
	size_t popped = 0;
	bool any = true;

	/* Round-robin over the ingest threads so one busy thread cannot starve
	 * the others' rings. */
	while (any && popped < budget) {
		any = false;
		for (unsigned i = 0; i < ningest; i++) {
			struct pxd_evrec *rec = pxd_handoff_pop_spsc(h, i, ds->id);

			if (!rec)
				continue;
			route(ds, rec, now);
			popped++;
			any = true;
		}
	}
	return popped;
}

static void sync_dests(struct pxd_dispatcher *ds)
{
	for (unsigned i = 0; i < ds->d->conf->ndests; i++) {
		struct pxd_dest *dest = &ds->dests[i];

		if (!dest->adapter->sync)
			continue;
		pxd_stat_add(&ds->m[i].syncs, 1);
		if (dest->adapter->sync(dest))
			pxd_stat_add(&ds->m[i].sync_errors, 1);
	}
}

static void reopen_dests(struct pxd_dispatcher *ds)
{
	for (unsigned i = 0; i < ds->d->conf->ndests; i++) {
		struct pxd_dest *dest = &ds->dests[i];

		if (dest->adapter->reopen && dest->adapter->reopen(dest))
			pxd_log_warn("dispatch", "destination %s: reopen failed; still writing to "
						 "the old file",
				     dest->conf->name);
	}
}

void *pxd_dispatcher_run(void *arg)
{
	struct pxd_dispatcher *ds = arg;
	struct pxd_daemon *d = ds->d;
	unsigned ndests = d->conf->ndests;
	int64_t idle_ms = 1;
	int64_t now = pxd_mono_ms();

	ds->reopen_seen = __atomic_load_n(&d->reopen_gen, __ATOMIC_ACQUIRE);
	ds->last_sync_ms = now;
	for (;;) {
		int stop = __atomic_load_n(&d->stop_dispatch, __ATOMIC_ACQUIRE);
		unsigned gen = __atomic_load_n(&d->reopen_gen, __ATOMIC_ACQUIRE);
		bool flushed = false;
		size_t popped;

		now = pxd_mono_ms();
		__atomic_store_n(&d->disp_heartbeat_ms[ds->id], now, __ATOMIC_RELAXED);
		if (gen != ds->reopen_seen) {
			ds->reopen_seen = gen;
			reopen_dests(ds);
		}
		popped = drain_rings(ds, now, stop ? SIZE_MAX : POP_BUDGET);
		for (unsigned i = 0; i < ndests; i++) {
			if (batch_due(&ds->batchers[i], now, stop != 0)) {
				flush(ds, i, now);
				flushed = true;
			}
		}
		if (now - ds->last_sync_ms >= SYNC_INTERVAL_MS) {
			sync_dests(ds);
			ds->last_sync_ms = now;
		}
		if (stop) {
			bool pending = false;

			for (unsigned i = 0; i < ndests; i++)
				pending |= ds->batchers[i].n != 0;
			if (!pending || stop == 2)
				break;
		}
		if (popped || flushed) {
			idle_ms = 1;
			continue;
		}
		{
			struct timespec ts = { 0, idle_ms * 1000000 };

			nanosleep(&ts, NULL);
			idle_ms = PXD_MIN(idle_ms * 2, IDLE_SLEEP_MAX_MS);
		}
	}
	for (unsigned i = 0; i < ndests; i++)
		if (ds->batchers[i].n)
			pxd_log_err("dispatch", "destination %s: %zu events not delivered at shutdown",
				    ds->dests[i].conf->name, ds->batchers[i].n);
	sync_dests(ds);
	return NULL;
}

size_t pxd_dispatcher_backlog(const struct pxd_daemon *d, unsigned dest)
{
	size_t n = 0;

	for (unsigned s = 0; s < d->ndisp; s++) {
		n += pxd_handoff_backlog(d->handoff, s);
		n += pxd_stat_get(&d->metrics.dest[(size_t)s * d->metrics.ndests + dest].pending);
	}
	return n;
}
