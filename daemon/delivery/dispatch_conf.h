/* SPDX-License-Identifier: MIT */
/*
 * dispatch_conf.h - a shard's view of the configuration generation
 * (conf_live.h): the shard stays inside its epoch section while it runs and
 * passes an epoch boundary once per loop, between batches, where it points
 * its destinations at the generation in force (a reload changes their
 * tenants and event filters; conf_reload.c keeps their slots). Dispatcher
 * thread only.
 */
#ifndef PXD_DISPATCH_CONF_H
#define PXD_DISPATCH_CONF_H

#include "dispatcher.h"

/* Enters <ds>'s section at the start of its thread. */
void pxd_dispatch_conf_enter(struct pxd_dispatcher *ds);

/*
 * The batch boundary: leaves and re-enters the section and, when a reload
 * published a new generation, points every destination at it. A destination
 * the reload removed (retired) stops on every stream where the shared pass
 * is: its cursor and the journal behind it are kept. A drop asked for it
 * (pxd_conf_live.drops) lets that cursor go.
 */
void pxd_dispatch_conf_sync(struct pxd_dispatcher *ds);

/* Whether destination <dest> is retired in <ds>: while it lags (its cursor
 * held) it neither catches up nor keeps a shutdown waiting. */
bool pxd_dispatch_conf_retired(const struct pxd_dispatcher *ds, unsigned dest);

/* Leaves the section when the thread ends. */
void pxd_dispatch_conf_leave(struct pxd_dispatcher *ds);

#endif
