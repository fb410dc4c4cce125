/* SPDX-License-Identifier: MIT */
/*
 * dispatcher.h - one dispatcher shard: a thread that drains its rings from
 * every ingest thread, filters and batches events per destination (count,
 * bytes, linger) and writes them locally or sends them over its own libcurl
 * multi handle, through one delivery interface (daemon/delivery/
 * delivery_ops.h: local sinks, and HTTP with its retries, breaker,
 * bisection, dead letters, delivery log and consent). Owns its struct pxd_dest instances; nothing
 * else touches them, except pxd_dispatcher_replay(), which any thread may
 * call.
 */
#ifndef PXD_DISPATCHER_H
#define PXD_DISPATCHER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "adapter.h"
#include "bisect.h"
#include "consent.h"
#include "daemon.h"
#include "dlq.h"
#include "dispatch_metrics.h" /* the renderer of the stats below */
#include "dispatch_wake.h"
#include "handoff.h"
#include "journal.h"
#include "retry.h"

struct pxd_http_out;
struct pxd_dlq;
struct pxd_delivery_log;

/* Request latency histogram upper bounds in ms; a last bucket counts the rest. */
#define PXD_DISPATCH_LATENCY_BOUNDS 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
#define PXD_DISPATCH_LATENCY_BUCKETS 12

/* An event that came back through pxd_dispatcher_replay(): in no journal
 * stream, so it holds no watermark back. */
#define PXD_DISPATCH_NO_STREAM UINT32_MAX

/* Replayed dead letters waiting in one shard, at most this many. */
#define PXD_DISPATCH_REPLAY_MAX 100000u

/* Events of one destination waiting to be written or sent. */
struct pxd_batcher {
	struct pxd_evrec **recs;
	struct pxd_batch_item *items;
	struct pxd_outcome *outcomes;
	uint32_t *attempts;  /* HTTP: requests that carried each event so far */
	int64_t *not_before; /* HTTP: mono ms before which the event is not sent */
	size_t n;
	size_t cap;
	size_t bytes;
	int64_t first_mono_ms; /* when the oldest event joined the batch */
	int64_t retry_at_ms;   /* after a failed write: not before this */
	uint32_t failures;     /* consecutive failed writes */
	uint32_t max_events;
	uint32_t max_bytes;
	uint32_t linger_ms;
};

/*
 * What a shard knows of one ingest thread's stream to it: whether it takes
 * events from the ring or reads them back from the journal (after an
 * overflow, and for the replay at start), how far it has routed, and each
 * destination's watermark there (everything before it is delivered or
 * dead-lettered).
 */
struct pxd_dstream {
	unsigned ingest;
	char dir[4096];
	struct pxd_jstream *js; /* the writer's published state */
	struct pxd_journal_reader *reader;
	bool journal_mode;
	bool resume_asked;
	/* <reader> is not at <cursor>: the pass moved on without reading while
	 * every destination read at its own cursor (seek before reading). */
	bool reader_behind;
	uint64_t cursor;      /* right after the last record routed */
	uint64_t *wm;	      /* [ndests]; published (atomics) */
	struct pxd_dlag *lag; /* [ndests] */
};

/*
 * One destination's own cursor in one stream. A destination whose batch is
 * full (down, slow, throttled) stops taking records from the shard's ring or
 * journal pass and reads the stream back from the journal at <cursor>
 * instead, as fast as its batch drains; the others keep the fast path. Once
 * its cursor reaches the stream's, it takes records from the shared pass
 * again.
 */
struct pxd_dlag {
	int lagging;			   /* published (atomics): read by the metrics renderer */
	uint64_t cursor;		   /* while lagging: the next record it reads back */
	struct pxd_journal_reader *reader; /* opened at the first lag, kept */
};

/*
 * Per destination counters of HTTP delivery, summed over shards by
 * pxd_dispatch_metrics_render(). Single writer (the shard), relaxed atomics.
 */
struct pxd_dispatch_stats {
	uint64_t dead_lettered;
	uint64_t consent_skipped[PXD_CONSENT_VERDICT_COUNT];
	uint64_t requests;
	uint64_t requests_failed; /* the whole request failed: transport, 5xx, 429 */
	uint64_t latency_bucket[PXD_DISPATCH_LATENCY_BUCKETS]; /* not cumulative */
	uint64_t latency_sum_ms;
	uint64_t in_flight;	/* gauge */
	uint64_t breaker_state; /* gauge: enum pxd_retry_breaker_state */
	uint64_t bisect_isolated;
	uint64_t dlq_errors;
	uint64_t dlog_errors;
	uint64_t replayed;
	uint64_t throttled;	 /* requests the platform throttled */
	uint64_t breaker_opened; /* CLOSED or HALF_OPEN to OPEN */
};

/*
 * The last error of one destination on one shard (a failed request or a
 * dead letter), redacted, for the console. A sequence lock over relaxed
 * atomics: the shard writes on failures only, the admin thread reads and
 * retries a torn copy; zeroed memory is "none". daemon/delivery/dest_error.c.
 */
struct pxd_dest_error {
	unsigned seq; /* odd while a write is under way */
	int64_t time_ms;
	char text[256];
};

/* Records <text> (redacted here) as <e>'s last error at wall-clock <time_ms>. Its shard only. */
void pxd_dest_error_note(struct pxd_dest_error *e, int64_t time_ms, const char *text);

/* Copies <e>'s last error into <out> and its time into <time_ms>; false when none. Any thread. */
bool pxd_dest_error_read(const struct pxd_dest_error *e, int64_t *time_ms, char *out, size_t cap);

/* One request of an HTTP destination: out, or a refused batch being bisected. */
struct pxd_dispatch_req {
	unsigned dest;
	bool in_use;
	bool bisect_range; /* a range [lo, lo + n) of the destination's refused batch */
	size_t lo;
	size_t n;
	struct pxd_evrec **recs; /* NULL once settled (refused batch only) */
	struct pxd_batch_item *items;
	uint32_t *attempts;
	int64_t *not_before;
	struct pxd_outcome *out;
};

/* An HTTP destination's delivery state in one shard. */
struct pxd_dest_http {
	struct pxd_retry_breaker breaker;
	int64_t hold_until_ms; /* the platform's last Retry-After: nothing goes before */
	uint32_t throttle_ms;  /* its throttle_backoff (platform_quota.h) */
	struct pxd_bisect plan;
	bool bisecting;
	bool bisect_waiting;
	bool range_ready; /* the plan yielded [range_lo, range_hi), not sent yet */
	size_t range_lo;
	size_t range_hi;
	struct pxd_dispatch_req *refused;
	struct pxd_dispatch_req *reqs; /* max_in_flight + 2, allocated at init */
	size_t nreqs;
	size_t held; /* events taken from the batcher and not yet settled or put back */
	struct pxd_dispatch_stats st;
	struct pxd_dest_error last_error;
};

/* Values of pxd_dispatch_settle.state: unknown yet (an event dropped unsent
 * at shutdown stays so), known (ack it), not sendable now (hand it back at
 * once), a retryable failure (hand it back to be redelivered after a delay). */
enum pxd_dispatch_settled {
	PXD_DISPATCH_SETTLED_NOT_YET = 0,
	PXD_DISPATCH_SETTLED_DONE,
	PXD_DISPATCH_SETTLED_HAND_BACK,
	PXD_DISPATCH_SETTLED_RETRY,
};

/*
 * What a shard tells the JetStream consumer (role dispatch) about one message
 * it took, through pxd_evrec._settled. The consumer fills <prior_attempts> and
 * <last_delivery> before the hand-over and reads nothing else until <state>
 * leaves NOT_YET; the shard writes <delay_ms> before <state> (release store,
 * acquire load on the consumer's side). A replayed dead letter's
 * (dispatch_replay.c) has <shard_retries>: the shard retries it as it does
 * a journaled event and reports only its outcome.
 */
struct pxd_dispatch_settle {
	int state;		 /* enum pxd_dispatch_settled */
	uint32_t delay_ms;	 /* with RETRY: the redelivery waits this long */
	uint32_t prior_attempts; /* JetStream deliveries of the message before this one */
	bool last_delivery;	 /* nats.max_deliver reached: no redelivery would come */
	bool shard_retries;	 /* no RETRY: the shard keeps it until it has an outcome */
};

/* A replayed dead letter (or an event taken from a JetStream consumer) on
 * its way to one destination. A dead letter with an id stays, after its
 * event went into the batch, on the shard's outstanding list until
 * <settled> says it has an outcome (then its id goes to <dest>.settled,
 * dlq.h). */
struct pxd_dispatch_replay {
	struct pxd_dispatch_replay *next;
	unsigned dest;
	struct pxd_evrec *rec;
	bool from_dlq;
	struct pxd_dispatch_settle settled; /* a dead letter's; rec->_settled points here */
	char id[PXD_DLQ_ID_LEN + 1];	    /* "" when the caller gave none */
};

struct pxd_dispatcher {
	unsigned id;
	struct pxd_dstream *streams; /* one per ingest thread */
	unsigned nstreams;
	uint64_t *wm_all;	  /* nstreams x ndests watermarks; published (atomics) */
	struct pxd_dlag *lag_all; /* nstreams x ndests */
	bool *unsynced;		  /* [ndests]: the last sync of that local sink failed */
	int64_t last_wm_save_ms;
	bool wm_dirty;	   /* something was routed, sent or answered since that save */
	uint64_t replayed; /* counter: records read back from the journal */
	struct pxd_daemon *d;
	struct pxd_dest *dests; /* d->conf->ndests */
	struct pxd_batcher *batchers;
	struct pxd_metrics_dest *m; /* [dest] row of this shard */
	pthread_t thread;
	unsigned reopen_seen;
	struct pxd_dispatch_wake wake;	  /* its idle wait and the ingest threads' kick */
	const struct pxd_conf *conf_seen; /* the generation dests[].conf point into */
	/* dispatch_conf.c: per slot, retired as of conf_seen, and the drops applied. */
	bool retired[PXD_CONF_MAX_DESTS];
	uint32_t drops_seen[PXD_CONF_MAX_DESTS];

	/* HTTP destinations (NULL/unused when every destination is local). */
	struct pxd_http_out *http;
	struct pxd_dlq *dlq;
	struct pxd_delivery_log *dlog;
	struct pxd_dest_http *hd; /* [ndests] */
	struct pxd_retry_policy policy;
	struct pxd_request scratch; /* the one request adapters build into */
	uint64_t rnd_state;

	/* Replayed dead letters, pushed by the admin endpoint (any thread). */
	pthread_mutex_t replay_lock;
	bool replay_lock_init;
	struct pxd_dispatch_replay *replay_head;
	struct pxd_dispatch_replay *replay_tail;
	size_t replay_n; /* atomic reads outside the lock */
	/* Replayed dead letters in the batch or out, shard thread only. */
	struct pxd_dispatch_replay *outstanding;
};

/* Whether <dest> is sent over HTTP (dispatch_http.c) rather than written locally. */
static inline bool pxd_dispatch_is_http(const struct pxd_dest *dest)
{
	return dest->adapter->build != NULL;
}

static inline void pxd_dispatch_rec_set(struct pxd_evrec *rec, enum pxd_dispatch_settled state)
{
	if (rec->_settled)
		__atomic_store_n(&rec->_settled->state, (int)state, __ATOMIC_RELEASE);
}

/* The destination's outcome of <rec> is known (delivered or dead-lettered):
 * its JetStream consumer (role dispatch) acks it. Journaled events have no flag. */
static inline void pxd_dispatch_rec_settle(struct pxd_evrec *rec)
{
	pxd_dispatch_rec_set(rec, PXD_DISPATCH_SETTLED_DONE);
}

/* <rec> cannot be sent now: its consumer hands it back for a later delivery. */
static inline void pxd_dispatch_rec_hand_back(struct pxd_evrec *rec)
{
	pxd_dispatch_rec_set(rec, PXD_DISPATCH_SETTLED_HAND_BACK);
}

/* <rec> failed retryably: its consumer naks it with <delay_ms> (the retry
 * schedule's backoff, at least the platform's Retry-After). */
static inline void pxd_dispatch_rec_retry_later(struct pxd_evrec *rec, uint64_t delay_ms)
{
	if (!rec->_settled)
		return;
	rec->_settled->delay_ms = (uint32_t)(delay_ms < UINT32_MAX ? delay_ms : UINT32_MAX);
	pxd_dispatch_rec_set(rec, PXD_DISPATCH_SETTLED_RETRY);
}

/* Any thread: destination <dest>'s published watermark in the stream of
 * ingest thread <ingest> to shard <shard> (everything before it is settled). */
static inline uint64_t pxd_dispatcher_watermark(const struct pxd_daemon *d, unsigned shard,
						unsigned ingest, unsigned dest)
{
	return __atomic_load_n(&d->disp[shard].streams[ingest].wm[dest], __ATOMIC_ACQUIRE);
}

/* Destination cursor <l> reads its stream back from <pos> (it lags).
 * Returns true when it was not lagging before. */
static inline bool pxd_dlag_begin(struct pxd_dlag *l, uint64_t pos)
{
	bool was = l->lagging;

	l->cursor = pos;
	if (l->reader)
		pxd_journal_reader_seek(l->reader, pos);
	__atomic_store_n(&l->lagging, 1, __ATOMIC_RELAXED);
	return !was;
}

/* Drops one reference to <rec>; frees it with the last one. */
static inline void pxd_dispatch_rec_unref(struct pxd_evrec *rec)
{
	if (--rec->_refs == 0)
		free(rec);
}

/*
 * Creates shard <id>'s destinations from the configuration (adapter init:
 * validates their keys). Returns 0, or -EINVAL with <err> naming file:line.
 */
int pxd_dispatcher_init(struct pxd_dispatcher *ds, struct pxd_daemon *d, unsigned id, char *err,
			size_t errlen);

/* Thread entry: runs until d->stop_dispatch, then drains and flushes. */
void *pxd_dispatcher_run(void *ds);

/* Releases the destinations and batches. Accepts a zeroed struct. */
void pxd_dispatcher_fini(struct pxd_dispatcher *ds);

/* Any thread: events waiting for destination <dest> (rings, approximate). */
size_t pxd_dispatcher_backlog(const struct pxd_daemon *d, unsigned dest);

/*
 * Any thread: queues canonical event <event> (<len> bytes, unchanged: it keeps
 * its event_id and ts) of dead letter <id> for destination <dest> only, on
 * the shard chosen by a hash of the line. The queue is in memory; its
 * durable side is the dead letter's files: <id> is in <dest>.replayed
 * before this is called (pxd_dlq_replay()), and the shard records its
 * outcome in <dest>.settled, so one accepted just before a crash is queued
 * again at start (pxd_dispatch_replay_resume()). <id> NULL: no bookkeeping.
 * Returns 0, -ENOENT (no such destination, or no shard), -ENOSPC
 * (PXD_DISPATCH_REPLAY_MAX queued) or -ENOMEM. Defined in
 * daemon/delivery/dispatch_replay.c.
 */
int pxd_dispatcher_replay(struct pxd_daemon *d, unsigned dest, const char *event, size_t len,
			  const char *id);

/*
 * Any thread: queues canonical event <event> (<len> bytes) taken from
 * destination <dest>'s JetStream consumer, for that destination only, with
 * the consumer's <settled> (see struct pxd_dispatch_settle). The same queue as
 * pxd_dispatcher_replay() and the same returns; an event dropped unsent (at
 * shutdown) leaves <settled> NOT_YET, so the consumer hands it back to
 * JetStream. Destinations of either kind, HTTP or local. Defined in
 * dispatch_replay.c.
 */
int pxd_dispatcher_take(struct pxd_daemon *d, unsigned dest, const char *event, size_t len,
			int64_t received_ms, struct pxd_dispatch_settle *settled);

/* Any thread: the index of destination <name> in <conf>, or -ENOENT. */
int pxd_dispatcher_dest_index(const struct pxd_conf *conf, const char *name);

/* Returns the canonical event name inside a serialized event line. */
struct pxd_sv pxd_dispatcher_event_name(const char *line, size_t len);

/* The tenant of a canonical line, as <dest>'s tenant filter needs it: a view
 * into <line>, or PXD_SV_NULL when <dest> takes every tenant's events. */
struct pxd_sv pxd_dispatcher_event_tenant(const struct pxd_dest *dest, const char *line,
					  size_t len);

#endif
