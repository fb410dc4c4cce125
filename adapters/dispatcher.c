// SPDX-License-Identifier: MIT
#include "dispatcher.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "delivery_log.h"
#include "dlq.h"
#include "http_out.h"
#include "ingest.h"
#include "log.h"
#include "payload.h"
#include "watermark.h"

/* Records taken from the rings per pass before batches get a look-in. */
#define POP_BUDGET 4096
/* Idle sleep grows from 1 ms to this while nothing arrives (rings hold
 * seconds of traffic, so a sleeping dispatcher loses nothing). */
#define IDLE_SLEEP_MAX_MS 20
#define SYNC_INTERVAL_MS 1000
#define RETRY_MAX_MS 5000
#define WM_PUBLISH_INTERVAL_MS 500
/* An HTTP request that could not be built or submitted goes again this much later. */
#define RESUBMIT_MS 50
/* A dead letter that could not be written is retried this much later. */
#define DLQ_RETRY_MS 60000
/* A refused batch that cannot be bisected now (another one is) is sent again. */
#define BISECT_BUSY_RETRY_MS 1000

static const uint32_t default_linger_ms = 200;

static bool is_http(const struct pxd_dest *dest)
{
	return dest->adapter->build != NULL;
}

/* The in-flight cap of an HTTP destination (its config was checked at init). */
static uint32_t http_max_in_flight(const struct pxd_dest *dest)
{
	struct pxd_http_out_conf c;
	char err[8];

	if (pxd_http_out_conf_parse(dest->conf, "", &c, err, sizeof(err)))
		return PXD_HTTP_OUT_MAX_IN_FLIGHT;
	return c.max_in_flight;
}

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
	b->cap = (size_t)b->max_events * (a->build ? http_max_in_flight(dest) + 2 : 1);
	b->recs = calloc(b->cap, sizeof(*b->recs));
	b->items = calloc(b->cap, sizeof(*b->items));
	b->outcomes = calloc(b->cap, sizeof(*b->outcomes));
	b->attempts = calloc(b->cap, sizeof(*b->attempts));
	b->not_before = calloc(b->cap, sizeof(*b->not_before));
	return b->recs && b->items && b->outcomes && b->attempts && b->not_before ? 0 : -ENOMEM;
}

static void rec_unref(struct pxd_evrec *rec)
{
	if (--rec->_refs == 0)
		free(rec);
}

static void batcher_fini(struct pxd_batcher *b)
{
	for (size_t k = 0; b->recs && k < b->n; k++) {
		json_decref(b->items[k].ev);
		rec_unref(b->recs[k]);
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

		if (!is_http(&ds->dests[d]))
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

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int req_alloc(struct pxd_dispatch_req *r, unsigned dest, size_t cap)
{
	r->dest = dest;
	r->recs = calloc(cap, sizeof(*r->recs));
	r->items = calloc(cap, sizeof(*r->items));
	r->attempts = calloc(cap, sizeof(*r->attempts));
	r->not_before = calloc(cap, sizeof(*r->not_before));
	r->out = calloc(cap, sizeof(*r->out));
	return r->recs && r->items && r->attempts && r->not_before && r->out ? 0 : -ENOMEM;
}

static void on_http_done(void *ctx, uint64_t tag, const struct pxd_response *resp,
			 const struct pxd_http_out_meta *meta);

/* The transport, dead letters and delivery log exist only when some
 * destination is sent over HTTP. */
static int http_init(struct pxd_dispatcher *ds, char *err, size_t errlen)
{
	const struct pxd_conf *conf = ds->d->conf;
	unsigned ndests = conf->ndests;
	bool any = false;
	char dir[4096];
	char name[64];
	int rc;

	for (unsigned i = 0; i < ndests; i++)
		any |= is_http(&ds->dests[i]);
	if (!any)
		return 0;
	ds->hd = calloc(ndests, sizeof(*ds->hd));
	if (!ds->hd)
		return -ENOMEM;
	rc = pxd_http_out_new(&ds->http, ndests, on_http_done, ds);
	if (rc) {
		snprintf(err, errlen, "shard %u: cannot start the HTTP client: %s", ds->id,
			 strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; i < ndests; i++) {
		struct pxd_dest *dest = &ds->dests[i];
		struct pxd_dest_http *h = &ds->hd[i];
		struct pxd_http_out_conf hc;

		if (!is_http(dest))
			continue;
		rc = pxd_http_out_conf_parse(dest->conf, conf->path, &hc, err, errlen);
		if (rc)
			return rc;
		rc = pxd_http_out_dest_set(ds->http, i, &hc);
		if (rc)
			return rc;
		pxd_retry_breaker_init(&h->breaker, PXD_RETRY_BREAKER_FAILURES,
				       PXD_RETRY_BREAKER_COOLDOWN_MS);
		h->nreqs = hc.max_in_flight + 2;
		h->reqs = calloc(h->nreqs, sizeof(*h->reqs));
		if (!h->reqs)
			return -ENOMEM;
		for (size_t r = 0; r < h->nreqs; r++) {
			rc = req_alloc(&h->reqs[r], i, ds->batchers[i].max_events);
			if (rc)
				return rc;
		}
	}
	pxd_retry_policy_default(&ds->policy);
	if (getrandom(&ds->rnd_state, sizeof(ds->rnd_state), 0) != sizeof(ds->rnd_state))
		ds->rnd_state = (uint64_t)pxd_now_ms() ^ ((uint64_t)ds->id << 32);
	rc = pxd_dlq_open(&ds->dlq, conf->data_dir);
	if (rc) {
		snprintf(err, errlen,
			 "cannot open the dead letter directory %s/dlq: %s; check "
			 "data_dir",
			 conf->data_dir, strerror(-rc));
		return rc;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/delivery", conf->data_dir) >= sizeof(dir)) {
		snprintf(err, errlen, "data_dir \"%s\" is too long; use a shorter path",
			 conf->data_dir);
		return -ENAMETOOLONG;
	}
	snprintf(name, sizeof(name), "shard-%u.log", ds->id);
	rc = pxd_delivery_log_open(&ds->dlog, dir, name, PXD_DELIVERY_LOG_MAX_BYTES,
				   PXD_DELIVERY_LOG_KEEP);
	if (rc) {
		snprintf(err, errlen, "cannot open the delivery log %s/%s: %s; check data_dir", dir,
			 name, strerror(-rc));
		return rc;
	}
	return 0;
}

static void req_release_events(struct pxd_dispatch_req *r)
{
	for (size_t k = 0; k < r->n; k++) {
		if (!r->recs[k])
			continue;
		json_decref(r->items[k].ev);
		rec_unref(r->recs[k]);
	}
}

/* In-flight requests are aborted without callbacks: their events were never
 * settled, so their watermarks held them and they are sent after the restart. */
static void http_fini(struct pxd_dispatcher *ds)
{
	struct pxd_dispatch_replay *q;

	pxd_http_out_free(ds->http);
	ds->http = NULL;
	for (unsigned i = 0; ds->hd && i < ds->d->conf->ndests; i++) {
		struct pxd_dest_http *h = &ds->hd[i];

		for (size_t r = 0; r < h->nreqs; r++) {
			struct pxd_dispatch_req *x = &h->reqs[r];

			if (x->in_use && !x->bisect_range)
				req_release_events(x);
			free(x->recs);
			free(x->items);
			free(x->attempts);
			free(x->not_before);
			free(x->out);
		}
		free(h->reqs);
	}
	free(ds->hd);
	ds->hd = NULL;
	pxd_delivery_log_close(ds->dlog);
	ds->dlog = NULL;
	if (ds->dlq)
		pxd_dlq_sync(ds->dlq);
	pxd_dlq_close(ds->dlq);
	ds->dlq = NULL;
	pxd_buf_free(&ds->scratch.body);
	while ((q = ds->replay_head)) {
		ds->replay_head = q->next;
		free(q->rec);
		free(q);
	}
	if (ds->replay_lock_init)
		pthread_mutex_destroy(&ds->replay_lock);
	ds->replay_lock_init = false;
}

static struct pxd_dispatch_req *req_get(struct pxd_dest_http *h)
{
	for (size_t r = 0; r < h->nreqs; r++) {
		if (!h->reqs[r].in_use) {
			h->reqs[r].in_use = true;
			h->reqs[r].bisect_range = false;
			h->reqs[r].n = 0;
			h->reqs[r].lo = 0;
			return &h->reqs[r];
		}
	}
	return NULL;
}

static void req_put(struct pxd_dispatch_req *r)
{
	r->in_use = false;
	r->n = 0;
}

static void http_gauges(struct pxd_dispatcher *ds, unsigned i)
{
	struct pxd_dest_http *h = &ds->hd[i];

	__atomic_store_n(&ds->m[i].pending, (uint64_t)(ds->batchers[i].n + h->held),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&h->st.in_flight, (uint64_t)pxd_http_out_in_flight(ds->http, i),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&h->st.breaker_state, (uint64_t)pxd_retry_breaker_state(&h->breaker),
			 __ATOMIC_RELAXED);
}

/* Appends one event to an HTTP batch (room was checked by batches_full()). */
static void batch_push(struct pxd_batcher *b, struct pxd_evrec *rec, struct pxd_batch_item it,
		       uint32_t attempts, int64_t not_before, int64_t now)
{
	if (!b->n)
		b->first_mono_ms = now;
	b->recs[b->n] = rec;
	b->items[b->n] = it;
	b->attempts[b->n] = attempts;
	b->not_before[b->n] = not_before;
	b->n++;
	b->bytes += it.len + 1;
}

/* Puts the first <m> events of <r> back in front of the batch, so they go
 * before newer events of the same users. */
static void batch_unshift(struct pxd_batcher *b, const struct pxd_dispatch_req *r, size_t m,
			  int64_t now)
{
	if (!m)
		return;
	if (!b->n)
		b->first_mono_ms = now;
	memmove(b->recs + m, b->recs, b->n * sizeof(*b->recs));
	memmove(b->items + m, b->items, b->n * sizeof(*b->items));
	memmove(b->attempts + m, b->attempts, b->n * sizeof(*b->attempts));
	memmove(b->not_before + m, b->not_before, b->n * sizeof(*b->not_before));
	memcpy(b->recs, r->recs, m * sizeof(*b->recs));
	memcpy(b->items, r->items, m * sizeof(*b->items));
	memcpy(b->attempts, r->attempts, m * sizeof(*b->attempts));
	memcpy(b->not_before, r->not_before, m * sizeof(*b->not_before));
	b->n += m;
	for (size_t k = 0; k < m; k++)
		b->bytes += r->items[k].len + 1;
}

/*
 * Writes a dead letter for <rec> and settles it for destination <i>.
 * Returns 0, or -errno when it could not be written: the caller keeps the
 * event (it must not be lost) and tries again later.
 */
static int dead_letter(struct pxd_dispatcher *ds, unsigned i, struct pxd_evrec *rec,
		       const char *reason, const struct pxd_response *resp, uint32_t attempts)
{
	const char *name = ds->dests[i].conf->name;
	char id[PXD_DLQ_ID_LEN + 1];
	struct pxd_dlq_entry e = {
		.dest = name,
		.event = rec->line,
		.event_len = rec->len,
		.reason = reason,
		.status = resp ? resp->status : 0,
		.response = resp ? resp->body : NULL,
		.response_len = resp && resp->body ? resp->len : 0,
		.attempts = attempts,
	};
	int rc = pxd_dlq_append(ds->dlq, &e, pxd_now_ms(), id);

	if (rc) {
		static __thread struct pxd_log_ratelimit rl;
		uint64_t suppressed = 0;

		pxd_stat_add(&ds->hd[i].st.dlq_errors, 1);
		if (pxd_log_ratelimit_ok(&rl, 5000, &suppressed))
			pxd_log_err("dispatch",
				    "destination %s: cannot write a dead letter to %s/dlq: %s; the "
				    "event is kept and tried again in %d s; free disk space "
				    "(similar lines suppressed=%lu)",
				    name, ds->d->conf->data_dir, strerror(-rc), DLQ_RETRY_MS / 1000,
				    suppressed);
		return rc;
	}
	pxd_stat_add(&ds->hd[i].st.dead_lettered, 1);
	pxd_stat_add(&ds->m[i].events_failed, 1);
	pxd_log_info("dispatch", "destination %s: dead letter %s (%u attempts): %s", name, id,
		     attempts, reason);
	return 0;
}

/*
 * Gives each event of request <r> its outcome: delivered, dead-lettered, or
 * back into the batch for a retry. The events leave <r>.
 */
static void settle_outcomes(struct pxd_dispatcher *ds, unsigned i, struct pxd_dispatch_req *r,
			    const struct pxd_response *resp, int64_t now)
{
	struct pxd_dest_http *h = &ds->hd[i];
	struct pxd_metrics_dest *m = &ds->m[i];
	int64_t wall = pxd_now_ms();
	size_t back = 0;

	for (size_t k = 0; k < r->n; k++) {
		const struct pxd_outcome *o = &r->out[k];
		bool unsent = o->delivery == PXD_DELIVERY_RETRY &&
			      !strncmp(o->reason, PXD_RETRY_UNSENT, strlen(PXD_RETRY_UNSENT));
		uint32_t att = r->attempts[k] + !unsent;
		int64_t not_before = 0;
		uint64_t delay;
		char why[256];

		switch (o->delivery) {
		case PXD_DELIVERY_OK:
			pxd_stat_add(&m->events_delivered, 1);
			break;
		case PXD_DELIVERY_PERMANENT:
			if (dead_letter(ds, i, r->recs[k], o->reason, resp, att))
				not_before = now + DLQ_RETRY_MS;
			break;
		case PXD_DELIVERY_RETRY: {
			int64_t ts = pxd_payload_ts_ms(r->items[k].ev);
			uint64_t age = wall > ts ? (uint64_t)(wall - ts) : 0;

			if (pxd_retry_next(&ds->policy, att ? att - 1 : 0, o->retry_after_ms, age,
					   splitmix64(&ds->rnd_state),
					   &delay) == PXD_RETRY_GIVE_UP) {
				snprintf(why, sizeof(why), "retry: gave up after %u attempts: %s",
					 att, o->reason);
				if (dead_letter(ds, i, r->recs[k], why, resp, att))
					not_before = now + DLQ_RETRY_MS;
			} else {
				if (!unsent)
					pxd_stat_add(&m->events_retried, 1);
				not_before = now + (int64_t)delay;
			}
			break;
		}
		}
		if (not_before) {
			r->recs[back] = r->recs[k];
			r->items[back] = r->items[k];
			r->attempts[back] = att;
			r->not_before[back] = not_before;
			back++;
		} else {
			json_decref(r->items[k].ev);
			rec_unref(r->recs[k]);
		}
	}
	batch_unshift(&ds->batchers[i], r, back, now);
	h->held -= r->n;
	r->n = 0;
}

/* Builds and submits <r> for destination <i>. Returns 0 or -errno (then
 * nothing was sent and <r> still holds its events). */
static int http_send(struct pxd_dispatcher *ds, unsigned i, struct pxd_dispatch_req *r, int64_t now)
{
	struct pxd_dest *dest = &ds->dests[i];
	struct pxd_batch b = { r->items, r->n };
	int rc;

	ds->scratch.url[0] = '\0';
	ds->scratch.nheaders = 0;
	ds->scratch.body.len = 0;
	rc = dest->adapter->build(dest, &b, &ds->scratch);
	if (!rc)
		rc = pxd_http_out_submit(ds->http, i, &ds->scratch, (uint64_t)(uintptr_t)r, now);
	if (rc) {
		struct pxd_dest_http *h = &ds->hd[i];

		/* A half-open breaker handed this request the probe: re-arm it. */
		if (pxd_retry_breaker_state(&h->breaker) == PXD_RETRY_BREAKER_HALF_OPEN)
			pxd_retry_breaker_failure(&h->breaker, (uint64_t)now);
		if (rc != -EAGAIN) {
			static __thread struct pxd_log_ratelimit rl;
			uint64_t suppressed = 0;

			if (pxd_log_ratelimit_ok(&rl, 5000, &suppressed))
				pxd_log_warn("dispatch",
					     "destination %s: cannot send %zu events: %s; trying "
					     "again (similar lines suppressed=%lu)",
					     dest->conf->name, r->n, strerror(-rc), suppressed);
		}
		return rc;
	}
	pxd_stat_add(&ds->hd[i].st.requests, 1);
	pxd_stat_add(&ds->m[i].batches, 1);
	return 0;
}

/* Puts every event of unsent request <r> back, due after <delay_ms>. */
static void req_unsend(struct pxd_dispatcher *ds, unsigned i, struct pxd_dispatch_req *r,
		       int64_t now, int64_t delay_ms)
{
	for (size_t k = 0; k < r->n; k++)
		r->not_before[k] = now + delay_ms;
	batch_unshift(&ds->batchers[i], r, r->n, now);
	ds->hd[i].held -= r->n;
	r->n = 0;
}

/* Events of the batch that may go at <now>: count and bytes, and whether one
 * of them is a retry (which waits for no linger). */
static bool http_due(const struct pxd_batcher *b, int64_t now, bool draining)
{
	size_t ready = 0;
	size_t bytes = 0;
	bool retry = false;

	for (size_t k = 0; k < b->n; k++) {
		if (b->not_before[k] > now)
			continue;
		ready++;
		bytes += b->items[k].len + 1;
		retry |= b->attempts[k] != 0;
	}
	if (!ready)
		return false;
	return draining || retry || ready >= b->max_events || bytes >= b->max_bytes ||
	       now - b->first_mono_ms >= b->linger_ms;
}

/* Moves the events due at <now> (up to the platform's limits) into <r>. */
static void req_take(struct pxd_dispatcher *ds, unsigned i, struct pxd_dispatch_req *r, int64_t now)
{
	struct pxd_batcher *b = &ds->batchers[i];
	size_t bytes = 0;
	size_t kept = 0;

	r->n = 0;
	for (size_t k = 0; k < b->n; k++) {
		size_t len = b->items[k].len + 1;

		if (b->not_before[k] <= now && r->n < b->max_events &&
		    (!r->n || bytes + len <= b->max_bytes)) {
			r->recs[r->n] = b->recs[k];
			r->items[r->n] = b->items[k];
			r->attempts[r->n] = b->attempts[k];
			r->n++;
			bytes += len;
			continue;
		}
		b->recs[kept] = b->recs[k];
		b->items[kept] = b->items[k];
		b->attempts[kept] = b->attempts[k];
		b->not_before[kept] = b->not_before[k];
		kept++;
	}
	b->n = kept;
	b->bytes -= bytes;
	b->first_mono_ms = now;
	ds->hd[i].held += r->n;
}

/* Sends the next range of a refused batch when none is out. */
static bool bisect_step(struct pxd_dispatcher *ds, unsigned i, int64_t now)
{
	struct pxd_dest_http *h = &ds->hd[i];
	struct pxd_dispatch_req *f = h->refused;
	struct pxd_dispatch_req *r;

	if (h->bisect_waiting)
		return false;
	if (!h->range_ready) {
		if (!pxd_bisect_next(&h->plan, &h->range_lo, &h->range_hi)) {
			pxd_stat_add(&h->st.bisect_isolated, pxd_bisect_isolated(&h->plan));
			pxd_log_info("dispatch",
				     "destination %s: refused batch of %zu split in %zu requests; "
				     "%zu events isolated",
				     ds->dests[i].conf->name, f->n, pxd_bisect_requests(&h->plan),
				     pxd_bisect_isolated(&h->plan));
			req_put(f);
			h->refused = NULL;
			h->bisecting = false;
			return false;
		}
		h->range_ready = true;
	}
	if (!pxd_http_out_ready(ds->http, i, now))
		return false;
	r = req_get(h);
	if (!r)
		return false;
	if (!pxd_retry_breaker_allow(&h->breaker, (uint64_t)now)) {
		req_put(r);
		return false;
	}
	h->range_ready = false;
	r->bisect_range = true;
	r->lo = h->range_lo;
	r->n = h->range_hi - h->range_lo;
	memcpy(r->recs, f->recs + r->lo, r->n * sizeof(*r->recs));
	memcpy(r->items, f->items + r->lo, r->n * sizeof(*r->items));
	memcpy(r->attempts, f->attempts + r->lo, r->n * sizeof(*r->attempts));
	if (http_send(ds, i, r, now)) {
		pxd_bisect_report(&h->plan, PXD_BISECT_UNDECIDED);
		for (size_t k = r->lo; k < r->lo + r->n; k++)
			f->recs[k] = NULL;
		req_unsend(ds, i, r, now, RESUBMIT_MS);
		req_put(r);
		return false;
	}
	h->bisect_waiting = true;
	return true;
}

/* The answer to one range of the plan. */
static void bisect_done(struct pxd_dispatcher *ds, unsigned i, struct pxd_dispatch_req *r,
			const struct pxd_response *resp, int64_t now)
{
	struct pxd_dest_http *h = &ds->hd[i];
	struct pxd_dispatch_req *f = h->refused;
	enum pxd_bisect_result res;
	size_t n = r->n;

	h->bisect_waiting = false;
	for (size_t k = 0; k < n; k++)
		f->attempts[r->lo + k]++;
	if (n > 1 && pxd_bisect_wanted(r->out, n)) {
		/* Nothing settled: the events stay with the refused batch. */
		pxd_bisect_report(&h->plan, PXD_BISECT_REFUSED);
		return;
	}
	if (n == 1 && r->out[0].delivery == PXD_DELIVERY_PERMANENT)
		res = PXD_BISECT_REFUSED;
	else if (pxd_retry_request_failed(r->out, n))
		res = PXD_BISECT_UNDECIDED;
	else
		res = PXD_BISECT_ACCEPTED;
	for (size_t k = 0; k < n; k++)
		f->recs[r->lo + k] = NULL;
	settle_outcomes(ds, i, r, resp, now);
	pxd_bisect_report(&h->plan, res);
}

static void on_http_done(void *ctx, uint64_t tag, const struct pxd_response *resp,
			 const struct pxd_http_out_meta *meta)
{
	static const uint32_t bounds[] = { PXD_DISPATCH_LATENCY_BOUNDS };
	struct pxd_dispatcher *ds = ctx;
	struct pxd_dispatch_req *r = (struct pxd_dispatch_req *)(uintptr_t)tag;
	unsigned i = r->dest;
	struct pxd_dest *dest = &ds->dests[i];
	struct pxd_dest_http *h = &ds->hd[i];
	struct pxd_batch b = { r->items, r->n };
	int64_t now = pxd_mono_ms();
	struct pxd_delivery_log_rec lr = {
		.time_ms = pxd_now_ms(),
		.dest = dest->conf->name,
		.events = (uint32_t)r->n,
		.status = resp->status,
		.latency_ms = meta->latency_ms,
		.trace_id = meta->trace_id,
		.error = resp->status ? NULL : resp->transport_error,
	};
	size_t bucket = 0;
	bool failed;

	for (size_t k = 0; k < r->n; k++)
		r->out[k] = (struct pxd_outcome){ .delivery = PXD_DELIVERY_RETRY };
	dest->adapter->classify(dest, &b, resp, r->out);
	pxd_delivery_log_tally(&lr, r->out, r->n);
	if (pxd_delivery_log_write(ds->dlog, &lr))
		pxd_stat_add(&h->st.dlog_errors, 1);
	while (bucket < ARRAY_SIZE(bounds) && meta->latency_ms > bounds[bucket])
		bucket++;
	pxd_stat_add(&h->st.latency_bucket[bucket], 1);
	pxd_stat_add(&h->st.latency_sum_ms, meta->latency_ms);

	failed = pxd_retry_request_failed(r->out, r->n);
	if (failed) {
		pxd_stat_add(&h->st.requests_failed, 1);
		pxd_retry_breaker_failure(&h->breaker, (uint64_t)now);
	} else {
		pxd_retry_breaker_success(&h->breaker);
	}

	if (r->bisect_range) {
		bisect_done(ds, i, r, resp, now);
		req_put(r);
	} else if (pxd_bisect_wanted(r->out, r->n)) {
		if (h->bisecting) {
			/* One bisection at a time; this batch tries again whole. */
			for (size_t k = 0; k < r->n; k++)
				r->out[k] =
				    (struct pxd_outcome){ .delivery = PXD_DELIVERY_RETRY,
							  .retry_after_ms = BISECT_BUSY_RETRY_MS };
			settle_outcomes(ds, i, r, resp, now);
			req_put(r);
		} else {
			/* The plan owns <r> until every event of it is settled. */
			pxd_bisect_init(&h->plan, r->n);
			h->refused = r;
			h->bisecting = true;
			h->range_ready = false;
			h->bisect_waiting = false;
		}
	} else {
		settle_outcomes(ds, i, r, resp, now);
		req_put(r);
	}
	http_gauges(ds, i);
}

/* Sends what is due for HTTP destination <i>. Returns true when a request went out. */
static bool flush_http(struct pxd_dispatcher *ds, unsigned i, int64_t now, bool draining)
{
	struct pxd_dest_http *h = &ds->hd[i];
	struct pxd_batcher *b = &ds->batchers[i];
	bool sent = false;

	if (h->bisecting)
		sent |= bisect_step(ds, i, now);
	while (http_due(b, now, draining)) {
		struct pxd_dispatch_req *r;

		/* ready() first: allow() in OPEN hands out the single probe, which
		 * must then really go out. */
		if (!pxd_http_out_ready(ds->http, i, now))
			break;
		r = req_get(h);
		if (!r)
			break;
		if (!pxd_retry_breaker_allow(&h->breaker, (uint64_t)now)) {
			req_put(r);
			break;
		}
		req_take(ds, i, r, now);
		if (http_send(ds, i, r, now)) {
			req_unsend(ds, i, r, now, RESUBMIT_MS);
			req_put(r);
			break;
		}
		sent = true;
	}
	if (sent)
		http_gauges(ds, i);
	return sent;
}

/*
 * Offers a parsed event to HTTP destination <i>: consent first, then the
 * platform's own rules, then the batch. <ev> is borrowed.
 */
static void route_http(struct pxd_dispatcher *ds, unsigned i, struct pxd_evrec *rec, json_t *ev,
		       int64_t now)
{
	struct pxd_dest *dest = &ds->dests[i];
	struct pxd_dest_http *h = &ds->hd[i];
	enum pxd_consent_verdict v = pxd_consent_check(ev, dest->adapter->flags);
	char why[192];

	if (v != PXD_CONSENT_VERDICT_ALLOWED) {
		pxd_stat_add(&h->st.consent_skipped[v], 1);
		return;
	}
	if (dest->adapter->validate &&
	    dest->adapter->validate(dest, ev, why, sizeof(why)) == PXD_DELIVERY_PERMANENT &&
	    dead_letter(ds, i, rec, why, NULL, 0) == 0)
		return;
	rec->_refs++;
	batch_push(
	    &ds->batchers[i], rec,
	    (struct pxd_batch_item){ .line = rec->line, .len = rec->len, .ev = json_incref(ev) }, 0,
	    0, now);
	__atomic_store_n(&ds->m[i].pending, (uint64_t)(ds->batchers[i].n + h->held),
			 __ATOMIC_RELAXED);
}

/* Journal lines are checked JSON, so only memory can fail json_loadb(); the
 * event cannot be dead-lettered (that needs the same memory) and is counted
 * as failed. */
static void unparsable(struct pxd_dispatcher *ds, unsigned i)
{
	static __thread struct pxd_log_ratelimit rl;
	uint64_t suppressed = 0;

	pxd_stat_add(&ds->m[i].events_failed, 1);
	if (pxd_log_ratelimit_ok(&rl, 5000, &suppressed))
		pxd_log_err("dispatch",
			    "destination %s: cannot parse an event (out of memory?); it is "
			    "not sent (similar lines suppressed=%lu)",
			    ds->dests[i].conf->name, suppressed);
}

static json_t *parse_event(const struct pxd_evrec *rec)
{
	return json_loadb(rec->line, rec->len, 0, NULL);
}

/* Moves replayed dead letters into their destinations' batches while there is room. */
static size_t drain_replays(struct pxd_dispatcher *ds, int64_t now)
{
	size_t n = 0;

	if (!__atomic_load_n(&ds->replay_n, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&ds->replay_lock);
	while (ds->replay_head) {
		struct pxd_dispatch_replay *q = ds->replay_head;
		const struct pxd_batcher *b = &ds->batchers[q->dest];
		json_t *ev;

		if (b->n + ds->hd[q->dest].held >= b->cap)
			break;
		ds->replay_head = q->next;
		if (!ds->replay_head)
			ds->replay_tail = NULL;
		__atomic_store_n(&ds->replay_n, ds->replay_n - 1, __ATOMIC_RELEASE);
		q->rec->_refs = 1;
		q->rec->stream = PXD_DISPATCH_NO_STREAM;
		ev = parse_event(q->rec);
		if (ev) {
			route_http(ds, q->dest, q->rec, ev, now);
			json_decref(ev);
			pxd_stat_add(&ds->hd[q->dest].st.replayed, 1);
		} else {
			unparsable(ds, q->dest);
		}
		rec_unref(q->rec);
		free(q);
		n++;
	}
	pthread_mutex_unlock(&ds->replay_lock);
	return n;
}

int pxd_dispatcher_replay(struct pxd_daemon *d, unsigned dest, const char *event, size_t len)
{
	struct pxd_dispatcher *ds;
	struct pxd_dispatch_replay *q;
	uint64_t hash = 1469598103934665603ull;
	int rc = 0;

	if (!d->ndisp || dest >= d->conf->ndests)
		return -ENOENT;
	for (size_t k = 0; k < len; k++)
		hash = (hash ^ (unsigned char)event[k]) * 1099511628211ull;
	ds = &d->disp[hash % d->ndisp];
	if (!ds->hd || !is_http(&ds->dests[dest]) || !ds->replay_lock_init)
		return -ENOENT;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->dest = dest;
	q->rec = pxd_evrec_new(event, len, pxd_now_ms());
	if (!q->rec) {
		free(q);
		return -ENOMEM;
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
	rc = http_init(ds, err, errlen);
	if (rc)
		return rc;
	return streams_init(ds, err, errlen);
}

void pxd_dispatcher_fini(struct pxd_dispatcher *ds)
{
	if (!ds->dests)
		return;
	http_fini(ds);
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
 * flush_http()). Events whose outcome is OK or PERMANENT leave the batch;
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
		if (is_http(&ds->dests[i])) {
			/* Parsed once, shared by every HTTP batch (jansson refcounts). */
			if (!ev)
				ev = parse_event(rec);
			if (ev)
				route_http(ds, i, rec, ev, now);
			else
				unparsable(ds, i);
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
	rec_unref(rec);
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

/* Dead letters must be durable before a watermark passes their events. */
static int dlq_sync(struct pxd_dispatcher *ds)
{
	static __thread struct pxd_log_ratelimit rl;
	uint64_t suppressed = 0;
	int rc;

	if (!ds->dlq)
		return 0;
	rc = pxd_dlq_sync(ds->dlq);
	if (rc && pxd_log_ratelimit_ok(&rl, 5000, &suppressed))
		pxd_log_err("dispatch",
			    "syncing dead letters in %s/dlq: %s; watermarks held back "
			    "(similar lines suppressed=%lu)",
			    ds->d->conf->data_dir, strerror(-rc), suppressed);
	return rc;
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
			popped += drain_replays(ds, now);
		for (unsigned i = 0; i < ndests; i++) {
			if (ds->hd && is_http(&ds->dests[i])) {
				flushed |= flush_http(ds, i, now, stop != 0);
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
			if (dlq_sync(ds) == 0)
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
	if (dlq_sync(ds) == 0)
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
