/* SPDX-License-Identifier: MIT */
/*
 * dispatch_http.h - HTTP delivery of one dispatcher shard: requests, retries,
 * breaker, bisection, dead letters, delivery log and consent. The dispatcher
 * reaches it through pxd_delivery_http (delivery_ops.h); what is here is for
 * the durability step (dispatch_durable.c). Shard thread.
 */
#ifndef PXD_DISPATCH_HTTP_H
#define PXD_DISPATCH_HTTP_H

#include "dispatcher.h"

/* Syncs the dead letters, which must be durable before a watermark passes
 * their events. Returns 0 (also with no dead letter queue) or -errno. */
int pxd_dispatch_http_sync_dlq(struct pxd_dispatcher *ds);

#endif
