// SPDX-License-Identifier: MIT
/*
 * The dispatch role's JetStream consumers. Each destination has a durable
 * pull consumer pixeld-<destination> (explicit acks, AckWait and MaxDeliver
 * from [nats]); several dispatch processes bind the same durable and share
 * its messages. A fetched message becomes an event queued to one shard for
 * that destination only, carrying a flag the shard sets once the outcome is
 * known (delivered or dead-lettered). This thread alone talks to NATS: it
 * acks settled messages, extends AckWait (+WPI) for those a shard still
 * holds (in its batch, in flight), hands back (nak) what cannot be taken,
 * and answers a retryable failure with a nak with delay (-NAK {"delay"}):
 * the retry schedule's backoff, at least the platform's Retry-After. The
 * redelivery then goes to whichever dispatch process fetches first, so no
 * shard holds a destination's retries; the earlier deliveries count as
 * attempts (JetStream's NumDelivered), so the schedule and its give-up to
 * the dead letters are those of one host.
 */
#include "nats_consume.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler.h"
#include "dispatcher.h"
#include "log.h"
#include "nats_link.h"

/* Fetched and not settled, per destination and process: a few full
 * batches in flight, bounded memory whatever the stream holds. */
#define MAX_OUTSTANDING 4096
#define FETCH_BATCH 512
/* A NoWait fetch ends when the server has sent what it has; this bounds
 * one whose end does not come (the fetch then waits this long). */
#define FETCH_EXPIRES_MS 100
#define RESUBSCRIBE_MS 1000
/* Nothing to fetch: the next look, a bound on the latency an idle
 * consumer adds. */
#define IDLE_NAP_MS 10

struct slot {
	struct slot *next;
	natsMsg *msg;
	struct pxd_dispatch_settle settle; /* <state> set by a shard */
	int64_t touched_ms;
};

struct consumer {
	char durable[PXD_CONF_NAME_MAX + 8];
	natsSubscription *sub;
	struct slot *head;
	struct slot **tail;
	int64_t last_subscribe_ms;
	struct pxd_nats_consume_stats st;
};

struct pxd_nats_consume {
	struct pxd_daemon *d;
	struct pxd_nats_link link;
	struct consumer *cons; /* [ndests] */
	unsigned n;
	pthread_t thread;
	bool started;
	int quiesce; /* atomics, from the main thread */
	int stop;
	bool stream_ok;
};

static void nap(int64_t ms)
{
	struct timespec ts = { 0, ms * 1000000 };

	nanosleep(&ts, NULL);
}

static void stat_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* Creates or binds the durable of destination <i>; quiet retries while NATS is away. */
static void subscribe(struct pxd_nats_consume *c, unsigned i)
{
	const struct pxd_conf_nats *nc = &c->d->conf->nats;
	struct consumer *k = &c->cons[i];
	char filter[PXD_CONF_NATS_TOKEN_MAX + 3];
	char why[512];
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;

	if (!c->stream_ok) {
		if (pxd_nats_link_stream(&c->link, nc, nc->subject, why, sizeof(why))) {
			pxd_log_warn("nats", "%s; retrying", why);
			return;
		}
		c->stream_ok = true;
	}
	snprintf(filter, sizeof(filter), "%s.>", nc->subject);
	jsSubOptions_Init(&so);
	so.Stream = nc->stream;
	so.Config.Durable = k->durable;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.DeliverPolicy = js_DeliverAll;
	so.Config.AckWait = (int64_t)nc->ack_wait_ms * 1000000;
	so.Config.MaxDeliver = nc->max_deliver;
	/* Shared by every dispatch process; each keeps to MAX_OUTSTANDING. */
	so.Config.MaxAckPending = 16 * MAX_OUTSTANDING;
	so.Config.FilterSubject = filter;
	s = js_PullSubscribe(&k->sub, c->link.js, filter, k->durable, NULL, &so, &jerr);
	if (s != NATS_OK) {
		natsStatus last;
		const char *text = nats_GetLastError(&last);

		k->sub = NULL;
		pxd_log_warn("nats", "consumer %s on stream %s: %s; retrying in %d s", k->durable,
			     nc->stream, text && *text ? text : natsStatus_GetText(s),
			     RESUBSCRIBE_MS / 1000);
		return;
	}
	pxd_log_info("nats", "consumer %s on stream %s bound", k->durable, nc->stream);
}

/* Acks what the shards settled, naks what they handed back (with the delay
 * they asked for after a retryable failure), extends the rest when half its
 * AckWait has passed. With <final>, naks the rest too, without delay: another
 * process may take them at once. */
static void sweep(struct pxd_nats_consume *c, struct consumer *k, int64_t now, bool final)
{
	int64_t extend_after = c->d->conf->nats.ack_wait_ms / 2;
	struct slot **pp = &k->head;
	struct slot *s;

	while ((s = *pp)) {
		int st = __atomic_load_n(&s->settle.state, __ATOMIC_ACQUIRE);

		if (st == PXD_DISPATCH_SETTLED_NOT_YET && !final) {
			if (now - s->touched_ms >= extend_after) {
				natsMsg_InProgress(s->msg, NULL);
				s->touched_ms = now;
				stat_add(&k->st.in_progress, 1);
			}
			pp = &s->next;
			continue;
		}
		if (st == PXD_DISPATCH_SETTLED_DONE) {
			natsMsg_Ack(s->msg, NULL);
			stat_add(&k->st.acked, 1);
		} else if (st == PXD_DISPATCH_SETTLED_RETRY && !final) {
			natsMsg_NakWithDelay(s->msg, (int64_t)s->settle.delay_ms, NULL);
			stat_add(&k->st.nak_delayed, 1);
		} else {
			natsMsg_Nak(s->msg, NULL);
			stat_add(&k->st.handed_back, 1);
		}
		*pp = s->next;
		natsMsg_Destroy(s->msg);
		free(s);
		stat_add(&k->st.outstanding, (uint64_t)-1);
	}
	k->tail = pp;
}

/* Hands message <m> of destination <i> to a shard. */
static void take(struct pxd_nats_consume *c, unsigned i, natsMsg *m, int64_t now)
{
	struct consumer *k = &c->cons[i];
	struct slot *s = calloc(1, sizeof(*s));
	int64_t max_deliver = c->d->conf->nats.max_deliver;
	jsMsgMetaData *meta = NULL;

	if (!s) {
		natsMsg_Nak(m, NULL);
		natsMsg_Destroy(m);
		stat_add(&k->st.handed_back, 1);
		return;
	}
	s->msg = m;
	s->touched_ms = now;
	if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
		if (meta->NumDelivered > 1)
			stat_add(&k->st.redelivered, 1);
		s->settle.prior_attempts = meta->NumDelivered > 1
					       ? (uint32_t)PXD_MIN(meta->NumDelivered - 1, 1u << 30)
					       : 0;
		s->settle.last_delivery =
		    max_deliver > 0 && meta->NumDelivered >= (uint64_t)max_deliver;
		jsMsgMetaData_Destroy(meta);
	}
	if (pxd_dispatcher_take(c->d, i, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
				pxd_now_ms(), &s->settle))
		s->settle.state =
		    PXD_DISPATCH_SETTLED_HAND_BACK; /* queue full: back in the stream */
	*k->tail = s;
	k->tail = &s->next;
	stat_add(&k->st.fetched, 1);
	stat_add(&k->st.outstanding, 1);
}

/*
 * Fetches what destination <i> has room for. Returns the messages taken.
 * NoWait: the server answers at once with what it has and ends the request,
 * so no message of an expired request arrives during a later fetch (with
 * such stragglers pending, libnats 3.4.1's fetch returned more messages
 * than the batch it was asked for, past the end of its list).
 */
static size_t fetch(struct pxd_nats_consume *c, unsigned i, int64_t now)
{
	struct consumer *k = &c->cons[i];
	uint64_t room = MAX_OUTSTANDING - PXD_MIN(k->st.outstanding, (uint64_t)MAX_OUTSTANDING);
	natsMsgList list = { 0 };
	jsFetchRequest req;
	int want;
	int n;

	if (!k->sub || room < FETCH_BATCH / 4)
		return 0;
	jsFetchRequest_Init(&req);
	want = (int)PXD_MIN(room, (uint64_t)FETCH_BATCH);
	req.Batch = want; /* the library lowers it as messages come */
	req.NoWait = true;
	req.Expires = (int64_t)FETCH_EXPIRES_MS * 1000000;
	if (natsSubscription_FetchRequest(&list, k->sub, &req) != NATS_OK)
		return 0;
	n = PXD_MIN(list.Count, want);
	for (int m = 0; m < n; m++) {
		take(c, i, list.Msgs[m], now);
		list.Msgs[m] = NULL; /* the slot owns it now */
	}
	list.Count = n;
	natsMsgList_Destroy(&list);
	return (size_t)n;
}

static void *run(void *arg)
{
	struct pxd_nats_consume *c = arg;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		bool quiesced = __atomic_load_n(&c->quiesce, __ATOMIC_ACQUIRE);
		int64_t now = pxd_mono_ms();
		size_t got = 0;

		for (unsigned i = 0; i < c->n; i++) {
			if (!quiesced && !c->cons[i].sub && pxd_nats_link_up(&c->link) &&
			    now - c->cons[i].last_subscribe_ms >= RESUBSCRIBE_MS) {
				c->cons[i].last_subscribe_ms = now;
				subscribe(c, i);
			}
			if (!quiesced)
				got += fetch(c, i, now);
			sweep(c, &c->cons[i], pxd_mono_ms(), false);
		}
		if (!got)
			nap(IDLE_NAP_MS);
	}
	return NULL;
}

int pxd_nats_consume_start(struct pxd_daemon *d, struct pxd_nats_consume **out, char *err,
			   size_t errlen)
{
	const struct pxd_conf *conf = d->conf;
	struct pxd_nats_consume *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->d = d;
	c->n = (unsigned)conf->ndests;
	c->cons = calloc(c->n ? c->n : 1, sizeof(*c->cons));
	if (!c->cons) {
		free(c);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < c->n; i++) {
		snprintf(c->cons[i].durable, sizeof(c->cons[i].durable), "pixeld-%s",
			 conf->dests[i].name);
		c->cons[i].tail = &c->cons[i].head;
	}
	rc = pxd_nats_link_open(&c->link, &conf->nats, "pixeld-dispatch", true, NULL, err, errlen);
	if (rc)
		goto fail;
	rc = -pthread_create(&c->thread, NULL, run, c);
	if (rc) {
		snprintf(err, errlen, "cannot start the NATS consumer thread: %s", strerror(-rc));
		goto fail;
	}
	c->started = true;
	/* The admin endpoint reads it from an ingest thread. */
	__atomic_store_n(out, c, __ATOMIC_RELEASE);
	return 0;
fail:
	pxd_nats_link_close(&c->link);
	free(c->cons);
	free(c);
	return rc;
}

void pxd_nats_consume_quiesce(struct pxd_nats_consume *c)
{
	if (c)
		__atomic_store_n(&c->quiesce, 1, __ATOMIC_RELEASE);
}

void pxd_nats_consume_stop(struct pxd_nats_consume *c)
{
	if (!c)
		return;
	__atomic_store_n(&c->quiesce, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	if (c->started)
		pthread_join(c->thread, NULL);
	for (unsigned i = 0; i < c->n; i++) {
		sweep(c, &c->cons[i], pxd_mono_ms(), true);
		natsSubscription_Destroy(c->cons[i].sub);
	}
	/* Flush the acks and naks before the connection goes. */
	if (c->link.nc)
		natsConnection_FlushTimeout(c->link.nc, 2000);
	pxd_nats_link_close(&c->link);
	free(c->cons);
	free(c);
}

static const struct {
	const char *name;
	const char *type;
	const char *help;
	size_t off;
} fields[] = {
	{ "pixeld_nats_consumer_fetched_total", "counter", "Messages fetched from JetStream.",
	  offsetof(struct pxd_nats_consume_stats, fetched) },
	{ "pixeld_nats_consumer_acked_total", "counter",
	  "Messages acked: delivered or dead-lettered.",
	  offsetof(struct pxd_nats_consume_stats, acked) },
	{ "pixeld_nats_consumer_handed_back_total", "counter",
	  "Messages handed back (nak): queue full, unsendable, or at shutdown.",
	  offsetof(struct pxd_nats_consume_stats, handed_back) },
	{ "pixeld_nats_consumer_redelivered_total", "counter",
	  "Messages fetched that JetStream had delivered before.",
	  offsetof(struct pxd_nats_consume_stats, redelivered) },
	{ "pixeld_nats_consumer_nak_delayed_total", "counter",
	  "Messages handed back with a delay after a retryable failure: redelivered after it.",
	  offsetof(struct pxd_nats_consume_stats, nak_delayed) },
	{ "pixeld_nats_consumer_in_progress_total", "counter",
	  "AckWait extensions for messages a shard still holds (batched or in flight).",
	  offsetof(struct pxd_nats_consume_stats, in_progress) },
	{ "pixeld_nats_consumer_outstanding", "gauge", "Messages fetched and not yet acked.",
	  offsetof(struct pxd_nats_consume_stats, outstanding) },
};

void pxd_nats_consume_metrics(const struct pxd_daemon *d, struct pxd_buf *out)
{
	const struct pxd_nats_consume *c = __atomic_load_n(&d->nats, __ATOMIC_ACQUIRE);

	for (size_t f = 0; c && f < ARRAY_SIZE(fields); f++) {
		pxd_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", fields[f].name, fields[f].help,
			       fields[f].name, fields[f].type);
		for (unsigned i = 0; i < c->n; i++) {
			const uint64_t *v =
			    (const uint64_t *)((const char *)&c->cons[i].st + fields[f].off);

			pxd_buf_printf(out, "%s{destination=\"%s\"} %lu\n", fields[f].name,
				       d->conf->dests[i].name,
				       (unsigned long)__atomic_load_n(v, __ATOMIC_RELAXED));
		}
	}
}
