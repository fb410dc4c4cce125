// SPDX-License-Identifier: MIT
/*
 * Admin listener: GET /metrics (Prometheus text) and GET /admin/status (JSON
 * for pixelctl). Cold path: these allocate their answer.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>

#include "buf.h"
#include "dispatcher.h"
#include "ingest.h"
#include "router.h"
#include "xdp_ctl.h"

static void render_handoff(const struct pxd_daemon *d, struct pxd_buf *out)
{
	pxd_buf_printf(out, "# HELP pixeld_handoff_ring_occupancy Events waiting in the rings "
			    "to each dispatcher shard.\n"
			    "# TYPE pixeld_handoff_ring_occupancy gauge\n");
	for (unsigned s = 0; s < d->ndisp; s++)
		pxd_buf_printf(out, "pixeld_handoff_ring_occupancy{shard=\"%u\"} %zu\n", s,
			       pxd_handoff_backlog(d->handoff, s));
	pxd_buf_printf(out,
		       "# HELP pixeld_handoff_ring_capacity Slots of each (ingest, shard) ring.\n"
		       "# TYPE pixeld_handoff_ring_capacity gauge\n"
		       "pixeld_handoff_ring_capacity %u\n",
		       pxd_handoff_capacity(d->handoff));
}

/* Journal bytes between a watermark and the written end; across segments
 * the full ones count as journal.segment_bytes (approximate by design). */
static uint64_t pos_gap(uint64_t end, uint64_t wm, uint64_t segment_bytes)
{
	uint32_t es = pxd_journal_pos_seq(end), ws = pxd_journal_pos_seq(wm);

	if (end <= wm)
		return 0;
	if (es == ws || ws == 0)
		return es == ws ? pxd_journal_pos_off(end) - pxd_journal_pos_off(wm)
				: pxd_journal_pos_off(end);
	return (uint64_t)(es - ws) * segment_bytes + pxd_journal_pos_off(end) -
	       PXD_MIN(pxd_journal_pos_off(wm), segment_bytes);
}

static void render_journal_backlog(const struct pxd_daemon *d, struct pxd_buf *out)
{
	uint64_t replayed = 0;

	pxd_buf_puts(out, "# HELP pixeld_destination_backlog_bytes Journal bytes written and not "
			  "yet delivered, by destination (approximate across segments).\n"
			  "# TYPE pixeld_destination_backlog_bytes gauge\n");
	for (unsigned i = 0; i < d->metrics.ndests; i++) {
		uint64_t bytes = 0;

		for (unsigned s = 0; s < d->ndisp; s++) {
			const struct pxd_dispatcher *ds = &d->disp[s];

			for (unsigned k = 0; k < ds->nstreams; k++)
				bytes += pos_gap(
				    __atomic_load_n(&d->ingest[k].streams[s].written,
						    __ATOMIC_ACQUIRE),
				    __atomic_load_n(&ds->streams[k].wm[i], __ATOMIC_ACQUIRE),
				    d->conf->segment_bytes);
		}
		pxd_buf_printf(out, "pixeld_destination_backlog_bytes{destination=\"%s\"} %lu\n",
			       d->metrics.dest_names[i], bytes);
	}
	for (unsigned s = 0; s < d->ndisp; s++)
		replayed += __atomic_load_n(&d->disp[s].replayed, __ATOMIC_RELAXED);
	pxd_buf_printf(out,
		       "# HELP pixeld_journal_replayed_total Events the shards read back from the "
		       "journal (replay at start, and catching up after a full ring).\n"
		       "# TYPE pixeld_journal_replayed_total counter\n"
		       "pixeld_journal_replayed_total %lu\n",
		       replayed);
}

static void render_backlog(const struct pxd_daemon *d, int64_t now_ms, struct pxd_buf *out)
{
	pxd_buf_puts(out, "# HELP pixeld_destination_oldest_pending_seconds Age of the oldest "
			  "event not yet delivered, by destination.\n"
			  "# TYPE pixeld_destination_oldest_pending_seconds gauge\n");
	for (unsigned i = 0; i < d->metrics.ndests; i++) {
		struct pxd_metrics_dest t;

		pxd_metrics_dest_totals(&d->metrics, i, &t);
		pxd_buf_printf(
		    out, "pixeld_destination_oldest_pending_seconds{destination=\"%s\"} %.3f\n",
		    d->metrics.dest_names[i],
		    t.oldest_pending_ms ? (double)(now_ms - t.oldest_pending_ms) / 1000.0 : 0.0);
	}
}

void pxd_ep_metrics(struct pxd_reqctx *rc)
{
	const struct pxd_daemon *d = rc->ing->d;
	struct pxd_buf out = { 0 };

	pxd_metrics_render(&d->metrics, &out);
	render_handoff(d, &out);
	render_backlog(d, rc->ing->now_ms, &out);
	render_journal_backlog(d, &out);
	pxd_xdp_ctl_metrics(d->xdp, &out);
	pxd_dispatch_metrics_render(d, &out);
	pxd_buf_printf(&out,
		       "# HELP pixeld_uptime_seconds Seconds since pixeld started.\n"
		       "# TYPE pixeld_uptime_seconds gauge\npixeld_uptime_seconds %ld\n"
		       "# HELP pixeld_build_info Version of the running binary.\n"
		       "# TYPE pixeld_build_info gauge\npixeld_build_info{version=\"%s\"} 1\n",
		       (long)((rc->ing->now_ms - d->started_ms) / 1000), d->version);
	if (out.p)
		pxd_reply_body(rc, 200, "text/plain; version=0.0.4", out.p, out.len, NULL);
	else
		pxd_reply_refusal(rc, PXD_REFUSAL_INTERNAL, "out of memory rendering metrics");
	pxd_buf_free(&out);
}

void pxd_ep_admin_status(struct pxd_reqctx *rc)
{
	const struct pxd_daemon *d = rc->ing->d;
	struct pxd_metrics_totals t;
	struct pxd_buf out = { 0 };

	pxd_metrics_totals(&d->metrics, &t);
	pxd_buf_printf(&out,
		       "{\"version\":\"%s\",\"uptime_s\":%ld,\"ingest_threads\":%u,"
		       "\"dispatchers\":%u,\"connections\":%lu,\"requests\":%lu,"
		       "\"events_accepted\":%lu,\"events_rejected\":%lu,\"destinations\":[",
		       d->version, (long)((rc->ing->now_ms - d->started_ms) / 1000), d->ningest,
		       d->ndisp, t.conn_open, t.requests, t.events_accepted, t.events_rejected);
	for (unsigned i = 0; i < d->metrics.ndests; i++) {
		struct pxd_metrics_dest dt;

		pxd_metrics_dest_totals(&d->metrics, i, &dt);
		pxd_buf_printf(
		    &out,
		    "%s{\"name\":\"%s\",\"type\":\"%s\",\"delivered\":%lu,\"failed\":%lu,"
		    "\"retried\":%lu,\"backlog\":%zu,\"oldest_pending_ms\":%ld}",
		    i ? "," : "", d->metrics.dest_names[i], d->conf->dests[i].type,
		    dt.events_delivered, dt.events_failed, dt.events_retried,
		    pxd_dispatcher_backlog(d, i),
		    (long)(dt.oldest_pending_ms ? rc->ing->now_ms - dt.oldest_pending_ms : 0));
	}
	pxd_buf_puts(&out, "]}");
	if (out.p)
		pxd_reply_body(rc, 200, "application/json", out.p, out.len, NULL);
	else
		pxd_reply_refusal(rc, PXD_REFUSAL_INTERNAL, "out of memory rendering status");
	pxd_buf_free(&out);
}

/*
 * POST /admin/pixel/generate: mints email open-pixel URLs for one request
 * object or a mail merge of up to 10,000, answered in the same order.
 */
void pxd_ep_admin_pixel_generate(struct pxd_reqctx *rc)
{
	const struct pxd_daemon *d = rc->ing->d;
	const struct pxd_conf_email *ce = &d->conf->email;
	struct pxd_email_mint opts = {
		.base_url = ce->base_url,
		.tenant = pxd_sv_cstr(ce->tenant[0] ? ce->tenant : d->conf->tenant),
		.default_ttl_s = ce->default_ttl_s,
		.now_s = (uint32_t)(rc->ing->now_ms / 1000),
	};
	struct pxd_buf out = { 0 };
	json_error_t jerr;
	unsigned status;
	json_t *req;
	int rc_mint;

	req = json_loadb(rc->req->body.p, rc->req->body.n, JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		char detail[256];

		snprintf(detail, sizeof(detail), "line %d column %d: %s", jerr.line, jerr.column,
			 jerr.text);
		pxd_reply_refusal(rc, PXD_REFUSAL_BAD_JSON, detail);
		return;
	}
	rc_mint = pxd_email_token_mint_json(&d->email_keys, req, &opts, &out);
	json_decref(req);
	switch (rc_mint) {
	case 0:
		status = 200;
		break;
	case -EINVAL:
		status = 400;
		break;
	case -E2BIG:
		status = 413;
		break;
	case -ENOKEY:
	case -EDESTADDRREQ:
		status = 503;
		break;
	default:
		pxd_buf_free(&out);
		pxd_reply_refusal(rc, PXD_REFUSAL_INTERNAL, "out of memory minting pixel URLs");
		return;
	}
	pxd_reply_body(rc, status, "application/json", out.p, out.len, NULL);
	pxd_buf_free(&out);
}
