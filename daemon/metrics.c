// SPDX-License-Identifier: MIT
/*
 * The metrics registry: allocates the per-thread counter blocks, sums them
 * with relaxed loads and renders the Prometheus text. Init and fini: main
 * thread; render and totals: the admin thread, while writers keep counting.
 */
#include "metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

const double pxd_commit_bucket_ms[PXD_COMMIT_BUCKETS] = {
	0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000
};

static const char *const endpoint_names[PXD_EP_COUNT] = {
	[PXD_EP_PIXEL_GIF] = "pixel_gif",   [PXD_EP_PIXEL] = "pixel",
	[PXD_EP_BEACON] = "beacon",	    [PXD_EP_PREFLIGHT] = "preflight",
	[PXD_EP_EMAIL_OPEN] = "email_open", [PXD_EP_HEALTH] = "health",
	[PXD_EP_METRICS] = "metrics",	    [PXD_EP_ADMIN] = "admin",
	[PXD_EP_UNKNOWN] = "unknown",	    [PXD_EP_S2S] = "s2s",
	[PXD_EP_SEGMENT] = "segment",
};

static const unsigned short status_codes[PXD_ST_COUNT] = {
	[PXD_ST_200] = 200, [PXD_ST_204] = 204, [PXD_ST_400] = 400, [PXD_ST_401] = 401,
	[PXD_ST_403] = 403, [PXD_ST_404] = 404, [PXD_ST_405] = 405, [PXD_ST_408] = 408,
	[PXD_ST_411] = 411, [PXD_ST_413] = 413, [PXD_ST_414] = 414, [PXD_ST_415] = 415,
	[PXD_ST_429] = 429, [PXD_ST_431] = 431, [PXD_ST_500] = 500, [PXD_ST_501] = 501,
	[PXD_ST_503] = 503,
};

int pxd_metrics_init(struct pxd_metrics *m, unsigned ningest, unsigned nshards, unsigned ndests,
		     const char *const *dest_names)
{
	memset(m, 0, sizeof(*m));
	m->ningest = ningest;
	m->nshards = nshards;
	m->ndests = ndests;
	m->dest_names = dest_names;
	if (posix_memalign((void **)&m->ingest, PXD_CACHELINE, ningest * sizeof(*m->ingest)))
		goto nomem;
	memset(m->ingest, 0, ningest * sizeof(*m->ingest));
	{
		size_t n = (size_t)nshards * PXD_CONF_MAX_DESTS;

		if (posix_memalign((void **)&m->dest, PXD_CACHELINE, n * sizeof(*m->dest)))
			goto nomem;
		memset(m->dest, 0, n * sizeof(*m->dest));
	}
	return 0;
nomem:
	pxd_metrics_fini(m);
	return -ENOMEM;
}

void pxd_metrics_fini(struct pxd_metrics *m)
{
	free(m->ingest);
	free(m->dest);
	m->ingest = NULL;
	m->dest = NULL;
}

enum pxd_status_idx pxd_metrics_status_idx(unsigned status)
{
	for (unsigned i = 0; i < PXD_ST_COUNT; i++)
		if (status_codes[i] == status)
			return (enum pxd_status_idx)i;
	return PXD_ST_500;
}

const char *pxd_metrics_endpoint_name(enum pxd_endpoint ep)
{
	return (unsigned)ep < PXD_EP_COUNT ? endpoint_names[ep] : "unknown";
}

void pxd_metrics_totals(const struct pxd_metrics *m, struct pxd_metrics_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < m->ningest; i++) {
		const struct pxd_metrics_ingest *mi = &m->ingest[i];

		for (unsigned e = 0; e < PXD_EP_COUNT; e++) {
			for (unsigned s = 0; s < PXD_ST_COUNT; s++)
				t->requests += pxd_stat_get(&mi->requests[e][s]);
			t->events_accepted += pxd_stat_get(&mi->events_accepted[e]);
		}
		for (unsigned r = 0; r < PXD_REFUSAL_COUNT; r++)
			t->events_rejected += pxd_stat_get(&mi->events_rejected[r]);
		t->conn_open += pxd_stat_get(&mi->conn_open);
	}
}

void pxd_metrics_dest_totals(const struct pxd_metrics *m, unsigned dest, struct pxd_metrics_dest *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned s = 0; s < m->nshards; s++) {
		const struct pxd_metrics_dest *d = pxd_metrics_dest_row(m, s, dest);
		int64_t oldest = __atomic_load_n(&d->oldest_pending_ms, __ATOMIC_RELAXED);

		t->events_delivered += pxd_stat_get(&d->events_delivered);
		t->events_retried += pxd_stat_get(&d->events_retried);
		t->events_failed += pxd_stat_get(&d->events_failed);
		t->events_filtered += pxd_stat_get(&d->events_filtered);
		t->batches += pxd_stat_get(&d->batches);
		t->write_errors += pxd_stat_get(&d->write_errors);
		t->syncs += pxd_stat_get(&d->syncs);
		t->sync_errors += pxd_stat_get(&d->sync_errors);
		t->pending += pxd_stat_get(&d->pending);
		if (oldest && (!t->oldest_pending_ms || oldest < t->oldest_pending_ms))
			t->oldest_pending_ms = oldest;
	}
}

/* Sums one ingest counter over all threads; <off> is its offset in the struct. */
static uint64_t sum_ingest(const struct pxd_metrics *m, size_t off)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < m->ningest; i++)
		n += pxd_stat_get((const uint64_t *)((const char *)&m->ingest[i] + off));
	return n;
}

struct scalar {
	const char *name;
	const char *type;
	const char *help;
	size_t off;
};

static const struct scalar ingest_scalars[] = {
	{ "pixeld_connections_open", "gauge", "Client connections open now.",
	  offsetof(struct pxd_metrics_ingest, conn_open) },
	{ "pixeld_connection_slots_resident", "gauge",
	  "Connection slots whose memory is held: the highest in use since the thread was last "
	  "quiet (a burst's go back within seconds of it).",
	  offsetof(struct pxd_metrics_ingest, conn_slots_resident) },
	{ "pixeld_connections_accepted_total", "counter", "Client connections accepted.",
	  offsetof(struct pxd_metrics_ingest, conn_accepted) },
	{ "pixeld_connections_refused_total", "counter",
	  "Connections closed at once because server.max_connections was reached.",
	  offsetof(struct pxd_metrics_ingest, conn_refused) },
	{ "pixeld_request_timeouts_total", "counter",
	  "Requests not finished within server.request_timeout (408).",
	  offsetof(struct pxd_metrics_ingest, conn_timeouts) },
	{ "pixeld_idle_closed_total", "counter",
	  "Keep-alive connections closed after server.idle_timeout.",
	  offsetof(struct pxd_metrics_ingest, conn_idle_closed) },
	{ "pixeld_bytes_received_total", "counter", "Bytes read from clients.",
	  offsetof(struct pxd_metrics_ingest, bytes_in) },
	{ "pixeld_bytes_sent_total", "counter", "Bytes written to clients.",
	  offsetof(struct pxd_metrics_ingest, bytes_out) },
	{ "pixeld_recv_buffer_exhausted_total", "counter",
	  "Times every receive buffer was in use (back-pressure, not loss).",
	  offsetof(struct pxd_metrics_ingest, recv_nobufs) },
	{ "pixeld_handoff_ring_full_total", "counter",
	  "Events journaled but not handed off because the ring was full (the shard reads them "
	  "back from the journal).",
	  offsetof(struct pxd_metrics_ingest, ring_full) },
	{ "pixeld_journal_bytes", "gauge", "Bytes of journal segments on disk or being written.",
	  offsetof(struct pxd_metrics_ingest, journal_bytes) },
	{ "pixeld_journal_segments", "gauge", "Journal segment files.",
	  offsetof(struct pxd_metrics_ingest, journal_segments) },
	{ "pixeld_journal_errors_total", "counter",
	  "Journal writes or syncs that failed (disk full, I/O error); they are retried.",
	  offsetof(struct pxd_metrics_ingest, journal_errors) },
	{ "pixeld_journal_writes_total", "counter", "Journal writes of records completed.",
	  offsetof(struct pxd_metrics_ingest, journal_writes) },
	{ "pixeld_journal_writes_inline_total", "counter",
	  "Of them, written by the ingest thread itself (ack=fast on a healthy disk) rather than "
	  "by io_uring's workers.",
	  offsetof(struct pxd_metrics_ingest, journal_writes_inline) },
	{ "pixeld_segment_hashed_traits_dropped_total", "counter",
	  "Segment *_sha256 traits left out because they were not 64 lowercase hex digits "
	  "(the event was accepted without them).",
	  offsetof(struct pxd_metrics_ingest, segment_hashed_dropped) },
};

static void render_ingest(const struct pxd_metrics *m, struct pxd_buf *out)
{
	pxd_buf_puts(out,
		     "# HELP pixeld_requests_total Requests answered, by endpoint and status.\n"
		     "# TYPE pixeld_requests_total counter\n");
	for (unsigned e = 0; e < PXD_EP_COUNT; e++) {
		for (unsigned s = 0; s < PXD_ST_COUNT; s++) {
			uint64_t n = 0;

			for (unsigned i = 0; i < m->ningest; i++)
				n += pxd_stat_get(&m->ingest[i].requests[e][s]);
			if (n)
				pxd_buf_printf(
				    out,
				    "pixeld_requests_total{endpoint=\"%s\",status=\"%u\"} "
				    "%lu\n",
				    endpoint_names[e], status_codes[s], n);
		}
	}
	pxd_buf_puts(out, "# HELP pixeld_events_accepted_total Events accepted, by endpoint.\n"
			  "# TYPE pixeld_events_accepted_total counter\n");
	for (unsigned e = 0; e < PXD_EP_COUNT; e++)
		pxd_buf_printf(out, "pixeld_events_accepted_total{endpoint=\"%s\"} %lu\n",
			       endpoint_names[e],
			       sum_ingest(m, offsetof(struct pxd_metrics_ingest, events_accepted) +
						 e * sizeof(uint64_t)));
	pxd_buf_puts(out, "# HELP pixeld_events_rejected_total Requests or events refused, by "
			  "reason.\n# TYPE pixeld_events_rejected_total counter\n");
	for (unsigned r = 1; r < PXD_REFUSAL_COUNT; r++) {
		uint64_t n = sum_ingest(m, offsetof(struct pxd_metrics_ingest, events_rejected) +
					       r * sizeof(uint64_t));

		if (n)
			pxd_buf_printf(out, "pixeld_events_rejected_total{reason=\"%s\"} %lu\n",
				       pxd_refusal_info((enum pxd_refusal)r)->code, n);
	}
	for (size_t k = 0; k < ARRAY_SIZE(ingest_scalars); k++) {
		const struct scalar *s = &ingest_scalars[k];

		pxd_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %lu\n", s->name, s->help,
			       s->name, s->type, s->name, sum_ingest(m, s->off));
	}
}

struct dest_field {
	const char *name;
	const char *help;
	size_t off;
};

static const struct dest_field dest_fields[] = {
	{ "pixeld_destination_events_delivered_total", "Events delivered, by destination.",
	  offsetof(struct pxd_metrics_dest, events_delivered) },
	{ "pixeld_destination_events_retried_total", "Event deliveries to be retried.",
	  offsetof(struct pxd_metrics_dest, events_retried) },
	{ "pixeld_destination_events_failed_total", "Events that failed permanently.",
	  offsetof(struct pxd_metrics_dest, events_failed) },
	{ "pixeld_destination_events_filtered_total",
	  "Events skipped by the destination's events filter.",
	  offsetof(struct pxd_metrics_dest, events_filtered) },
	{ "pixeld_destination_batches_total", "Batches written or sent (sink writes).",
	  offsetof(struct pxd_metrics_dest, batches) },
	{ "pixeld_destination_write_errors_total", "Batches whose write or request failed.",
	  offsetof(struct pxd_metrics_dest, write_errors) },
	{ "pixeld_destination_syncs_total", "fsync calls of local sinks.",
	  offsetof(struct pxd_metrics_dest, syncs) },
	{ "pixeld_destination_sync_errors_total", "fsync calls that failed.",
	  offsetof(struct pxd_metrics_dest, sync_errors) },
};

static void render_dests(const struct pxd_metrics *m, struct pxd_buf *out)
{
	for (size_t k = 0; k < ARRAY_SIZE(dest_fields); k++) {
		const struct dest_field *f = &dest_fields[k];

		pxd_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", f->name, f->help, f->name);
		for (unsigned d = 0, nd = pxd_metrics_ndests(m); d < nd; d++) {
			uint64_t n = 0;

			for (unsigned s = 0; s < m->nshards; s++)
				n += pxd_stat_get(
				    (const uint64_t *)((const char *)pxd_metrics_dest_row(m, s, d) +
						       f->off));
			pxd_buf_printf(out, "%s{destination=\"%s\"} %lu\n", f->name,
				       m->dest_names[d], n);
		}
	}
}

static void render_commit_latency(const struct pxd_metrics *m, struct pxd_buf *out)
{
	uint64_t cum = 0;

	pxd_buf_puts(out, "# HELP pixeld_journal_commit_seconds Time of one journal write or "
			  "fdatasync.\n# TYPE pixeld_journal_commit_seconds histogram\n");
	for (unsigned b = 0; b <= PXD_COMMIT_BUCKETS; b++) {
		cum += sum_ingest(m, offsetof(struct pxd_metrics_ingest, journal_commit_ms) +
					 b * sizeof(uint64_t));
		if (b < PXD_COMMIT_BUCKETS)
			pxd_buf_printf(out, "pixeld_journal_commit_seconds_bucket{le=\"%g\"} %lu\n",
				       pxd_commit_bucket_ms[b] / 1000.0, cum);
		else
			pxd_buf_printf(
			    out, "pixeld_journal_commit_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
	}
	pxd_buf_printf(
	    out,
	    "pixeld_journal_commit_seconds_sum %.3f\npixeld_journal_commit_seconds_count "
	    "%lu\n",
	    (double)sum_ingest(m, offsetof(struct pxd_metrics_ingest, journal_commit_ms_sum)) /
		1000.0,
	    cum);
}

static void render_email(const struct pxd_metrics *m, struct pxd_buf *out)
{
	pxd_buf_puts(out, "# HELP pixeld_email_tokens_rejected_total Email open pixels whose token "
			  "was refused (no event), by reason.\n"
			  "# TYPE pixeld_email_tokens_rejected_total counter\n");
	for (unsigned v = 1; v < PXD_EMAIL_VERDICT_COUNT; v++)
		pxd_buf_printf(out, "pixeld_email_tokens_rejected_total{reason=\"%s\"} %lu\n",
			       pxd_email_verdict_name((enum pxd_email_verdict)v),
			       sum_ingest(m, offsetof(struct pxd_metrics_ingest, email_rejected) +
						 v * sizeof(uint64_t)));
	pxd_buf_puts(out, "# HELP pixeld_email_opens_total Valid email opens, by open_kind.\n"
			  "# TYPE pixeld_email_opens_total counter\n");
	for (unsigned k = 0; k < PXD_OPEN_KIND_COUNT; k++)
		pxd_buf_printf(out, "pixeld_email_opens_total{kind=\"%s\"} %lu\n",
			       pxd_mail_proxy_kind_name((enum pxd_open_kind)k),
			       sum_ingest(m, offsetof(struct pxd_metrics_ingest, email_opens) +
						 k * sizeof(uint64_t)));
	pxd_buf_printf(
	    out,
	    "# HELP pixeld_email_first_opens_total Opens that were the first of their "
	    "(message, recipient) within email.first_open_window.\n"
	    "# TYPE pixeld_email_first_opens_total counter\npixeld_email_first_opens_total %lu\n"
	    "# HELP pixeld_email_first_open_evictions_total Remembered opens pushed out of the "
	    "full first-open table (raise email.dedup_slots when this grows).\n"
	    "# TYPE pixeld_email_first_open_evictions_total counter\n"
	    "pixeld_email_first_open_evictions_total %lu\n",
	    sum_ingest(m, offsetof(struct pxd_metrics_ingest, first_open.first)),
	    sum_ingest(m, offsetof(struct pxd_metrics_ingest, first_open.evicted)));
}

int pxd_metrics_render(const struct pxd_metrics *m, struct pxd_buf *out)
{
	render_ingest(m, out);
	render_commit_latency(m, out);
	render_email(m, out);
	render_dests(m, out);
	return out->p ? 0 : -ENOMEM;
}
