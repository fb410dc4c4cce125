/* SPDX-License-Identifier: MIT */
/*
 * delivery_ops.h - the one delivery interface the dispatcher loop
 * (dispatcher.c) and the replay queue (dispatch_replay.c) call, with two
 * implementations: local sinks written by the shard itself (JSONL files, the
 * JetStream publisher; dispatch_local.c) and platforms reached over HTTP
 * (dispatch_http.c). The loop owns streams, cursors and watermarks and knows
 * neither implementation; each implementation owns its destinations' batches
 * from the moment an event is routed to it. Shard thread, except init/fini
 * (the thread that sets the shard up).
 */
#ifndef PXD_DELIVERY_OPS_H
#define PXD_DELIVERY_OPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dispatcher.h"

struct pxd_delivery_ops {
	/* Shard-wide. Sets up what the implementation needs for the shard's
	 * destinations of its kind (nothing when it has none). Needs ds->dests
	 * and ds->batchers. Returns 0 or -errno, with <err> set. NULL: none. */
	int (*init)(struct pxd_dispatcher *ds, char *err, size_t errlen);
	/* Releases it; accepts a shard whose init failed or never ran. */
	void (*fini)(struct pxd_dispatcher *ds);
	/* Moves the work out in flight forward, waiting up to <max_wait_ms>
	 * (0: never). Returns how many requests finished, or -errno when it
	 * could not wait (the caller sleeps instead). NULL: nothing is ever in
	 * flight. */
	int (*drive)(struct pxd_dispatcher *ds, int max_wait_ms);
	/* Timed housekeeping, once per loop pass, and once more with
	 * <stopping> after the last pass. NULL: none. */
	void (*tick)(struct pxd_dispatcher *ds, int64_t now, bool stopping);

	/* Per destination <i> of this kind. */
	/* Requests one destination may have out beside its batch (the
	 * batcher's sizing); 0 when nothing leaves the batch before it is
	 * written. */
	uint32_t (*max_in_flight)(const struct pxd_dest *dest);
	/* Events taken from the batch and not settled yet. */
	size_t (*held)(const struct pxd_dispatcher *ds, unsigned i);
	/* Whether anything of it is out or still being worked on beside its
	 * batch (shutdown waits for it). */
	bool (*busy)(const struct pxd_dispatcher *ds, unsigned i);
	/*
	 * Offers <rec>: the destination takes it, or settles it at once
	 * (filtered, consent, refused by the platform's rules). <*ev> is the
	 * parsed event shared by the HTTP destinations of one record: parsed
	 * by the first that needs a tree, left alone by the others; the caller
	 * json_decref()s it. Returns 0,
	 * -ENOSPC when the batch has no room (not taken), or -errno when the
	 * event cannot be read (counted as failed, not sent).
	 */
	int (*route)(struct pxd_dispatcher *ds, unsigned i, struct pxd_evrec *rec, json_t **ev,
		     int64_t now);
	/* Writes or sends what is due (everything ready when <draining>).
	 * Returns true when something went out. */
	bool (*flush)(struct pxd_dispatcher *ds, unsigned i, int64_t now, bool draining);
};

extern const struct pxd_delivery_ops pxd_delivery_local; /* dispatch_local.c */
extern const struct pxd_delivery_ops pxd_delivery_http;	 /* dispatch_http.c */

/* Every implementation, for the shard-wide calls. */
#define PXD_DELIVERY_KINDS                              \
	{                                               \
		&pxd_delivery_local, &pxd_delivery_http \
	}

/* The implementation that delivers to <dest>. */
static inline const struct pxd_delivery_ops *pxd_delivery_of(const struct pxd_dest *dest)
{
	return pxd_dispatch_is_http(dest) ? &pxd_delivery_http : &pxd_delivery_local;
}

#endif
