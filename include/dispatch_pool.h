/* SPDX-License-Identifier: MIT */
/*
 * dispatch_pool.h - a reload that adds a destination or changes one's type,
 * batching or adapter keys replaces the dispatcher pool: the main thread
 * stops the shards between batches (in-flight requests finish, watermarks
 * are published), builds a pool for the new destinations and starts it;
 * each shard goes on from where the old one was on every journal stream,
 * a destination that stays keeps its cursor, a new one starts there. Ingest
 * keeps accepting meanwhile: the rings and the journal hold the events. The
 * old pool is freed once no reader (ingest, /metrics, console) can hold it
 * (the ck_epoch of conf_live.h). Main thread, except
 * pxd_dispatch_pool_settled() (the shard's own).
 */
#ifndef PXD_DISPATCH_POOL_H
#define PXD_DISPATCH_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "daemon.h"

/* pxd_daemon.stop_dispatch while a swap stops the shards: route nothing new,
 * settle what is batched and in flight, publish the watermarks, return. */
#define PXD_DISPATCH_STOP_SWAP 3

/* Whether <fresh> (slots in <running>'s order, conf_reload.c) needs a new
 * pool: a slot added, or one whose type, batching or adapter keys differ. */
bool pxd_dispatch_pool_needed(const struct pxd_conf *running, const struct pxd_conf *fresh);

/*
 * Loads every destination of <fresh> that a swap would start anew as start-up
 * does (a known type; adapter keys and secrets; HTTP settings). Returns 0, or
 * -EINVAL (or -errno) with <err> naming file:line and what to do. Nothing
 * running is touched.
 */
int pxd_dispatch_pool_check(const struct pxd_conf *running, const struct pxd_conf *fresh, char *err,
			    size_t errlen);

/*
 * Replaces <d>'s running pool with one for <fresh>'s destinations: <boot>
 * (the configuration d->conf points at) takes <fresh>'s destination sections
 * in place, a new slot's name goes into <names> (the /metrics labels).
 * Returns 0 once the new shards run, or -errno with <err>: then the old pool
 * runs again as it was.
 */
int pxd_dispatch_pool_swap(struct pxd_daemon *d, struct pxd_conf *boot, const char **names,
			   const struct pxd_conf *fresh, char *err, size_t errlen);

/* Shard thread, during a swap: nothing is batched, in flight or queued for replay. */
bool pxd_dispatch_pool_settled(const struct pxd_dispatcher *ds);

/* Waits for shard thread <t> up to <deadline_ms> (monotonic). Returns 0 or ETIMEDOUT. */
int pxd_dispatch_pool_join(pthread_t t, int64_t deadline_ms);

/* At exit, once the shards stopped: releases the pool a reload started
 * (d->disp becomes NULL); nothing when the start-up pool still runs. */
void pxd_dispatch_pool_fini(struct pxd_daemon *d);

#endif
