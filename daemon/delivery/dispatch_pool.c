// SPDX-License-Identifier: MIT
/*
 * dispatch_pool.c - replacing the dispatcher pool on a reload
 * (dispatch_pool.h). Destination slots keep their order across reloads
 * (conf_reload.c: a removed one stays retired in its slot, new ones come
 * after), so slot k of the old pool is slot k of the new one: cursors,
 * lag state and counters carry over by index. The main thread drives the
 * swap; pxd_dispatch_pool_settled() runs on the shard being stopped.
 */
#include "dispatch_pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatcher.h"
#include "http_out.h"
#include "log.h"
#include "watermark_sync.h"

/* How long the old shards get to finish their requests; what is still out
 * then is sent again by the new pool (at least once, as after a restart). */
#define SWAP_SETTLE_MS 3000

/*
 * A pool's own copy of the configuration its adapters were started from
 * (they may keep pointers into their section), and the daemon they see
 * through ds->d while they are set up and torn down: the real one, but with
 * that configuration. Running shards see the real daemon.
 */
struct pool {
	ck_epoch_entry_t entry;
	struct pxd_daemon view;
	struct pxd_conf conf;
	struct pxd_dispatcher *disp;
	unsigned n;
};

/* The pool the running shards came from; NULL: the start-up one (main.c owns it). */
static struct pool *running_pool;

bool pxd_dispatch_pool_needed(const struct pxd_conf *running, const struct pxd_conf *fresh)
{
	if (fresh->ndests != running->ndests)
		return true;
	for (size_t i = 0; i < fresh->ndests; i++)
		if (!pxd_conf_dest_same(&fresh->dests[i], &running->dests[i]))
			return true;
	return false;
}

/* Loads destination <c> as a shard would, and lets it go. */
static int check_one(const struct pxd_conf *fresh, const struct pxd_conf_dest *c, char *err,
		     size_t errlen)
{
	struct pxd_dest dest = { .conf = c, .data_dir = fresh->data_dir };
	struct pxd_http_out_conf hc;
	char types[256];
	int rc;

	dest.adapter = pxd_adapter_find(c->type);
	if (!dest.adapter) {
		pxd_adapter_types(types, sizeof(types));
		snprintf(err, errlen,
			 "%s:%d: destination \"%s\": unknown type \"%s\"; use one of: %s",
			 fresh->path, c->line, c->name, c->type, types);
		return -EINVAL;
	}
	rc = dest.adapter->init(&dest, fresh->path, err, errlen);
	if (!rc && pxd_dispatch_is_http(&dest))
		rc = pxd_http_out_conf_parse(c, fresh->path, &hc, err, errlen);
	dest.adapter->fini(&dest);
	return rc;
}

int pxd_dispatch_pool_check(const struct pxd_conf *running, const struct pxd_conf *fresh, char *err,
			    size_t errlen)
{
	for (size_t i = 0; i < fresh->ndests; i++) {
		const struct pxd_conf_dest *c = &fresh->dests[i];
		int rc;

		if (c->retired ||
		    (i < running->ndests && pxd_conf_dest_same(c, &running->dests[i])))
			continue;
		rc = check_one(fresh, c, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

bool pxd_dispatch_pool_settled(const struct pxd_dispatcher *ds)
{
	for (unsigned i = 0; i < ds->d->conf->ndests; i++)
		if (ds->batchers[i].n || (ds->hd && (ds->hd[i].held || ds->hd[i].bisecting)))
			return false;
	return __atomic_load_n(&ds->replay_n, __ATOMIC_ACQUIRE) == 0;
}

/* Waits for shard <t> up to <deadline_ms> (monotonic): 0 or ETIMEDOUT. */
int pxd_dispatch_pool_join(pthread_t t, int64_t deadline_ms)
{
	struct timespec ts;
	int64_t left = deadline_ms - pxd_mono_ms();

	clock_gettime(CLOCK_REALTIME, &ts);
	if (left < 0)
		left = 0;
	ts.tv_sec += left / 1000;
	ts.tv_nsec += (left % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return pthread_timedjoin_np(t, NULL, &ts);
}

/* Stops every shard between batches: settled, or cut off at the deadline. */
static void quiesce(struct pxd_daemon *d)
{
	int64_t deadline = pxd_mono_ms() + PXD_MIN(SWAP_SETTLE_MS, d->conf->shutdown_timeout_ms);

	__atomic_store_n(&d->stop_dispatch, PXD_DISPATCH_STOP_SWAP, __ATOMIC_RELEASE);
	for (unsigned s = 0; s < d->ndisp; s++) {
		if (pxd_dispatch_pool_join(d->disp[s].thread, deadline)) {
			__atomic_store_n(&d->stop_dispatch, 2, __ATOMIC_RELEASE);
			pthread_join(d->disp[s].thread, NULL);
		}
	}
	__atomic_store_n(&d->stop_dispatch, 0, __ATOMIC_RELEASE);
	/* Collected and saved by name before the slots change. */
	pxd_watermark_sync_tick(d);
}

/*
 * Starts <disp>'s shards. One that cannot start (out of threads) after a
 * second of tries is logged; its thread is the main thread's own, so the
 * joins at shutdown return at once (EDEADLK) and its events wait in the
 * journal for the next start.
 */
static void start(struct pxd_dispatcher *disp, unsigned n)
{
	for (unsigned s = 0; s < n; s++) {
		int rc = 0;

		for (unsigned tries = 0; tries < 100; tries++) {
			struct timespec nap = { 0, 10000000 };

			rc = pthread_create(&disp[s].thread, NULL, pxd_dispatcher_run, &disp[s]);
			if (rc != EAGAIN)
				break;
			nanosleep(&nap, NULL);
		}
		if (rc) {
			disp[s].thread = pthread_self();
			pxd_log_err("dispatch",
				    "shard %u: cannot start its thread after a reload: %s; its "
				    "events wait in the journal: restart pixeld (raise ulimit -u)",
				    s, strerror(rc));
		}
	}
}

/* Shard <n> goes on where <o> stopped: stream positions and modes (the ring /
 * journal hand-over with ingest goes on as if nothing happened), the slots'
 * watermarks, lag and retirement, the counters. A new slot starts at the
 * stream's position: the events routed from now on. A slot <fresh> retires
 * now is held here, where the old shard left it, as dispatch_conf.c holds
 * one a reload retires without a swap (one retired before is held, or let
 * go by a drop, already). */
static void carry_over(struct pxd_dispatcher *n, const struct pxd_dispatcher *o,
		       const struct pxd_conf *fresh, unsigned old_n)
{
	unsigned new_n = (unsigned)fresh->ndests;

	for (unsigned i = 0; i < n->nstreams; i++) {
		struct pxd_dstream *ns = &n->streams[i];
		const struct pxd_dstream *os = &o->streams[i];

		ns->journal_mode = os->journal_mode;
		ns->resume_asked = os->resume_asked;
		ns->cursor = os->cursor;
		pxd_journal_reader_seek(ns->reader, ns->cursor);
		for (unsigned k = 0; k < new_n; k++) {
			uint64_t wm =
			    k < old_n ? __atomic_load_n(&os->wm[k], __ATOMIC_ACQUIRE) : ns->cursor;

			__atomic_store_n(&ns->wm[k], wm, __ATOMIC_RELEASE);
			/* Lagging, or left with events unsettled at the deadline: it
			 * reads the stream back from its own cursor. */
			if (k < old_n && os->lag[k].lagging)
				pxd_dlag_begin(&ns->lag[k], os->lag[k].cursor);
			else if (wm < ns->cursor || (fresh->dests[k].retired && !o->retired[k]))
				pxd_dlag_begin(&ns->lag[k], wm);
		}
	}
	for (unsigned k = 0; k < new_n; k++)
		n->retired[k] = fresh->dests[k].retired;
	for (unsigned k = 0; k < old_n; k++) {
		n->drops_seen[k] = o->drops_seen[k];
		if (!n->hd || !o->hd)
			continue;
		n->hd[k].st = o->hd[k].st;
		n->hd[k].st.in_flight = 0;
		n->hd[k].st.breaker_state = 0;
		n->hd[k].last_error = o->hd[k].last_error;
	}
	n->replayed = o->replayed;
}

static void pool_fini(struct pool *p)
{
	for (unsigned s = 0; s < p->n; s++) {
		p->disp[s].d = &p->view;
		for (size_t k = 0; p->disp[s].dests && k < p->conf.ndests; k++)
			p->disp[s].dests[k].conf = &p->conf.dests[k];
		pxd_dispatcher_fini(&p->disp[s]);
	}
	free(p->disp);
	free(p);
}

static void pool_free(ck_epoch_entry_t *e)
{
	pool_fini(container_of(e, struct pool, entry));
}

/* A pool for <conf>'s destinations seen through <d>, not running yet. */
static struct pool *pool_new(struct pxd_daemon *d, const struct pxd_conf *conf, char *err,
			     size_t errlen)
{
	struct pool *p = calloc(1, sizeof(*p));
	int rc = 0;

	if (!p || !(p->disp = calloc(d->ndisp, sizeof(*p->disp)))) {
		free(p);
		snprintf(err, errlen, "reload: out of memory for the new dispatchers");
		return NULL;
	}
	p->conf = *conf;
	p->view = *d;
	p->view.conf = &p->conf;
	p->n = d->ndisp;
	for (unsigned s = 0; s < p->n && !rc; s++)
		rc = pxd_dispatcher_init(&p->disp[s], &p->view, s, err, errlen);
	if (rc) {
		pool_fini(p);
		return NULL;
	}
	return p;
}

/* Gives the running shards' pool (the start-up one: <boot>'s) a pool
 * object of its own, so it can be retired like any other. */
static struct pool *adopt_running(struct pxd_daemon *d, const struct pxd_conf *boot)
{
	struct pool *p;

	if (running_pool)
		return running_pool;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->conf = *boot;
	p->view = *d;
	p->view.conf = &p->conf;
	p->disp = d->disp;
	p->n = d->ndisp;
	return p;
}

int pxd_dispatch_pool_swap(struct pxd_daemon *d, struct pxd_conf *boot, const char **names,
			   const struct pxd_conf *fresh, char *err, size_t errlen)
{
	struct pool *old = adopt_running(d, boot);
	unsigned old_n = (unsigned)boot->ndests, new_n = (unsigned)fresh->ndests;
	struct pxd_conf *next = malloc(sizeof(*next));
	int64_t t0 = pxd_mono_ms();
	struct pool *p = NULL;

	if (!old || !next) {
		if (old != running_pool)
			free(old);
		free(next);
		snprintf(err, errlen, "reload: out of memory for the new dispatchers");
		return -ENOMEM;
	}
	*next = *boot;
	memcpy(next->dests, fresh->dests, sizeof(next->dests));
	next->ndests = fresh->ndests;
	quiesce(d);
	p = pool_new(d, next, err, errlen);
	free(next);
	if (!p) {
		if (old != running_pool)
			free(old);
		start(d->disp, d->ndisp);
		return -EIO;
	}
	for (unsigned s = 0; s < p->n; s++) {
		struct pxd_dispatcher *ds = &p->disp[s];

		carry_over(ds, &d->disp[s], fresh, old_n);
		ds->d = d;
	}
	/* Slot k keeps its name (conf_reload.c); the rest of its section and the
	 * new slots are written before the count that makes readers look. */
	for (unsigned k = 0; k < new_n; k++) {
		struct pxd_conf_dest *b = &boot->dests[k];
		const struct pxd_conf_dest *f = &fresh->dests[k];

		if (k < old_n)
			memcpy(b->type, f->type, sizeof(*b) - offsetof(struct pxd_conf_dest, type));
		else
			*b = *f;
		names[k] = b->name;
		for (unsigned s = 0; s < p->n; s++)
			p->disp[s].dests[k].conf = b;
	}
	for (unsigned s = 0; s < old->n; s++)
		old->disp[s].d = &old->view;
	ck_pr_store_ptr(&d->disp, p->disp);
	__atomic_store_n(&d->metrics.ndests, new_n, __ATOMIC_RELEASE);
	__atomic_store_n(&boot->ndests, (size_t)new_n, __ATOMIC_RELEASE);
	ck_epoch_call(&d->live.main_rec, &old->entry, pool_free);
	running_pool = p;
	start(p->disp, p->n);
	pxd_log_info("main", "dispatchers restarted for %u destinations (%u before) in %ld ms",
		     new_n, old_n, (long)(pxd_mono_ms() - t0));
	return 0;
}

void pxd_dispatch_pool_fini(struct pxd_daemon *d)
{
	if (!running_pool)
		return;
	d->disp = NULL;
	pool_fini(running_pool);
	running_pool = NULL;
}
