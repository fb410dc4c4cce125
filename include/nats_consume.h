/* SPDX-License-Identifier: MIT */
/*
 * nats_consume.h - the dispatch role's source of events: one durable pull
 * consumer pixeld-<destination> per destination on the JetStream stream,
 * feeding the dispatcher shards (pxd_dispatcher_take) and acking each
 * message once its destination's outcome is known. Started and stopped by
 * the main thread; runs on a thread of its own, which alone uses the link.
 */
#ifndef PXD_NATS_CONSUME_H
#define PXD_NATS_CONSUME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "daemon.h"

struct pxd_nats_consume;

/* What one consumer has done, for /metrics (relaxed atomics, single writer). */
struct pxd_nats_consume_stats {
	uint64_t fetched;
	uint64_t acked;
	uint64_t handed_back; /* naks: refused by a full queue, unsendable, or at shutdown */
	uint64_t nak_delayed; /* naks with delay: a retryable failure, redelivered later */
	uint64_t redelivered; /* fetched with a delivery count above 1 */
	uint64_t in_progress; /* AckWait extensions sent for events a shard still holds */
	uint64_t outstanding; /* gauge: fetched and not yet acked or handed back */
};

/*
 * Starts the consumer thread for every destination of <d>, HTTP or local
 * (a jsonl sink, a nats destination, on the dispatching host).
 * The dispatcher shards must be running. NATS need not be up: the thread
 * connects and subscribes when it can. Returns 0, or -EINVAL/-ENOMEM/-errno
 * with <err> saying what to fix.
 */
int pxd_nats_consume_start(struct pxd_daemon *d, struct pxd_nats_consume **out, char *err,
			   size_t errlen);

/* Main thread, at shutdown before the shards drain: fetch nothing more.
 * Accepts NULL. */
void pxd_nats_consume_quiesce(struct pxd_nats_consume *c);

/*
 * Main thread, after the shards have stopped: acks what they settled,
 * hands every other fetched message back to JetStream (nak, so another
 * dispatch process takes it at once), closes and frees. Accepts NULL.
 */
void pxd_nats_consume_stop(struct pxd_nats_consume *c);

/* Any thread (the admin endpoint): appends the consumers' counters in
 * Prometheus text to <out>; nothing when <d> runs no consumer. */
void pxd_nats_consume_metrics(const struct pxd_daemon *d, struct pxd_buf *out);

#endif
