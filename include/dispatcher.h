/* SPDX-License-Identifier: MIT */
/*
 * dispatcher.h - one dispatcher shard: a thread that drains its rings from
 * every ingest thread, filters and batches events per destination (count,
 * bytes, linger) and writes them locally or sends them over its own libcurl
 * multi handle (retries, breaker, bisection, dead letters, delivery log,
 * consent: dispatch_http.h). Owns its struct pxd_dest instances; nothing
 * else touches them, except pxd_dispatcher_replay(), which any thread may
 * call.
 */
#ifndef PXD_DISPATCHER_H
#define PXD_DISPATCHER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "adapter.h"
#include "bisect.h"
#include "consent.h"
#include "daemon.h"
#include "dispatch_metrics.h" /* the renderer of the stats below */
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
	uint64_t cursor; /* right after the last record routed */
	uint64_t *wm;	 /* [ndests]; published (atomics) */
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
};

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
};

/* A replayed dead letter on its way to one destination. */
struct pxd_dispatch_replay {
	struct pxd_dispatch_replay *next;
	unsigned dest;
	struct pxd_evrec *rec;
};

struct pxd_dispatcher {
	unsigned id;
	struct pxd_dstream *streams; /* one per ingest thread */
	unsigned nstreams;
	uint64_t *wm_all; /* nstreams x ndests watermarks; published (atomics) */
	int64_t last_wm_save_ms;
	uint64_t replayed; /* counter: records read back from the journal */
	struct pxd_daemon *d;
	struct pxd_dest *dests; /* d->conf->ndests */
	struct pxd_batcher *batchers;
	struct pxd_metrics_dest *m; /* [dest] row of this shard */
	pthread_t thread;
	unsigned reopen_seen;
	int64_t last_sync_ms;

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
};

/* Whether <dest> is sent over HTTP (dispatch_http.c) rather than written locally. */
static inline bool pxd_dispatch_is_http(const struct pxd_dest *dest)
{
	return dest->adapter->build != NULL;
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
 * its event_id and ts) for destination <dest> only, on the shard chosen by a
 * hash of the line. The queue is in memory, not journaled: an event accepted
 * here just before a crash is not sent (its dead letter stays, marked
 * replayed). Returns 0, -ENOENT (no such destination, or no shard), -ENOSPC
 * (PXD_DISPATCH_REPLAY_MAX queued) or -ENOMEM. Defined in dispatch_http.c.
 */
int pxd_dispatcher_replay(struct pxd_daemon *d, unsigned dest, const char *event, size_t len);

/* Returns the canonical event name inside a serialized event line. */
struct pxd_sv pxd_dispatcher_event_name(const char *line, size_t len);

#endif
