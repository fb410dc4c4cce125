// SPDX-License-Identifier: MIT
#include "dispatch_metrics.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "dispatcher.h"

static uint64_t get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Sums destination <i>'s stats over the shards into <t>; false when no shard
 * sends it over HTTP. */
static bool dest_sum(const struct pxd_daemon *d, unsigned i, struct pxd_dispatch_stats *t)
{
	bool any = false;

	memset(t, 0, sizeof(*t));
	for (unsigned s = 0; s < d->ndisp; s++) {
		const struct pxd_dispatcher *ds = &d->disp[s];
		const struct pxd_dispatch_stats *st;

		if (!ds->hd || !ds->hd[i].reqs)
			continue;
		any = true;
		st = &ds->hd[i].st;
		t->dead_lettered += get(&st->dead_lettered);
		for (size_t v = 0; v < PXD_CONSENT_VERDICT_COUNT; v++)
			t->consent_skipped[v] += get(&st->consent_skipped[v]);
		t->requests += get(&st->requests);
		t->requests_failed += get(&st->requests_failed);
		for (size_t b = 0; b < PXD_DISPATCH_LATENCY_BUCKETS; b++)
			t->latency_bucket[b] += get(&st->latency_bucket[b]);
		t->latency_sum_ms += get(&st->latency_sum_ms);
		t->in_flight += get(&st->in_flight);
		/* The worst shard: open beats half-open beats closed. */
		if (get(&st->breaker_state) == PXD_RETRY_BREAKER_OPEN ||
		    t->breaker_state == PXD_RETRY_BREAKER_CLOSED)
			t->breaker_state = get(&st->breaker_state);
		t->bisect_isolated += get(&st->bisect_isolated);
		t->dlq_errors += get(&st->dlq_errors);
		t->dlog_errors += get(&st->dlog_errors);
		t->replayed += get(&st->replayed);
		t->throttled += get(&st->throttled);
		t->breaker_opened += get(&st->breaker_opened);
	}
	return any;
}

static void histogram(struct pxd_buf *out, const char *name, const struct pxd_dispatch_stats *t)
{
	static const uint32_t bounds[] = { PXD_DISPATCH_LATENCY_BOUNDS };
	uint64_t cum = 0;

	for (size_t b = 0; b < ARRAY_SIZE(bounds); b++) {
		cum += t->latency_bucket[b];
		pxd_buf_printf(out,
			       "pixeld_destination_request_seconds_bucket{destination=\"%s\",le=\"%"
			       "u.%03u\"} %lu\n",
			       name, bounds[b] / 1000, bounds[b] % 1000, cum);
	}
	cum += t->latency_bucket[ARRAY_SIZE(bounds)];
	pxd_buf_printf(
	    out, "pixeld_destination_request_seconds_bucket{destination=\"%s\",le=\"+Inf\"} %lu\n",
	    name, cum);
	pxd_buf_printf(out,
		       "pixeld_destination_request_seconds_sum{destination=\"%s\"} %lu.%03lu\n",
		       name, t->latency_sum_ms / 1000, t->latency_sum_ms % 1000);
	pxd_buf_printf(out, "pixeld_destination_request_seconds_count{destination=\"%s\"} %lu\n",
		       name, cum);
}

/* A series with one value per destination. */
struct simple {
	const char *name;
	const char *type;
	const char *help;
	size_t off;
};

#define STAT(f) offsetof(struct pxd_dispatch_stats, f)

static const struct simple simple[] = {
	{ "pixeld_destination_dead_letters_total", "counter",
	  "Events written to the destination's dead-letter file.", STAT(dead_lettered) },
	{ "pixeld_destination_requests_total", "counter", "HTTP requests sent to the destination.",
	  STAT(requests) },
	{ "pixeld_destination_requests_failed_total", "counter",
	  "Requests that failed as a whole (transport error, 5xx, 429, throttling).",
	  STAT(requests_failed) },
	{ "pixeld_destination_in_flight", "gauge", "Requests to the destination outstanding now.",
	  STAT(in_flight) },
	{ "pixeld_destination_breaker_state", "gauge",
	  "Circuit breaker: 0 closed, 1 open, 2 half-open (worst shard).", STAT(breaker_state) },
	{ "pixeld_destination_bisect_isolated_total", "counter",
	  "Events isolated by bisecting batches the platform refused as a whole.",
	  STAT(bisect_isolated) },
	{ "pixeld_destination_replayed_total", "counter",
	  "Dead letters replayed into the destination's batch.", STAT(replayed) },
	{ "pixeld_destination_throttled_total", "counter",
	  "Requests the platform throttled (429, or its own rate-limit code).", STAT(throttled) },
	{ "pixeld_destination_breaker_opened_total", "counter",
	  "Times the circuit breaker opened (failures without a Retry-After).",
	  STAT(breaker_opened) },
	{ "pixeld_dlq_write_errors_total", "counter",
	  "Dead letters that could not be written (kept and retried).", STAT(dlq_errors) },
	{ "pixeld_delivery_log_errors_total", "counter",
	  "Delivery log writes that failed (lines dropped).", STAT(dlog_errors) },
};

static void help(struct pxd_buf *out, const char *name, const char *type, const char *text)
{
	pxd_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

int pxd_dispatch_metrics_render(const struct pxd_daemon *d, struct pxd_buf *out)
{
	unsigned ndests = d->conf->ndests;
	struct pxd_dispatch_stats *t;
	bool *on;
	int rc = 0;

	if (!ndests || !d->disp)
		return 0;
	t = calloc(ndests, sizeof(*t));
	on = calloc(ndests, sizeof(*on));
	if (!t || !on) {
		free(t);
		free(on);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < ndests; i++)
		on[i] = dest_sum(d, i, &t[i]);

	for (size_t k = 0; k < ARRAY_SIZE(simple); k++) {
		help(out, simple[k].name, simple[k].type, simple[k].help);
		for (unsigned i = 0; i < ndests; i++)
			if (on[i])
				pxd_buf_printf(
				    out, "%s{destination=\"%s\"} %lu\n", simple[k].name,
				    d->conf->dests[i].name,
				    *(const uint64_t *)((const char *)&t[i] + simple[k].off));
	}
	help(out, "pixeld_destination_consent_skipped_total", "counter",
	     "Events not sent because their consent denies ad use, by reason.");
	for (unsigned i = 0; i < ndests; i++)
		for (unsigned v = 1; on[i] && v < PXD_CONSENT_VERDICT_COUNT; v++)
			pxd_buf_printf(out,
				       "pixeld_destination_consent_skipped_total{destination=\"%"
				       "s\",reason=\"%s\"} "
				       "%lu\n",
				       d->conf->dests[i].name, pxd_consent_reason(v),
				       t[i].consent_skipped[v]);
	help(out, "pixeld_destination_request_seconds", "histogram",
	     "Request latency, submit to completion.");
	for (unsigned i = 0; i < ndests; i++)
		if (on[i])
			histogram(out, d->conf->dests[i].name, &t[i]);
	if (!out->p)
		rc = -ENOMEM;
	free(t);
	free(on);
	return rc;
}
