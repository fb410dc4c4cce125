// SPDX-License-Identifier: MIT
#include "daemon/delivery/batcher.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define RETRY_MAX_MS 5000

static const uint32_t default_linger_ms = 200;

int pxd_batcher_init(struct pxd_batcher *b, const struct pxd_dest *dest, uint32_t max_in_flight)
{
	const struct pxd_adapter *a = dest->adapter;

	memset(b, 0, sizeof(*b));
	b->max_events = a->max_events ? a->max_events : 1000;
	if (dest->conf->batch_max_events && dest->conf->batch_max_events < b->max_events)
		b->max_events = dest->conf->batch_max_events;
	b->max_bytes = a->max_bytes ? a->max_bytes : 1u << 20;
	b->linger_ms = dest->conf->linger_set		? dest->conf->linger_ms
		       : (a->flags & PXD_ADAPTER_LOCAL) ? 0
							: default_linger_ms;
	b->cap = (size_t)b->max_events * (a->build ? max_in_flight + 2 : 1);
	b->recs = calloc(b->cap, sizeof(*b->recs));
	b->items = calloc(b->cap, sizeof(*b->items));
	b->outcomes = calloc(b->cap, sizeof(*b->outcomes));
	b->attempts = calloc(b->cap, sizeof(*b->attempts));
	b->not_before = calloc(b->cap, sizeof(*b->not_before));
	return b->recs && b->items && b->outcomes && b->attempts && b->not_before ? 0 : -ENOMEM;
}

void pxd_batcher_clear(struct pxd_batcher *b)
{
	for (size_t k = 0; k < b->n; k++) {
		json_decref(b->items[k].ev);
		pxd_dispatch_rec_unref(b->recs[k]);
	}
	b->n = 0;
	b->bytes = 0;
	b->first_mono_ms = 0;
}

void pxd_batcher_fini(struct pxd_batcher *b)
{
	if (b->recs)
		pxd_batcher_clear(b);
	free(b->recs);
	free(b->items);
	free(b->outcomes);
	free(b->attempts);
	free(b->not_before);
	memset(b, 0, sizeof(*b));
}

bool pxd_batcher_due(const struct pxd_batcher *b, int64_t now, bool draining)
{
	if (!b->n || now < b->retry_at_ms)
		return false;
	return draining || b->n >= b->max_events || b->bytes >= b->max_bytes ||
	       now - b->first_mono_ms >= b->linger_ms;
}

int pxd_batcher_write_local(struct pxd_batcher *b, struct pxd_dest *dest,
			    struct pxd_metrics_dest *m, int64_t now)
{
	struct pxd_batch batch = { b->items, b->n };
	size_t kept = 0;
	int rc;

	if (!b->n || now < b->retry_at_ms)
		return 0;
	for (size_t k = 0; k < b->n; k++)
		b->outcomes[k] = (struct pxd_outcome){ .delivery = PXD_DELIVERY_RETRY };
	rc = dest->adapter->write_local(dest, &batch, b->outcomes);
	pxd_stat_add(&m->batches, 1);
	if (rc) {
		uint64_t suppressed = 0;
		static __thread struct pxd_log_ratelimit rl;

		pxd_stat_add(&m->write_errors, 1);
		if (pxd_log_ratelimit_ok(&rl, 5000, &suppressed))
			pxd_log_warn(
			    "dispatch",
			    "destination %s: write failed: %s; %zu events kept and retried "
			    "(similar lines suppressed=%lu)",
			    dest->conf->name, strerror(-rc), b->n, suppressed);
	}
	for (size_t k = 0; k < b->n; k++) {
		switch (b->outcomes[k].delivery) {
		case PXD_DELIVERY_OK:
			pxd_stat_add(&m->events_delivered, 1);
			pxd_dispatch_rec_settle(b->recs[k]);
			pxd_dispatch_rec_unref(b->recs[k]);
			break;
		case PXD_DELIVERY_PERMANENT:
			pxd_stat_add(&m->events_failed, 1);
			pxd_dispatch_rec_settle(b->recs[k]);
			pxd_dispatch_rec_unref(b->recs[k]);
			break;
		case PXD_DELIVERY_RETRY:
			pxd_stat_add(&m->events_retried, 1);
			b->recs[kept] = b->recs[k];
			b->items[kept] = b->items[k];
			kept++;
			break;
		}
	}
	if (kept) {
		pxd_batcher_hold_off(b, now);
	} else {
		b->failures = 0;
		b->retry_at_ms = 0;
	}
	b->n = kept;
	b->bytes = 0;
	for (size_t k = 0; k < kept; k++)
		b->bytes += b->items[k].len + 1;
	b->first_mono_ms = kept ? b->first_mono_ms : 0;
	__atomic_store_n(&m->pending, (uint64_t)kept, __ATOMIC_RELAXED);
	__atomic_store_n(&m->oldest_pending_ms, kept ? b->recs[0]->received_ms : 0,
			 __ATOMIC_RELAXED);
	return rc;
}

void pxd_batcher_hold_off(struct pxd_batcher *b, int64_t now)
{
	uint32_t delay = 100u << PXD_MIN(b->failures, 6u);

	b->failures++;
	b->retry_at_ms = now + PXD_MIN(delay, RETRY_MAX_MS);
}
