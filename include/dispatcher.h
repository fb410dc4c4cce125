/* SPDX-License-Identifier: MIT */
/*
 * dispatcher.h - one dispatcher shard: a thread that drains its rings from
 * every ingest thread, filters and batches events per destination (count,
 * bytes, linger) and hands the batches to the destination's adapter. Owns
 * its struct pxd_dest instances; nothing else touches them.
 */
#ifndef PXD_DISPATCHER_H
#define PXD_DISPATCHER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "daemon.h"
#include "handoff.h"
#include "journal.h"

/* Events of one destination waiting to be written or sent. */
struct pxd_batcher {
	struct pxd_evrec **recs;
	struct pxd_batch_item *items;
	struct pxd_outcome *outcomes;
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
};

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

/* Returns the canonical event name inside a serialized event line. */
struct pxd_sv pxd_dispatcher_event_name(const char *line, size_t len);

#endif
