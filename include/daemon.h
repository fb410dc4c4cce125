/* SPDX-License-Identifier: MIT */
/*
 * daemon.h - what every thread of one pixeld process shares: the loaded
 * configuration, the counters, the hand-off rings and the stop/reopen
 * signals from the main thread. Written by the main thread before the
 * threads start, then read-only except for the atomics marked below.
 */
#ifndef PXD_DAEMON_H
#define PXD_DAEMON_H

#include <stdint.h>

#include "conf.h"
#include "email_token.h"
#include "first_open.h"
#include "handoff.h"
#include "metrics.h"

struct pxd_ingest;
struct pxd_xdp_ctl;
struct pxd_bot_ua;
struct pxd_dispatcher;
struct pxd_watermarks;

struct pxd_daemon {
	const struct pxd_conf *conf;
	struct pxd_xdp_ctl *xdp;   /* NULL reads as "off" in every pxd_xdp_ctl_* call */
	struct pxd_bot_ua *bot_ua; /* NULL when xdp.bot_block = off */
	struct pxd_metrics metrics;
	struct pxd_handoff *handoff;
	struct pxd_ingest *ingest;
	unsigned ningest;
	struct pxd_watermarks *watermarks; /* main thread only (daemon/wm_sync.c) */
	struct pxd_dispatcher *disp;
	unsigned ndisp;
	int64_t started_ms;
	char version[32];

	/* Email open pixels: read-only after start, except the lock-free
	 * first-open table every ingest thread updates. */
	struct pxd_email_keys email_keys;
	struct pxd_mail_proxy *mail_proxy;
	struct pxd_first_open *first_open;
	char first_open_path[4096];

	/* Atomics: set by the main thread, polled by the others. */
	int stop_ingest;	    /* SIGTERM: stop accepting, finish requests, exit */
	int stop_dispatch;	    /* after ingest has stopped: drain the rings, flush, exit */
	unsigned reopen_gen;	    /* SIGHUP: sinks reopen their files when it changes */
	int64_t *disp_heartbeat_ms; /* per dispatcher: last loop pass, for /health/ready */
};

/* Returns wall-clock Unix milliseconds (vDSO, no syscall). */
int64_t pxd_now_ms(void);

/* Returns monotonic milliseconds (vDSO, no syscall). */
int64_t pxd_mono_ms(void);

#endif
