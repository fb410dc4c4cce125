/* SPDX-License-Identifier: MIT */
/*
 * dispatch_http.h - HTTP delivery of one dispatcher shard: requests, retries,
 * breaker, bisection, dead letters, delivery log, consent and the replay
 * queue. Called on the shard's thread, init/fini on the thread that sets the
 * shard up; pxd_dispatcher_replay() (dispatcher.h) on any thread.
 */
#ifndef PXD_DISPATCH_HTTP_H
#define PXD_DISPATCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dispatcher.h"

/* The in-flight cap of HTTP destination <dest> (its config was checked at
 * init); PXD_HTTP_OUT_MAX_IN_FLIGHT when it does not parse. */
uint32_t pxd_dispatch_http_max_in_flight(const struct pxd_dest *dest);

/*
 * Starts the transport, dead letters and delivery log of shard <ds>, only
 * when some destination is sent over HTTP (else ds->hd stays NULL). Needs
 * ds->dests and ds->batchers set up. Returns 0 or -errno, with <err> set.
 */
int pxd_dispatch_http_init(struct pxd_dispatcher *ds, char *err, size_t errlen);

/* Aborts in-flight requests without callbacks, closes the transport, dead
 * letters and delivery log, and empties the replay queue. Accepts a shard
 * whose init failed or never ran. */
void pxd_dispatch_http_fini(struct pxd_dispatcher *ds);

/*
 * Offers <rec> to HTTP destination <i>: consent, the platform's rules, then
 * the batch. <*ev> is the parsed event shared by every HTTP destination:
 * parsed here when NULL, and left for the caller to json_decref().
 */
void pxd_dispatch_http_route(struct pxd_dispatcher *ds, unsigned i, struct pxd_evrec *rec,
			     json_t **ev, int64_t now);

/* Sends what is due for HTTP destination <i> (everything ready when
 * <draining>). Returns true when a request went out. */
bool pxd_dispatch_http_flush(struct pxd_dispatcher *ds, unsigned i, int64_t now, bool draining);

/* Moves replayed dead letters into their destinations' batches while there
 * is room. Needs ds->hd. Returns how many were taken. */
size_t pxd_dispatch_http_drain_replays(struct pxd_dispatcher *ds, int64_t now);

/* Syncs the dead letters, which must be durable before a watermark passes
 * their events. Returns 0 (also with no dead letter queue) or -errno. */
int pxd_dispatch_http_sync_dlq(struct pxd_dispatcher *ds);

#endif
