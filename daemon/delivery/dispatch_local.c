// SPDX-License-Identifier: MIT
/*
 * dispatch_local.c - delivery to local sinks (delivery_ops.h): destinations
 * without a request builder, written by the shard itself from its batch
 * (JSONL files; with ack=replicated the JetStream publisher). Nothing is in
 * flight beside the batch: a written batch is settled, and durable once the
 * sinks are synced (dispatch_durable.c). Shard thread.
 */
#include "daemon/delivery/delivery_ops.h"

#include <errno.h>

#include "daemon/delivery/batcher.h"
#include "daemon/delivery/dispatch_durable.h"

/*
 * Writes local destination <i>'s batch. With ack=replicated (role ingest)
 * this is the JetStream publisher: a PubAck is its sync, answers wait for
 * its watermark (daemon/loop/ingest.c), so the watermarks are published at
 * once rather than on the timer, and new events are refused while it
 * cannot reach NATS.
 */
static void write_local(struct pxd_dispatcher *ds, unsigned i, int64_t now)
{
	struct pxd_batcher *b = &ds->batchers[i];
	int rc = pxd_batcher_write_local(b, &ds->dests[i], &ds->m[i], now);

	if (ds->d->conf->ack != PXD_ACK_REPLICATED)
		return;
	/* Down from a failed publish until one goes through: a call during the
	 * batcher's hold-off after a failure writes nothing and proves nothing. */
	__atomic_store_n(&ds->d->replicas_down, rc != 0 || b->retry_at_ms > now, __ATOMIC_RELAXED);
	pxd_dispatch_durable_publish(ds, now);
}

/* Adds <rec> to local destination <i>'s batch, writing the batch first when
 * it is full. -ENOSPC when there is still no room (<rec> not taken). */
static int local_route(struct pxd_dispatcher *ds, unsigned i, struct pxd_evrec *rec, json_t **ev,
		       int64_t now)
{
	struct pxd_batcher *b = &ds->batchers[i];

	(void)ev; /* the line is written as it is */
	if (!pxd_batcher_has_room(b, 0) || b->bytes + rec->len + 1 > b->max_bytes)
		write_local(ds, i, now);
	if (!pxd_batcher_has_room(b, 0))
		return -ENOSPC;
	if (!b->n)
		b->first_mono_ms = now;
	b->recs[b->n] = rec;
	b->items[b->n] = (struct pxd_batch_item){ .line = rec->line, .len = rec->len };
	b->n++;
	b->bytes += rec->len + 1;
	rec->_refs++;
	__atomic_store_n(&ds->m[i].pending, (uint64_t)b->n, __ATOMIC_RELAXED);
	if (b->n == 1)
		__atomic_store_n(&ds->m[i].oldest_pending_ms, rec->received_ms, __ATOMIC_RELAXED);
	return 0;
}

static bool local_flush(struct pxd_dispatcher *ds, unsigned i, int64_t now, bool draining)
{
	if (!pxd_batcher_due(&ds->batchers[i], now, draining))
		return false;
	write_local(ds, i, now);
	return true;
}

static uint32_t local_max_in_flight(const struct pxd_dest *dest)
{
	(void)dest;
	return 0;
}

static size_t local_held(const struct pxd_dispatcher *ds, unsigned i)
{
	(void)ds, (void)i;
	return 0;
}

static bool local_busy(const struct pxd_dispatcher *ds, unsigned i)
{
	(void)ds, (void)i;
	return false;
}

const struct pxd_delivery_ops pxd_delivery_local = {
	.max_in_flight = local_max_in_flight,
	.held = local_held,
	.busy = local_busy,
	.route = local_route,
	.flush = local_flush,
};
