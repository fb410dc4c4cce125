// SPDX-License-Identifier: MIT
/*
 * HTTP delivery of one shard: pxd_delivery_http, one of the two
 * implementations of delivery_ops.h (dispatch_http.h for the rest). Shard
 * thread, init/fini on the thread that sets the shard up. Over 600 lines because a
 * request's life is one state machine: taken from the batch, built, sent,
 * classified, settled (delivered, retried, dead-lettered) or bisected, and
 * every step shares the request slots and the put-back into the batch;
 * split apart, each piece would need the others' internals.
 */
#include "dispatch_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "daemon/delivery/batcher.h"
#include "daemon/delivery/delivery_ops.h"
#include "delivery_log.h"
#include "dlq.h"
#include "event_line.h"
#include "http_out.h"
#include "log.h"
#include "payload.h"
#include "platform_quota.h"
#include "daemon/delivery/redact.h"

/* An HTTP request that could not be built or submitted goes again this much later. */
#define RESUBMIT_MS 50
/* A dead letter that could not be written is retried this much later. */
#define DLQ_RETRY_MS 60000
/* A refused batch that cannot be bisected now (another one is) is sent again. */
#define BISECT_BUSY_RETRY_MS 1000

static uint32_t pxd_dispatch_http_max_in_flight(const struct pxd_dest *dest)
{
	struct pxd_http_out_conf c;
	char err[8];

	if (pxd_http_out_conf_parse(dest->conf, "", &c, err, sizeof(err)))
		return PXD_HTTP_OUT_MAX_IN_FLIGHT;
	return c.max_in_flight;
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

/* A destination's rate limit is for all of it: each of the <nshards>
 * shards, with its own transport, gets its share (the same count over a
 * period <nshards> times as long), and its share of the burst. */
static void share_rate(struct pxd_http_out_conf *c, unsigned nshards)
{
	if (!c->rate_count || nshards < 2)
		return;
	c->rate_period_ms = (uint32_t)PXD_MIN((uint64_t)c->rate_period_ms * nshards, UINT32_MAX);
	c->rate_burst = PXD_MAX(c->rate_burst / nshards, 1u);
}

/* The transport, dead letters and delivery log exist only when some
 * destination is sent over HTTP. */
static int pxd_dispatch_http_init(struct pxd_dispatcher *ds, char *err, size_t errlen)
{
	const struct pxd_conf *conf = ds->d->conf;
	unsigned ndests = conf->ndests;
	bool any = false;
	char dir[4096];
	char name[64];
	int rc;

	for (unsigned i = 0; i < ndests; i++)
		any |= pxd_dispatch_is_http(&ds->dests[i]);
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

		if (!pxd_dispatch_is_http(dest))
			continue;
		rc = pxd_http_out_conf_parse(dest->conf, conf->path, &hc, err, errlen);
		if (rc)
			return rc;
		share_rate(&hc, ds->d->ndisp);
		h->throttle_ms = hc.throttle_ms;
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
		pxd_dispatch_rec_unref(r->recs[k]);
	}
}

/* In-flight requests are aborted without callbacks: their events were never
 * settled, so their watermarks held them and they are sent after the restart. */
static void pxd_dispatch_http_fini(struct pxd_dispatcher *ds)
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
	/* Their events were freed with the batches; the ids stay pending in
	 * the files and are sent after the restart. */
	while ((q = ds->outstanding)) {
		ds->outstanding = q->next;
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
	pxd_dest_error_note(&ds->hd[i].last_error, pxd_now_ms(), reason);
	pxd_log_info("dispatch", "destination %s: dead letter %s (%u attempts): %s", name, id,
		     attempts, reason);
	return 0;
}

/* The event's ts (Unix ms, -1 when it has none), from its line: items of
 * PXD_ADAPTER_READS_LINE destinations carry no tree. */
static int64_t line_ts(const struct pxd_batch_item *it)
{
	struct pxd_event_line el;

	if (it->ev)
		return pxd_payload_ts_ms(it->ev);
	return pxd_event_line_read(&el, it->line, it->len) ? -1 : pxd_event_line_ts(&el);
}

/*
 * Gives each event of request <r> its outcome: delivered, dead-lettered, or
 * back into the batch for a retry (an event from a JetStream consumer goes
 * back to JetStream instead, redelivered after the retry delay). The events
 * leave <r>.
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
		bool retry_later = false;
		uint64_t delay = 0;
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
			int64_t ts = line_ts(&r->items[k]);
			uint64_t age = wall > ts ? (uint64_t)(wall - ts) : 0;
			/* From a JetStream consumer: its earlier deliveries count. */
			const struct pxd_dispatch_settle *js = r->recs[k]->_settled;
			uint32_t tries = att + (js ? js->prior_attempts : 0);

			if ((js && js->last_delivery) ||
			    pxd_retry_next(&ds->policy, tries ? tries - 1 : 0, o->retry_after_ms,
					   age, splitmix64(&ds->rnd_state),
					   &delay) == PXD_RETRY_GIVE_UP) {
				snprintf(why, sizeof(why), "retry: gave up after %u attempts%s: %s",
					 tries,
					 js && js->last_delivery ? " (nats.max_deliver)" : "",
					 o->reason);
				if (dead_letter(ds, i, r->recs[k], why, resp, tries))
					not_before = now + DLQ_RETRY_MS;
			} else {
				if (!unsent)
					pxd_stat_add(&m->events_retried, 1);
				/* JetStream redelivers it after the delay, to whichever
				 * process fetches first; the shard keeps nothing of it.
				 * A replayed dead letter stays here like a journaled one. */
				if (js && !js->shard_retries)
					retry_later = true;
				else
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
			if (retry_later)
				pxd_dispatch_rec_retry_later(r->recs[k], delay);
			else
				pxd_dispatch_rec_settle(r->recs[k]);
			pxd_dispatch_rec_unref(r->recs[k]);
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
			pxd_retry_breaker_failure(&h->breaker, (uint64_t)now, 0);
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

/* The longest Retry-After among a failed request's outcomes (0: none). */
static uint32_t retry_after(const struct pxd_outcome *out, size_t n)
{
	uint32_t ms = 0;

	for (size_t k = 0; k < n; k++)
		ms = PXD_MAX(ms, out[k].retry_after_ms);
	return ms;
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
	bool failed, was_open;

	/* Field by field, not a compound literal: a zeroed reason per event
	 * was 200 bytes written a thousand times a batch. */
	for (size_t k = 0; k < r->n; k++) {
		r->out[k].delivery = PXD_DELIVERY_RETRY;
		r->out[k].retry_after_ms = 0;
		r->out[k].throttled = false;
		r->out[k].reason[0] = '\0';
	}
	dest->adapter->classify(dest, &b, resp, r->out);
	if (pxd_platform_quota_throttle(resp, r->out, r->n, h->throttle_ms))
		pxd_stat_add(&h->st.throttled, 1);
	/* Reasons quote the response: they reach dead letters, the delivery
	 * log and logs, which read them for failed events only. */
	for (size_t k = 0; k < r->n; k++)
		if (r->out[k].delivery != PXD_DELIVERY_OK)
			pxd_redact(r->out[k].reason);
	pxd_delivery_log_tally(&lr, r->out, r->n);
	if (pxd_delivery_log_write(ds->dlog, &lr))
		pxd_stat_add(&h->st.dlog_errors, 1);
	if (lr.error)
		pxd_dest_error_note(&h->last_error, lr.time_ms, lr.error);
	while (bucket < ARRAY_SIZE(bounds) && meta->latency_ms > bounds[bucket])
		bucket++;
	pxd_stat_add(&h->st.latency_bucket[bucket], 1);
	pxd_stat_add(&h->st.latency_sum_ms, meta->latency_ms);

	failed = pxd_retry_request_failed(r->out, r->n);
	if (failed) {
		uint32_t ra = retry_after(r->out, r->n);

		pxd_stat_add(&h->st.requests_failed, 1);
		was_open = pxd_retry_breaker_state(&h->breaker) == PXD_RETRY_BREAKER_OPEN;
		pxd_retry_breaker_failure(&h->breaker, (uint64_t)now, ra);
		if (!was_open && pxd_retry_breaker_state(&h->breaker) == PXD_RETRY_BREAKER_OPEN)
			pxd_stat_add(&h->st.breaker_opened, 1);
		/* The platform's Retry-After (or throttle code) holds the whole
		 * destination, so newer events do not meet the next 429. */
		if (ra)
			h->hold_until_ms = PXD_MAX(h->hold_until_ms, now + (int64_t)ra);
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
static bool pxd_dispatch_http_flush(struct pxd_dispatcher *ds, unsigned i, int64_t now,
				    bool draining)
{
	struct pxd_dest_http *h = &ds->hd[i];
	struct pxd_batcher *b = &ds->batchers[i];
	bool sent = false;

	if (now < h->hold_until_ms)
		return false;
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

/* Whether <dest>'s adapter refuses the event (<ev> or <el>, route_http()),
 * with <why>. */
static bool platform_refuses(struct pxd_dest *dest, const json_t *ev,
			     const struct pxd_event_line *el, char *why, size_t whylen)
{
	const struct pxd_adapter *a = dest->adapter;

	if (el)
		return a->validate_line &&
		       a->validate_line(dest, el, why, whylen) == PXD_DELIVERY_PERMANENT;
	return a->validate && a->validate(dest, ev, why, whylen) == PXD_DELIVERY_PERMANENT;
}

/*
 * Offers an event to HTTP destination <i>: consent first, then the
 * platform's own rules, then the batch. <ev> (borrowed) is the parsed event
 * for destinations that take a tree, <el> the read line for the others
 * (PXD_ADAPTER_READS_LINE); the item carries <ev>, NULL for the latter.
 */
static void route_http(struct pxd_dispatcher *ds, unsigned i, struct pxd_evrec *rec, json_t *ev,
		       const struct pxd_event_line *el, int64_t now)
{
	struct pxd_dest *dest = &ds->dests[i];
	struct pxd_dest_http *h = &ds->hd[i];
	const struct pxd_adapter *a = dest->adapter;
	enum pxd_consent_verdict v =
	    el ? pxd_consent_check_line(el, a->flags) : pxd_consent_check(ev, a->flags);
	char why[192];

	if (v != PXD_CONSENT_VERDICT_ALLOWED) {
		pxd_stat_add(&h->st.consent_skipped[v], 1);
		pxd_dispatch_rec_settle(rec);
		return;
	}
	if (el ? !pxd_dest_takes_line(dest, el) : !pxd_dest_takes(dest, ev)) {
		pxd_stat_add(&ds->m[i].events_filtered, 1);
		return;
	}
	if (platform_refuses(dest, ev, el, why, sizeof(why)) &&
	    dead_letter(ds, i, rec, why, NULL, 0) == 0) {
		pxd_dispatch_rec_settle(rec);
		return;
	}
	rec->_refs++;
	batch_push(&ds->batchers[i], rec,
		   (struct pxd_batch_item){
		       .line = rec->line, .len = rec->len, .ev = json_incref(ev), .el = el },
		   0, 0, now);
	__atomic_store_n(&ds->m[i].pending, (uint64_t)(ds->batchers[i].n + h->held),
			 __ATOMIC_RELAXED);
}

/* Journal lines are checked JSON, so only memory can fail json_loadb(), and
 * only damage the line reader; the event cannot be dead-lettered (that needs
 * the same memory) and is counted as failed. */
static void unparsable(struct pxd_dispatcher *ds, unsigned i)
{
	static __thread struct pxd_log_ratelimit rl;
	uint64_t suppressed = 0;

	pxd_stat_add(&ds->m[i].events_failed, 1);
	if (pxd_log_ratelimit_ok(&rl, 5000, &suppressed))
		pxd_log_err("dispatch",
			    "destination %s: cannot parse an event (out of memory, or a "
			    "damaged journal line?); it is not sent (similar lines "
			    "suppressed=%lu)",
			    ds->dests[i].conf->name, suppressed);
}

/*
 * Offers <rec> to HTTP destination <i>: consent, the platform's rules, then
 * the batch. <*ev> is the parsed event shared by every HTTP destination:
 * parsed here when NULL, and left for the caller to json_decref(). A
 * PXD_ADAPTER_READS_LINE destination reads the line once into rec->_el, shared
 * by the others and the batch build, and leaves <*ev>
 * alone. Returns 0, -ENOSPC when the batch has no room (not taken), or
 * -ENOMEM or -EINVAL when the event could not be parsed or read (it is then
 * counted as failed and not sent).
 */
static int pxd_dispatch_http_route(struct pxd_dispatcher *ds, unsigned i, struct pxd_evrec *rec,
				   json_t **ev, int64_t now)
{
	if (!pxd_batcher_has_room(&ds->batchers[i], ds->hd[i].held))
		return -ENOSPC;
	if (ds->dests[i].adapter->flags & PXD_ADAPTER_READS_LINE) {
		/* Read once for every destination, and kept for building. */
		if (!rec->_el_state)
			rec->_el_state =
			    pxd_event_line_read(&rec->_el, rec->line, rec->len) ? 2 : 1;
		if (rec->_el_state != 1) {
			unparsable(ds, i);
			return -EINVAL;
		}
		route_http(ds, i, rec, NULL, &rec->_el, now);
		return 0;
	}
	if (!*ev)
		*ev = json_loadb(rec->line, rec->len, 0, NULL);
	if (!*ev) {
		unparsable(ds, i);
		return -ENOMEM;
	}
	route_http(ds, i, rec, *ev, NULL, now);
	return 0;
}

static int http_drive(struct pxd_dispatcher *ds, int max_wait_ms)
{
	return ds->http ? pxd_http_out_drive(ds->http, max_wait_ms) : 0;
}

/* The delivery log is written on a timer, and all of it at the end. */
static void http_tick(struct pxd_dispatcher *ds, int64_t now, bool stopping)
{
	if (!ds->dlog)
		return;
	if (stopping)
		pxd_delivery_log_flush(ds->dlog);
	else
		pxd_delivery_log_tick(ds->dlog, now);
}

static size_t http_held(const struct pxd_dispatcher *ds, unsigned i)
{
	return ds->hd[i].held;
}

/* A bisection outlives the events it holds: its plan ends on the next step. */
static bool http_busy(const struct pxd_dispatcher *ds, unsigned i)
{
	return ds->hd[i].held || ds->hd[i].bisecting;
}

const struct pxd_delivery_ops pxd_delivery_http = {
	.init = pxd_dispatch_http_init,
	.fini = pxd_dispatch_http_fini,
	.drive = http_drive,
	.tick = http_tick,
	.max_in_flight = pxd_dispatch_http_max_in_flight,
	.held = http_held,
	.busy = http_busy,
	.route = pxd_dispatch_http_route,
	.flush = pxd_dispatch_http_flush,
};

int pxd_dispatch_http_sync_dlq(struct pxd_dispatcher *ds)
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
