/* SPDX-License-Identifier: MIT */
/*
 * dispatch_wake.h - how an idle dispatcher shard waits and how the ingest
 * threads wake it: the shard sleeps until its next deadline, and an ingest
 * thread that finds it asleep with a batch's worth of events queued for it
 * kicks it (an eventfd, or curl_multi_wakeup with HTTP destinations).
 * Wait: the shard's own thread. Kick: any ingest thread.
 */
#ifndef PXD_DISPATCH_WAKE_H
#define PXD_DISPATCH_WAKE_H

#include <stdint.h>

struct pxd_daemon;
struct pxd_dispatcher;

struct pxd_dispatch_wake {
	int fd;	     /* eventfd, -1 before init */
	int waiting; /* atomic: 1 while the shard sleeps and no kick has been sent */
};

/* Creates the eventfd. Returns 0 or -errno. */
int pxd_dispatch_wake_init(struct pxd_dispatch_wake *w);

/* Closes it. Accepts a zeroed or failed one. */
void pxd_dispatch_wake_fini(struct pxd_dispatch_wake *w);

/*
 * Shard thread, with nothing to do: sleeps until the earliest batch is due,
 * <idle_ms> at most while HTTP deliveries are held (their retries and
 * completions run in the dispatcher's loop), PXD_DISPATCH_WAKE_MAX_MS at
 * most otherwise, or until kicked. <now> is the loop's monotonic clock.
 * Returns how many HTTP requests finished meanwhile (their outcomes move
 * watermarks).
 */
int pxd_dispatch_wake_wait(struct pxd_dispatcher *ds, int64_t now, int64_t idle_ms);

/*
 * Ingest thread, once per loop pass: kicks shard <shard> when it sleeps and
 * PXD_DISPATCH_WAKE_BACKLOG events (or a quarter of the ring) wait for it.
 * One atomic load while the shard is awake; one write(2) per sleep at most.
 */
void pxd_dispatch_wake_kick(struct pxd_daemon *d, unsigned shard);

/* The longest sleep: timers that are not batches (watermark publishing,
 * the delivery log, shutdown) are noticed within it. */
#define PXD_DISPATCH_WAKE_MAX_MS 20
/* Events queued for a sleeping shard before it is kicked. */
#define PXD_DISPATCH_WAKE_BACKLOG 1024

#endif
