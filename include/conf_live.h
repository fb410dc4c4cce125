/* SPDX-License-Identifier: MIT */
/*
 * conf_live.h - the configuration generation in force: what the request
 * path (ingest threads) and the dispatchers read of the reloadable keys
 * (tenants, keys, hosts, CORS, key rates, destinations' tenants and event
 * filters), swapped by the main thread on reload. Readers hold it inside a
 * Concurrency Kit epoch section (ck_epoch: two stores and a fence, no lock);
 * a replaced generation is freed once every reader has left the sections
 * that could see it. Publish and reclaim: main thread only. The keys that
 * need a restart stay in pxd_daemon.conf, the start-up generation, which is
 * never freed.
 */
#ifndef PXD_CONF_LIVE_H
#define PXD_CONF_LIVE_H

#include <ck_epoch.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

/* The outcome of the last reload, as /admin/status shows it. */
enum pxd_conf_reload_result {
	PXD_CONF_RELOAD_NONE = 0, /* no reload since start */
	PXD_CONF_RELOAD_OK,
	PXD_CONF_RELOAD_REFUSED,
	PXD_CONF_RELOAD_RESULT_COUNT, /* number of results; keep last */
};

struct pxd_conf_live {
	ck_epoch_t epoch;
	ck_epoch_record_t *records; /* [nreaders]: ingest threads, then dispatcher shards */
	unsigned nreaders;
	ck_epoch_record_t main_rec; /* the main thread's: it defers the frees */
	const struct pxd_conf *cur; /* atomic pointer (ck_pr) */
	const struct pxd_conf *first;
	uint64_t generation;				/* atomic; 1 at start */
	uint64_t reloads[PXD_CONF_RELOAD_RESULT_COUNT]; /* atomic counters */
	pthread_mutex_t last_lock;			/* the admin thread reads the text */
	enum pxd_conf_reload_result last_result;	/* under last_lock */
	int64_t last_ms;				/* under last_lock: wall clock */
	char last_error[1024];				/* under last_lock; "" when ok */
	/* Per destination slot: bumped by POST /admin/journal/drop for a
	 * retired destination; the shards then let its cursor go (atomics). */
	uint32_t drops[PXD_CONF_MAX_DESTS];
};

/*
 * Sets up <l> with <first> (the start-up configuration, which stays the
 * caller's) as generation 1 and room for <nreaders> readers. Returns 0 or
 * -ENOMEM. Main thread, before the readers start.
 */
int pxd_conf_live_init(struct pxd_conf_live *l, const struct pxd_conf *first, unsigned nreaders);

/* Frees every generation but the first. Main thread, after the readers stopped. Accepts a
 * zeroed <l>. */
void pxd_conf_live_fini(struct pxd_conf_live *l);

/*
 * Returns a zeroed configuration to load a new generation into, or NULL.
 * Free it with pxd_conf_live_discard() unless it is published. Main thread.
 */
struct pxd_conf *pxd_conf_live_alloc(void);
void pxd_conf_live_discard(struct pxd_conf *c);

/*
 * Makes <fresh> (from pxd_conf_live_alloc) the generation in force and
 * retires the one it replaces: freed by pxd_conf_live_reclaim() once no
 * reader can hold it. Returns the new generation number. Main thread.
 */
uint64_t pxd_conf_live_publish(struct pxd_conf_live *l, struct pxd_conf *fresh);

/* Frees the retired generations no reader can still hold. Main thread, on its tick. */
void pxd_conf_live_reclaim(struct pxd_conf_live *l);

/* Records the outcome of a reload attempt (<error>: "" or the refusal). Main thread. */
void pxd_conf_live_note(struct pxd_conf_live *l, enum pxd_conf_reload_result r, int64_t now_ms,
			const char *error);

/* Copies the last outcome into <r>, <ms> and <error> (<errlen> bytes). Any thread. */
void pxd_conf_live_last(struct pxd_conf_live *l, enum pxd_conf_reload_result *r, int64_t *ms,
			char *error, size_t errlen);

/* Returns the name of <r> ("none", "ok", "refused"). */
const char *pxd_conf_reload_result_name(enum pxd_conf_reload_result r);

/* inline definitions */

/*
 * -DPXD_BENCH_NO_EPOCH compiles the sections out (a plain pointer load), for
 * bench/hotpath_callgrind.sh's A/B of what they cost per request
 * (bench/RESULTS.md "#15"). Measurement only: without the sections a reload
 * can free a generation, or a dispatcher pool, under its reader.
 */

/*
 * Reader <reader> enters its section: returns the generation in force,
 * valid until pxd_conf_live_leave(). Sections do not nest. The reader's own
 * thread only.
 */
static inline const struct pxd_conf *pxd_conf_live_enter(struct pxd_conf_live *l, unsigned reader)
{
#ifndef PXD_BENCH_NO_EPOCH
	ck_epoch_begin(&l->records[reader], NULL);
#else
	(void)reader;
#endif
	return ck_pr_load_ptr(&l->cur);
}

/* Reader <reader> leaves its section: what enter returned may be freed from now on. */
static inline void pxd_conf_live_leave(struct pxd_conf_live *l, unsigned reader)
{
#ifndef PXD_BENCH_NO_EPOCH
	ck_epoch_end(&l->records[reader], NULL);
#else
	(void)l;
	(void)reader;
#endif
}

#endif
