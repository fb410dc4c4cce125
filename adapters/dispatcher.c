// SPDX-License-Identifier: MIT
#include "dispatcher.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "delivery_log.h"
#include "dispatch_http.h"
#include "dlq.h"
#include "http_out.h"
#include "ingest.h"
#include "log.h"
#include "watermark.h"

/* Records taken from the rings per pass before batches get a look-in. */
#define POP_BUDGET 4096
/* Idle sleep grows from 1 ms to this while nothing arrives (rings hold
 * seconds of traffic, so a sleeping dispatcher loses nothing). */
#define IDLE_SLEEP_MAX_MS 20
#define SYNC_INTERVAL_MS 1000
#define RETRY_MAX_MS 5000
#define WM_PUBLISH_INTERVAL_MS 500

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
	b->linger_ms = dest->conf->linger_ms		? dest->conf->linger_ms
		       : (a->flags & PXD_ADAPTER_LOCAL) ? 0
							: default_linger_ms;
	/* HTTP: room for what is out (it may come back as retries) and a full
	 * batch more, so a put-back always fits; see batches_full(). */
	b->cap = (size_t)b->max_events * (a->build ? pxd_dispatch_http_max_in_flight(dest) + 2 : 1);
	b->recs = calloc(b->cap, sizeof(*b->recs));
	b->items = calloc(b->cap, sizeof(*b->items));
	b->outcomes = calloc(b->cap, sizeof(*b->outcomes));
	b->attempts = calloc(b->cap, sizeof(*b->attempts));
	b->not_before = calloc(b->cap, sizeof(*b->not_before));
	return b->recs && b->items && b->outcomes && b->attempts && b->not_before ? 0 : -ENOMEM;
}

static void batcher_fini(struct pxd_batcher *b)
{
	for (size_t k = 0; b->recs && k < b->n; k++) {
		json_decref(b->items[k].ev);
		pxd_dispatch_rec_unref(b->recs[k]);
	}
	free(b->recs);
	free(b->items);
	free(b->outcomes);
	free(b->attempts);
	free(b->not_before);
	memset(b, 0, sizeof(*b));
}

/*
 * Each destination's watermark per stream: the start of its first event of
 * that stream still in its batch, else everything routed so far. Only moves
 * forward. Published for the main thread, which saves them
 * (daemon/wm_sync.c) after the sinks were synced here.
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
 * watermark is the lowest start of them all. Also refreshes the backlog-age
 * gauge, which needs the same walk.
 */
static void wm_compute(struct pxd_dispatcher *ds)
{
	unsigned ndests = ds->d->conf->ndests;

	for (unsigned i = 0; i < ds->nstreams; i++) {
		struct pxd_dstream *st = &ds->streams[i];

		for (unsigned d = 0; d < ndests; d++) {
			const struct pxd_batcher *b = &ds->batchers[d];
			uint64_t wm = st->cursor;

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
 * One stream per ingest thread, each starting in journal mode at the lowest
 * watermark of its destinations: the replay of what an earlier run accepted
 * and did not deliver. New traffic is journaled meanwhile and read on.
 */
static int streams_init(struct pxd_dispatcher *ds, char *err, size_t errlen)
{
	const struct pxd_conf *conf = ds->d->conf;
	size_t ndests = conf->ndests;
	int rc;

	ds->nstreams = ds->d->ningest;
	ds->streams = calloc(ds->nstreams, sizeof(*ds->streams));
	ds->wm_all = calloc(ds->nstreams * (ndests ? ndests : 1), sizeof(*ds->wm_all));
	if (!ds->streams || !ds->wm_all)
		return -ENOMEM;
	for (unsigned i = 0; i < ds->nstreams; i++) {
		struct pxd_dstream *st = &ds->streams[i];
		uint64_t low = UINT64_MAX;

		st->ingest = i;
		st->wm = &ds->wm_all[(size_t)i * ndests];
		for (size_t k = 0; k < ndests; k++)
			pxd_watermarks_get(ds->d->watermarks, conf->dests[k].name, i, ds->id,
					   &st->wm[k]);
		if (pxd_journal_stream_path(st->dir, sizeof(st->dir), conf->journal_dir, i, ds->id))
			return -ENAMETOOLONG;
		if (mkdir(st->dir, 0750) && errno != EEXIST) {
			rc = -errno;
			snprintf(err, errlen, "cannot create %s: %s; check journal.dir", st->dir,
				 strerror(-rc));
			return rc;
		}
		rc = pxd_journal_reader_open(st->dir, 0, &st->reader);
		if (rc) {
			snprintf(err, errlen, "cannot read %s: %s", st->dir, strerror(-rc));
			return rc;
		}
		for (size_t k = 0; k < ndests; k++)
			low = PXD_MIN(low, st->wm[k]);
		st->cursor = ndests ? low : 0;
		st->journal_mode = true;
		pxd_journal_reader_seek(st->reader, st->cursor);
	}
	return 0;
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
	if (pthread_mutex_init(&ds->replay_lock, NULL))
		return -ENOMEM;
	ds->replay_lock_init = true;
	for (unsigned i = 0; i < conf->ndests; i++) {
		struct pxd_dest *dest = &ds->dests[i];

		dest->conf = &conf->dests[i];
		dest->data_dir = conf->data_dir;
		dest->index = i;
		dest->adapter = pxd_adapter_find(dest->conf->type);
		if (!dest->adapter) {
			char types[256];

			pxd_adapter_types(types, sizeof(types));
			snprintf(err, errlen,
				 "%s:%d: destination \"%s\": unknown type \"%s\"; use one of: %s",
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
	rc = pxd_dispatch_http_init(ds, err, errlen);
	if (rc)
		return rc;
	return streams_init(ds, err, errlen);
}

void pxd_dispatcher_fini(struct pxd_dispatcher *ds)
{
	if (!ds->dests)
		return;
	pxd_dispatch_http_fini(ds);
	for (unsigned i = 0; ds->d && i < ds->d->conf->ndests; i++) {
		if (ds->dests[i].adapter)
			ds->dests[i].adapter->fini(&ds->dests[i]);
		batcher_fini(&ds->batchers[i]);
	}
	for (unsigned i = 0; ds->streams && i < ds->nstreams; i++)
		pxd_journal_reader_close(ds->streams[i].reader);
	free(ds->streams);
	free(ds->wm_all);
	free(ds->dests);
	free(ds->batchers);
	ds->streams = NULL;
	ds->dests = NULL;
}

/*
 * Writes the batch of local destination <i> (HTTP ones go through
 * pxd_dispatch_http_flush()). Events whose outcome is OK or PERMANENT leave the batch;
 * RETRY ones stay and the whole batch waits for a growing delay.
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
			pxd_log_warn(
			    "dispatch",
			    "destination %s: write failed: %s; %zu events kept and retried "
			    "(similar lines suppressed=%lu)",
			    dest->conf->name, strerror(-rc), b->n, suppressed);
	}
	for (size_t k = 0; k < b->n; k++) {
		switch (b->outcomes[k].delivery) {
		case PXD_DELIVERY_OK:
			pxd_stat_add(&m->events_delivered, 1);
			pxd_dispatch_rec_unref(b->recs[k]);
			break;
		case PXD_DELIVERY_PERMANENT:
			pxd_stat_add(&m->events_failed, 1);
			pxd_dispatch_rec_unref(b->recs[k]);
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

/*
 * True when some destination's batch is full: take nothing more this pass.
 * An HTTP destination counts what it has out too, so everything it may put
 * back fits. A destination that is down thus stops the shard's reading once
 * its batch is full; the journal holds the backlog (bounded by disk, not
 * memory), the other destinations still send what they hold, and reading
 * resumes when the slow one makes room.
 */
static bool batches_full(const struct pxd_dispatcher *ds)
{
	for (unsigned i = 0; i < ds->d->conf->ndests; i++) {
		size_t held = ds->hd ? ds->hd[i].held : 0;

		if (ds->batchers[i].n + held >= ds->batchers[i].cap)
			return true;
	}
	return false;
}

/* Offers <rec> (from ingest stream <st>) to every destination that wants it
 * and has not had it yet (a replay starts at the lowest watermark). */
static void route(struct pxd_dispatcher *ds, struct pxd_dstream *st, struct pxd_evrec *rec,
		  int64_t now)
{
	struct pxd_sv name = pxd_dispatcher_event_name(rec->line, rec->len);
	unsigned ndests = ds->d->conf->ndests;
	json_t *ev = NULL;

	rec->_refs = 1; /* held by this function until the end */
	rec->stream = st->ingest;
	st->cursor = rec->end;
	for (unsigned i = 0; i < ndests; i++) {
		struct pxd_batcher *b = &ds->batchers[i];

		if (rec->start < st->wm[i])
			continue;
		if (!pxd_dest_wants(&ds->dests[i], name.p, name.n)) {
			pxd_stat_add(&ds->m[i].events_filtered, 1);
			continue;
		}
		if (pxd_dispatch_is_http(&ds->dests[i])) {
			/* Parsed once, shared by every HTTP batch (jansson refcounts). */
			pxd_dispatch_http_route(ds, i, rec, &ev, now);
			continue;
		}
		if (b->n == b->cap || b->bytes + rec->len + 1 > b->max_bytes)
			flush(ds, i, now);
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
	json_decref(ev);
	pxd_dispatch_rec_unref(rec);
}

static void enter_journal_mode(struct pxd_dstream *st)
{
	st->journal_mode = true;
	st->resume_asked = false;
	pxd_journal_reader_seek(st->reader, st->cursor);
}

/*
 * Ring mode: pop until the ring is empty. An empty ring with the overflow
 * flag up means ingest has stopped pushing and the rest is in the journal.
 */
static size_t drain_ring(struct pxd_dispatcher *ds, struct pxd_dstream *st, int64_t now,
			 size_t budget)
{
	struct pxd_handoff *h = ds->d->handoff;
	size_t n = 0;
	struct pxd_evrec *rec;

	while (n < budget && !batches_full(ds)) {
		rec = pxd_handoff_pop_spsc(h, st->ingest, ds->id);
		if (!rec) {
			if (!__atomic_load_n(&st->js->overflow, __ATOMIC_ACQUIRE))
				break;
			/* Pushes made before the flag went up are visible now. */
			while ((rec = pxd_handoff_pop_spsc(h, st->ingest, ds->id)))
				route(ds, st, rec, now), n++;
			enter_journal_mode(st);
			break;
		}
		route(ds, st, rec, now);
		n++;
	}
	return n;
}

/*
 * Journal mode (after an overflow, and at start for the replay): read the
 * stream from the cursor up to what ingest has written. Once caught up, ask
 * ingest to push again; the first record it pushes (resume_at) is where the
 * ring takes over.
 */
static size_t read_journal(struct pxd_dispatcher *ds, struct pxd_dstream *st, int64_t now,
			   size_t budget)
{
	struct pxd_journal_rec jr;
	uint64_t limit = __atomic_load_n(&st->js->written, __ATOMIC_ACQUIRE);
	bool resumed = st->resume_asked && !__atomic_load_n(&st->js->overflow, __ATOMIC_ACQUIRE);
	uint64_t resume_at = resumed ? __atomic_load_n(&st->js->resume_at, __ATOMIC_ACQUIRE) : 0;
	size_t n = 0;
	int rc;

	if (resumed)
		limit = PXD_MIN(limit, resume_at);
	while (n < budget && !batches_full(ds)) {
		struct pxd_evrec *rec;

		rc = pxd_journal_reader_next(st->reader, limit, &jr);
		if (rc == PXD_JOURNAL_READ_END) {
			/* Every record below <limit> is complete (it is what the
			 * writer has written), so nothing left means we are there. */
			st->cursor = PXD_MAX(st->cursor, limit);
			break;
		}
		if (rc == PXD_JOURNAL_READ_CORRUPT || rc == PXD_JOURNAL_READ_TORN) {
			uint64_t skipped = 0;

			pxd_log_err("dispatch",
				    "%s: %s bytes at position %lx (%s); skipping them, "
				    "run pixelctl journal verify",
				    st->dir, rc == PXD_JOURNAL_READ_TORN ? "torn" : "corrupt",
				    pxd_journal_reader_pos(st->reader),
				    pxd_journal_bad_name(pxd_journal_reader_bad(st->reader)));
			if (pxd_journal_reader_skip(st->reader, &skipped))
				break;
			continue;
		}
		if (rc < 0) {
			uint64_t suppressed;
			static __thread struct pxd_log_ratelimit rl;

			if (pxd_log_ratelimit_ok(&rl, 5000, &suppressed))
				pxd_log_err("dispatch", "reading %s: %s; retrying", st->dir,
					    strerror(-rc));
			break;
		}
		rec = pxd_evrec_new(jr.payload, jr.len - 1, jr.received_ms);
		if (!rec)
			break;
		rec->start = jr.pos;
		rec->end = jr.next;
		route(ds, st, rec, now);
		pxd_stat_add(&ds->replayed, 1);
		n++;
	}
	if (resumed && st->cursor >= resume_at) {
		st->journal_mode = false;
	} else if (!st->resume_asked && st->cursor >= limit && !batches_full(ds)) {
		st->resume_asked = true;
		__atomic_store_n(&st->js->resume_req, 1, __ATOMIC_RELEASE);
	}
	return n;
}

static size_t drain(struct pxd_dispatcher *ds, int64_t now, size_t budget)
{
	size_t total = 0;
	size_t n;

	/* Round-robin over the ingest threads so one busy thread cannot starve
	 * the others' streams. */
	do {
		n = 0;
		for (unsigned i = 0; i < ds->nstreams; i++) {
			struct pxd_dstream *st = &ds->streams[i];

			n += st->journal_mode ? read_journal(ds, st, now, 256)
					      : drain_ring(ds, st, now, 256);
		}
		total += n;
	} while (n && total < budget);
	return total;
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
			pxd_log_warn("dispatch",
				     "destination %s: reopen failed; still writing to "
				     "the old file",
				     dest->conf->name);
	}
}

/* At shutdown (no producer left): every stream read to its end, every batch out. */
static bool caught_up(const struct pxd_dispatcher *ds)
{
	for (unsigned i = 0; i < ds->d->conf->ndests; i++)
		if (ds->batchers[i].n || (ds->hd && (ds->hd[i].held || ds->hd[i].bisecting)))
			return false;
	if (__atomic_load_n(&ds->replay_n, __ATOMIC_ACQUIRE))
		return false;
	for (unsigned i = 0; i < ds->nstreams; i++) {
		const struct pxd_dstream *st = &ds->streams[i];

		if (!st->journal_mode && __atomic_load_n(&st->js->overflow, __ATOMIC_ACQUIRE))
			return false;
		if (st->journal_mode &&
		    st->cursor < __atomic_load_n(&st->js->written, __ATOMIC_ACQUIRE))
			return false;
	}
	return pxd_handoff_backlog(ds->d->handoff, ds->id) == 0;
}

static void nap(int64_t ms)
{
	struct timespec ts = { 0, ms * 1000000 };

	nanosleep(&ts, NULL);
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
	ds->last_wm_save_ms = now;
	for (unsigned i = 0; i < ds->nstreams; i++)
		ds->streams[i].js = &d->ingest[i].streams[ds->id];
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
			if (ds->dlq)
				pxd_dlq_reopen(ds->dlq);
		}
		popped = drain(ds, now, stop ? SIZE_MAX : POP_BUDGET);
		if (ds->hd)
			popped += pxd_dispatch_http_drain_replays(ds, now);
		for (unsigned i = 0; i < ndests; i++) {
			if (ds->hd && pxd_dispatch_is_http(&ds->dests[i])) {
				flushed |= pxd_dispatch_http_flush(ds, i, now, stop != 0);
			} else if (batch_due(&ds->batchers[i], now, stop != 0)) {
				flush(ds, i, now);
				flushed = true;
			}
		}
		if (now - ds->last_sync_ms >= SYNC_INTERVAL_MS) {
			sync_dests(ds);
			ds->last_sync_ms = now;
		}
		if (now - ds->last_wm_save_ms >= WM_PUBLISH_INTERVAL_MS) {
			/* Sinks and dead letters first: a watermark must never get
			 * ahead of the data. */
			sync_dests(ds);
			ds->last_sync_ms = now;
			if (pxd_dispatch_http_sync_dlq(ds) == 0)
				wm_compute(ds);
			ds->last_wm_save_ms = now;
		}
		if (ds->dlog)
			pxd_delivery_log_tick(ds->dlog, now);
		if (stop && (stop == 2 || caught_up(ds)))
			break;
		if (popped || flushed)
			idle_ms = 1;
		if (ds->http) {
			/* Completions run on_http_done(); with nothing to do it is the
			 * idle sleep, ended early by any completion. */
			if (pxd_http_out_drive(ds->http, popped || flushed ? 0 : (int)idle_ms) < 0)
				nap(idle_ms);
		} else if (!popped && !flushed) {
			nap(idle_ms);
		}
		if (!popped && !flushed)
			idle_ms = PXD_MIN(idle_ms * 2, IDLE_SLEEP_MAX_MS);
	}
	for (unsigned i = 0; i < ndests; i++) {
		size_t n = ds->batchers[i].n + (ds->hd ? ds->hd[i].held : 0);

		if (n)
			pxd_log_warn("dispatch",
				     "destination %s: %zu events not delivered by the "
				     "shutdown deadline; they stay in the journal and are "
				     "sent after the restart",
				     ds->dests[i].conf->name, n);
	}
	sync_dests(ds);
	if (pxd_dispatch_http_sync_dlq(ds) == 0)
		wm_compute(ds);
	if (ds->dlog)
		pxd_delivery_log_flush(ds->dlog);
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
