/* SPDX-License-Identifier: MIT */
/*
 * dispatch_metrics.h - Prometheus text for the HTTP delivery counters each
 * dispatcher shard keeps per destination (struct pxd_dispatch_stats): dead
 * letters, consent skips by reason, request latency, in-flight requests,
 * breaker state. Summed over shards; any thread (reads relaxed atomics).
 */
#ifndef PXD_DISPATCH_METRICS_H
#define PXD_DISPATCH_METRICS_H

#include "buf.h"
#include "daemon.h"

/* Appends the per-destination delivery metrics of <d> to <out>. Returns 0 or
 * -ENOMEM. Destinations that are not sent over HTTP are left out. */
int pxd_dispatch_metrics_render(const struct pxd_daemon *d, struct pxd_buf *out);

#endif
