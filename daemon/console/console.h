/* SPDX-License-Identifier: MIT */
/*
 * console.h - what the browser console, `pixelctl tail` and `pixelctl top`
 * see: a thread that follows the journal (the canonical events as they are
 * accepted, into a ring of the latest PXD_CONSOLE_RING) and once a second
 * turns the daemon's counters into a stats snapshot (JSON). The admin
 * listener's thread reads both through pxd_console_stream() under the
 * console's mutex; no ingest hot path touches the console.
 */
#ifndef PXD_CONSOLE_H
#define PXD_CONSOLE_H

#include <stdint.h>

#include "buf.h"
#include "daemon.h"

#define PXD_CONSOLE_RING 512	  /* latest events kept for the tail */
#define PXD_CONSOLE_LINE_MAX 4096 /* longer events are shown as a summary */
#define PXD_CONSOLE_BATCH 200	  /* events per stream response at most */
#define PXD_CONSOLE_FIRST 50	  /* events a new client gets from the past */
#define PXD_CONSOLE_RETRY_MS 1000 /* the SSE "retry:" the clients honour */

struct pxd_console;

/*
 * Starts the console thread for <d>, following every journal stream from its
 * current end. Call after the ingest threads are set up (their streams
 * exist). Returns 0 and <*out>, or -errno (the daemon runs on without a
 * console, and says so).
 */
int pxd_console_start(struct pxd_daemon *d, struct pxd_console **out);

/* Stops and frees <c>. Accepts NULL. Main thread. */
void pxd_console_stop(struct pxd_console *c);

/*
 * Appends one text/event-stream body to <out>: "retry:", the latest "stats"
 * event, then "ev" events (canonical event JSON) after <since> (0: the last
 * PXD_CONSOLE_FIRST), at most PXD_CONSOLE_BATCH, each with its id. Returns 0
 * or -ENOMEM. Any thread (the admin listener's): takes the console's mutex.
 */
int pxd_console_stream(struct pxd_console *c, uint64_t since, struct pxd_buf *out);

#endif
