/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - counters and their Prometheus text exposition. Every counter
 * has exactly one writer thread (an ingest thread or a dispatcher shard), so
 * increments are plain relaxed stores, not locked adds; the admin endpoint
 * sums them with relaxed loads. The registry is created before threads start.
 */
#ifndef PXD_METRICS_H
#define PXD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "conf.h"
#include "conf_tenant.h"
#include "email_token.h"
#include "first_open.h"
#include "mail_proxy.h"
#include "refusal.h"
#include "tls.h"

struct pxd_buf;

/* Endpoints as the metrics name them (label endpoint="..."). */
enum pxd_endpoint {
	PXD_EP_PIXEL_GIF = 0,
	PXD_EP_PIXEL,
	PXD_EP_BEACON,
	PXD_EP_S2S,
	PXD_EP_SEGMENT,
	PXD_EP_PREFLIGHT,
	PXD_EP_EMAIL_OPEN,
	PXD_EP_HEALTH,
	PXD_EP_METRICS,
	PXD_EP_ADMIN,
	PXD_EP_UNKNOWN,
	PXD_EP_COUNT, /* number of endpoints; keep last */
};

/* The statuses we answer, as small indexes for the request counters. */
enum pxd_status_idx {
	PXD_ST_200 = 0,
	PXD_ST_204,
	PXD_ST_400,
	PXD_ST_401,
	PXD_ST_403,
	PXD_ST_404,
	PXD_ST_405,
	PXD_ST_408,
	PXD_ST_411,
	PXD_ST_413,
	PXD_ST_414,
	PXD_ST_415,
	PXD_ST_429,
	PXD_ST_431,
	PXD_ST_500,
	PXD_ST_501,
	PXD_ST_503,
	PXD_ST_COUNT, /* number of statuses; keep last */
};

/* Upper bounds (ms) of the journal commit latency histogram. */
#define PXD_COMMIT_BUCKETS 10
extern const double pxd_commit_bucket_ms[PXD_COMMIT_BUCKETS];

/* One ingest thread's counters; written by that thread only. */
struct pxd_metrics_ingest {
	uint64_t requests[PXD_EP_COUNT][PXD_ST_COUNT];
	uint64_t events_accepted[PXD_EP_COUNT];
	uint64_t events_rejected[PXD_REFUSAL_COUNT];
	uint64_t tenant_accepted[PXD_CONF_TENANT_MAX]; /* by position in [tenant] order */
	uint64_t tenant_refused[PXD_CONF_TENANT_MAX];
	uint64_t tenant_bytes[PXD_CONF_TENANT_MAX]; /* of the accepted events' lines */
	uint64_t tenant_cookies_set[PXD_CONF_TENANT_MAX];
	uint64_t tenant_cookies_extended[PXD_CONF_TENANT_MAX];
	uint64_t tenant_cookies_restored[PXD_CONF_TENANT_MAX]; /* _fbp/_fbc written new */
	uint64_t conn_open;				       /* gauge */
	uint64_t conn_slots_resident; /* gauge: slots whose memory is held, once a second */
	uint64_t conn_accepted;
	uint64_t conn_refused;	/* over server.max_connections */
	uint64_t conn_timeouts; /* 408 */
	uint64_t conn_idle_closed;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t recv_nobufs;
	uint64_t ring_full;	/* events journaled but not handed off: the shard reads them back */
	uint64_t journal_bytes; /* gauge: this thread's journal on disk or waiting for it */
	uint64_t journal_segments;	/* gauge */
	uint64_t journal_errors;	/* failed writes or syncs (retried) */
	uint64_t journal_writes;	/* data writes completed */
	uint64_t journal_writes_inline; /* of them, made on the ingest thread (journal.c) */
	uint64_t journal_commits;
	uint64_t journal_commit_ms[PXD_COMMIT_BUCKETS + 1]; /* histogram; last = +Inf */
	uint64_t journal_commit_ms_sum;
	uint64_t email_rejected[PXD_EMAIL_VERDICT_COUNT]; /* [0] unused */
	uint64_t email_opens[PXD_OPEN_KIND_COUNT];
	uint64_t segment_hashed_dropped; /* *_sha256 traits not 64 lowercase hex */
	struct pxd_first_open_stats first_open;
	struct pxd_first_open_stats s2s_dedup; /* event_ids recorded by the keyed APIs */
	struct pxd_tls_stats tls;
} pxd_cache_aligned;

/* One destination on one dispatcher shard; written by that shard only. */
struct pxd_metrics_dest {
	uint64_t events_delivered;
	uint64_t events_retried;
	uint64_t events_failed;
	uint64_t events_filtered; /* not for this destination (events = filter) */
	uint64_t batches;
	uint64_t write_errors;
	uint64_t syncs;
	uint64_t sync_errors;
	uint64_t pending; /* gauge: events batched, not yet delivered */
	int64_t
	    oldest_pending_ms; /* gauge: received_ms of the oldest undelivered event, 0 = none */
} pxd_cache_aligned;

struct pxd_metrics {
	unsigned ningest;
	unsigned nshards;
	/* Destination slots in use: only grows, by a reload that adds destinations
	 * (daemon/delivery/dispatch_pool.c); the main thread stores it after the
	 * new slots' names, other threads load it (pxd_metrics_ndests()). */
	unsigned ndests;
	const char *const *dest_names;	   /* PXD_CONF_MAX_DESTS entries, ndests set */
	struct pxd_metrics_ingest *ingest; /* ningest */
	/* nshards * PXD_CONF_MAX_DESTS, [shard][slot] (pxd_metrics_dest_row()):
	 * allocated for every slot at start, so adding destinations never
	 * reallocates what a /metrics reader is summing. */
	struct pxd_metrics_dest *dest;
	int64_t started_ms;
};

/* Allocates zeroed counters (rows for every destination slot). Returns 0 or -ENOMEM. */
int pxd_metrics_init(struct pxd_metrics *m, unsigned ningest, unsigned nshards, unsigned ndests,
		     const char *const *dest_names);
void pxd_metrics_fini(struct pxd_metrics *m);

/* Maps an HTTP status to its counter index (unknown statuses count as 500). */
enum pxd_status_idx pxd_metrics_status_idx(unsigned status);

/* Returns the endpoint's label. */
const char *pxd_metrics_endpoint_name(enum pxd_endpoint ep);

/* Totals over every ingest thread, for status and tests. */
struct pxd_metrics_totals {
	uint64_t requests;
	uint64_t events_accepted;
	uint64_t events_rejected;
	uint64_t conn_open;
};
void pxd_metrics_totals(const struct pxd_metrics *m, struct pxd_metrics_totals *t);

/* Totals of one destination over every shard. */
void pxd_metrics_dest_totals(const struct pxd_metrics *m, unsigned dest,
			     struct pxd_metrics_dest *t);

/* Appends the ingest and destination counters in Prometheus text format to <out>. */
int pxd_metrics_render(const struct pxd_metrics *m, struct pxd_buf *out);

/* inline definitions */

/* Single-writer increment: a relaxed load and store, no locked instruction. */
static inline void pxd_stat_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline uint64_t pxd_stat_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Any thread: the destination slots in use (their names are set). */
static inline unsigned pxd_metrics_ndests(const struct pxd_metrics *m)
{
	return __atomic_load_n(&m->ndests, __ATOMIC_ACQUIRE);
}

/* Destination slot <dest>'s counters on shard <shard>. */
static inline struct pxd_metrics_dest *pxd_metrics_dest_row(const struct pxd_metrics *m,
							    unsigned shard, unsigned dest)
{
	return &m->dest[(size_t)shard * PXD_CONF_MAX_DESTS + dest];
}

#endif
