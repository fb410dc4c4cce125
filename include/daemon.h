/* SPDX-License-Identifier: MIT */
/*
 * daemon.h - what every thread of one pixeld process shares: the loaded
 * configuration, the counters, the hand-off rings and the stop/reopen
 * signals from the main thread. Written by the main thread before the
 * threads start, then read-only except for the atomics marked below.
 */
#ifndef PXD_DAEMON_H
#define PXD_DAEMON_H

#include <pthread.h>
#include <stdint.h>

#include "api_state.h"
#include "admin_job.h"
#include "conf.h"
#include "conf_live.h"
#include "email_token.h"
#include "first_open.h"
#include "handoff.h"
#include "metrics.h"

struct pxd_ingest;
struct pxd_xdp_ctl;
struct pxd_console;
struct pxd_bot_ua;
struct pxd_tls_live;
struct pxd_dispatcher;
struct pxd_watermarks;
struct pxd_nats_consume;
struct pxd_usage;

struct pxd_daemon {
	/* The start-up configuration: what needs a restart to change. What a
	 * reload changes is read through <live> (conf_live.h). */
	const struct pxd_conf *conf;
	/* Readers 0..ningest-1: the ingest threads; ningest + shard: dispatchers;
	 * ningest + ndisp: the console. A reload that replaces the dispatcher
	 * pool frees the old one through it too (dispatch_pool.h). */
	struct pxd_conf_live live;
	struct pxd_console *console; /* NULL when it could not start */
	struct pxd_xdp_ctl *xdp;     /* NULL reads as "off" in every pxd_xdp_ctl_* call */
	struct pxd_bot_ua *bot_ua;   /* NULL when xdp.bot_block = off */
	struct pxd_tls_live *tls;    /* NULL without server.tls_listen */
	struct pxd_metrics metrics;
	struct pxd_handoff *handoff;
	struct pxd_ingest *ingest;
	unsigned ningest;
	/* The saved watermarks (daemon/journal/watermark_sync.c): under
	 * <wm_lock>, taken by the main thread and by a shard that saves after
	 * publishing; <wm_gen> counts publications, <wm_saved_gen> the last
	 * one a save covered. */
	struct pxd_watermarks *watermarks;
	pthread_mutex_t wm_lock;
	uint64_t wm_gen;
	uint64_t wm_saved_gen;
	struct pxd_dispatcher *disp; /* atomic pointer: a reload may replace the pool */
	unsigned ndisp;
	struct pxd_nats_consume *nats; /* role dispatch: the JetStream consumers; else NULL */
	struct pxd_usage *usage;       /* per-tenant usage; NULL without [tenant] sections */
	int64_t started_ms;
	char version[32];

	/* Email open pixels: read-only after start, except the lock-free
	 * first-open table every ingest thread updates. */
	struct pxd_email_keys email_keys;
	struct pxd_mail_proxy *mail_proxy;
	struct pxd_first_open *first_open;
	char first_open_path[4096];

	/* Keyed ways in (/s2s/, /v1/): buckets and dedup table, lock-free. */
	struct pxd_api api;

	/* Atomics: set by the main thread, polled by the others. */
	int stop_ingest;		/* SIGTERM: stop accepting, finish requests, exit */
	int stop_dispatch;		/* after ingest has stopped: drain the rings, flush, exit */
	unsigned reopen_gen;		/* SIGHUP: sinks reopen their files when it changes */
	int64_t *disp_heartbeat_ms;	/* per dispatcher: last loop pass, for /health/ready */
	struct pxd_admin_job admin_job; /* file I/O an ingest thread hands to the main thread */
	int replicas_down;		/* ack=replicated: the last JetStream publish failed */
};

/* Returns wall-clock Unix milliseconds (vDSO, no syscall). */
int64_t pxd_now_ms(void);

/* Returns monotonic milliseconds (vDSO, no syscall). */
int64_t pxd_mono_ms(void);
/* The same clock in microseconds, for timing one call. */
int64_t pxd_mono_us(void);

#endif
