// SPDX-License-Identifier: MIT
#include "daemon/delivery/dispatch_replay.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/delivery/batcher.h"
#include "daemon/delivery/delivery_ops.h"
#include "dlq.h"
#include "log.h"

/* An event from a JetStream consumer that the destination's `events =`
 * filter refuses is done for it (the consumer takes the whole stream). */
static bool consumed_filtered(struct pxd_dispatcher *ds, unsigned i, struct pxd_evrec *rec)
{
	struct pxd_sv name;

	if (!rec->_settled)
		return false;
	name = pxd_dispatcher_event_name(rec->line, rec->len);
	if (pxd_dest_wants(&ds->dests[i], name.p, name.n,
			   pxd_dispatcher_event_tenant(&ds->dests[i], rec->line, rec->len)))
		return false;
	pxd_stat_add(&ds->m[i].events_filtered, 1);
	pxd_dispatch_rec_settle(rec);
	return true;
}

/* Puts queued event <q> into its destination's batch (a local sink settles
 * it once written); one that cannot be taken goes back to its JetStream
 * consumer (a dead letter stays pending in its files and is sent after the
 * next start). */
static void route_queued(struct pxd_dispatcher *ds, const struct pxd_dispatch_replay *q,
			 int64_t now)
{
	json_t *ev = NULL;

	if (pxd_delivery_of(&ds->dests[q->dest])->route(ds, q->dest, q->rec, &ev, now))
		pxd_dispatch_rec_hand_back(q->rec);
	else if (q->from_dlq)
		pxd_stat_add(&ds->hd[q->dest].st.replayed, 1);
	json_decref(ev);
}

/* After its event was routed: a dead letter with an id waits on the
 * outstanding list for its outcome, anything else is done with. */
static void routed(struct pxd_dispatcher *ds, struct pxd_dispatch_replay *q)
{
	if (!q->id[0]) {
		free(q);
		return;
	}
	q->next = ds->outstanding;
	ds->outstanding = q;
}

size_t pxd_dispatch_replay_drain(struct pxd_dispatcher *ds, int64_t now)
{
	size_t n = 0;

	if (!__atomic_load_n(&ds->replay_n, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&ds->replay_lock);
	/* A destination whose batch is full keeps its events queued and the
	 * others' are taken past them: one slow destination holds no other. */
	for (struct pxd_dispatch_replay *prev = NULL, *q = ds->replay_head, *next; q; q = next) {
		const struct pxd_delivery_ops *ops = pxd_delivery_of(&ds->dests[q->dest]);

		next = q->next;
		if (!pxd_batcher_has_room(&ds->batchers[q->dest], ops->held(ds, q->dest))) {
			prev = q;
			continue;
		}
		if (prev)
			prev->next = next;
		else
			ds->replay_head = next;
		if (ds->replay_tail == q)
			ds->replay_tail = prev;
		__atomic_store_n(&ds->replay_n, ds->replay_n - 1, __ATOMIC_RELEASE);
		q->rec->_refs = 1;
		q->rec->stream = PXD_DISPATCH_NO_STREAM;
		if (!consumed_filtered(ds, q->dest, q->rec))
			route_queued(ds, q, now);
		pxd_dispatch_rec_unref(q->rec);
		routed(ds, q);
		n++;
	}
	pthread_mutex_unlock(&ds->replay_lock);
	return n;
}

/*
 * Records the outcome of every outstanding replay that has one. One handed
 * back (it could not be parsed) keeps no record: it stays pending in the
 * files and is sent after the next start. One whose record cannot be
 * written stays outstanding and is tried at the next call.
 */
void pxd_dispatch_replay_settle(struct pxd_dispatcher *ds)
{
	struct pxd_dispatch_replay **link = &ds->outstanding;
	struct pxd_dispatch_replay *q;

	while ((q = *link)) {
		int st = __atomic_load_n(&q->settled.state, __ATOMIC_ACQUIRE);

		if (st == PXD_DISPATCH_SETTLED_NOT_YET ||
		    (st == PXD_DISPATCH_SETTLED_DONE &&
		     pxd_dlq_settle(ds->dlq, ds->dests[q->dest].conf->name, q->id))) {
			link = &q->next;
			continue;
		}
		*link = q->next;
		free(q);
	}
}

/* The shard of <d> that takes <event>: a hash of the line, so a replay and
 * its resumption after a restart land on the same one. */
static unsigned shard_of(const struct pxd_daemon *d, const char *event, size_t len)
{
	uint64_t hash = 1469598103934665603ull;

	for (size_t k = 0; k < len; k++)
		hash = (hash ^ (unsigned char)event[k]) * 1099511628211ull;
	return (unsigned)(hash % d->ndisp);
}

static int enqueue(struct pxd_dispatcher *ds, unsigned dest, const char *event, size_t len,
		   int64_t received_ms, struct pxd_dispatch_settle *settled, const char *id)
{
	struct pxd_dispatch_replay *q;
	int rc = 0;

	/* A replayed dead letter is for an HTTP destination (only those write
	 * them); a consumer's message may be for a local sink too. */
	if (!ds->replay_lock_init || (!settled && !pxd_dispatch_is_http(&ds->dests[dest])))
		return -ENOENT;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->dest = dest;
	q->rec = pxd_evrec_new(event, len, received_ms);
	if (!q->rec) {
		free(q);
		return -ENOMEM;
	}
	q->from_dlq = !settled;
	q->rec->_settled = settled;
	if (id) {
		snprintf(q->id, sizeof(q->id), "%s", id);
		/* The shard retries it itself; only its outcome is reported. */
		q->settled.shard_retries = true;
		q->rec->_settled = &q->settled;
	}
	pthread_mutex_lock(&ds->replay_lock);
	if (ds->replay_n >= PXD_DISPATCH_REPLAY_MAX) {
		rc = -ENOSPC;
	} else {
		if (ds->replay_tail)
			ds->replay_tail->next = q;
		else
			ds->replay_head = q;
		ds->replay_tail = q;
		__atomic_store_n(&ds->replay_n, ds->replay_n + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&ds->replay_lock);
	if (rc) {
		free(q->rec);
		free(q);
	}
	return rc;
}

int pxd_dispatcher_dest_index(const struct pxd_conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->ndests; i++)
		if (strcmp(conf->dests[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

struct resume {
	struct pxd_dispatcher *ds;
	size_t n;
};

/* A pending replay of this shard's whose destination is still configured
 * goes back in its queue; the rest wait for their own shard. */
static int resume_visit(void *ctx, const struct pxd_dlq_record *r)
{
	struct resume *a = ctx;
	struct pxd_dispatcher *ds = a->ds;
	int i, rc;

	if (!r->replay_pending || shard_of(ds->d, r->event, r->event_len) != ds->id)
		return 0;
	i = pxd_dispatcher_dest_index(ds->conf_seen, r->dest);
	if (i < 0 || !pxd_dispatch_is_http(&ds->dests[i]))
		return 0;
	rc = enqueue(ds, (unsigned)i, r->event, r->event_len, pxd_now_ms(), NULL, r->id);
	a->n += rc == 0;
	return rc;
}

int pxd_dispatch_replay_resume(struct pxd_dispatcher *ds, size_t *resumed)
{
	const struct pxd_dlq_filter pending = { .pending_only = true };
	struct resume a = { ds, 0 };
	char err[512] = "";
	int rc = ds->hd ? pxd_dlq_scan(ds->d->conf->data_dir, &pending, resume_visit, &a, NULL, err,
				       sizeof(err))
			: 0;

	*resumed = a.n;
	if (rc)
		pxd_log_err("dispatch",
			    "shard %u: resuming dead-letter replays: %s; %zu queued, the rest "
			    "are sent after the next start (or run pixelctl dlq replay)",
			    ds->id, err[0] ? err : strerror(-rc), a.n);
	else if (a.n)
		pxd_log_info("dispatch",
			     "shard %u: %zu dead-letter replays had no outcome before the last "
			     "stop; sending them again",
			     ds->id, a.n);
	return rc;
}

int pxd_dispatcher_replay(struct pxd_daemon *d, unsigned dest, const char *event, size_t len,
			  const char *id)
{
	if (!d->ndisp || dest >= d->conf->ndests)
		return -ENOENT;
	return enqueue(&d->disp[shard_of(d, event, len)], dest, event, len, pxd_now_ms(), NULL, id);
}

int pxd_dispatcher_take(struct pxd_daemon *d, unsigned dest, const char *event, size_t len,
			int64_t received_ms, struct pxd_dispatch_settle *settled)
{
	if (!d->ndisp || dest >= d->conf->ndests)
		return -ENOENT;
	return enqueue(&d->disp[shard_of(d, event, len)], dest, event, len, received_ms, settled,
		       NULL);
}
