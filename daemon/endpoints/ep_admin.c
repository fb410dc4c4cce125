// SPDX-License-Identifier: MIT
/*
 * Admin listener: GET /metrics (Prometheus text) and GET /admin/status (JSON
 * for pixelctl). Cold path: these allocate their answer.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "daemon/endpoints/dest_backlog.h"
#include "daemon/endpoints/metrics_liveness.h"
#include "daemon/tenant/tenant.h"
#include "dispatcher.h"
#include "ingest.h"
#include "jsonw.h"
#include "nats_consume.h"
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

static void render_journal_backlog(const struct pxd_daemon *d, struct pxd_buf *out)
{
	uint64_t replayed = 0;

	pxd_buf_puts(out, "# HELP pixeld_destination_backlog_bytes Journal bytes written and not "
			  "yet delivered, by destination (approximate across segments).\n"
			  "# TYPE pixeld_destination_backlog_bytes gauge\n");
	for (unsigned i = 0, nd = pxd_metrics_ndests(&d->metrics); i < nd; i++)
		pxd_buf_printf(out, "pixeld_destination_backlog_bytes{destination=\"%s\"} %lu\n",
			       d->metrics.dest_names[i], pxd_dest_backlog_bytes(d, i));
	pxd_buf_puts(out, "# HELP pixeld_destination_backlog_streams Journal streams on which the "
			  "destination is behind the others and reads at its own cursor.\n"
			  "# TYPE pixeld_destination_backlog_streams gauge\n");
	for (unsigned i = 0, nd = pxd_metrics_ndests(&d->metrics); i < nd; i++) {
		unsigned n = 0;

		for (unsigned s = 0; s < d->ndisp; s++)
			for (unsigned k = 0; k < d->disp[s].nstreams; k++)
				n += __atomic_load_n(&d->disp[s].streams[k].lag[i].lagging,
						     __ATOMIC_RELAXED) != 0;
		pxd_buf_printf(out, "pixeld_destination_backlog_streams{destination=\"%s\"} %u\n",
			       d->metrics.dest_names[i], n);
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
	for (unsigned i = 0, nd = pxd_metrics_ndests(&d->metrics); i < nd; i++) {
		struct pxd_metrics_dest t;

		pxd_metrics_dest_totals(&d->metrics, i, &t);
		pxd_buf_printf(
		    out, "pixeld_destination_oldest_pending_seconds{destination=\"%s\"} %.3f\n",
		    d->metrics.dest_names[i],
		    t.oldest_pending_ms ? (double)(now_ms - t.oldest_pending_ms) / 1000.0 : 0.0);
	}
}

/* The configuration generation in force and the reloads so far (conf_live.h). */
static void render_config(struct pxd_daemon *d, struct pxd_buf *out)
{
	struct pxd_conf_live *l = &d->live;

	pxd_buf_printf(out,
		       "# HELP pixeld_config_generation Configuration generation in force: 1 at "
		       "start, one more per applied reload.\n"
		       "# TYPE pixeld_config_generation gauge\npixeld_config_generation %lu\n"
		       "# HELP pixeld_config_reloads_total Reloads (SIGHUP, pixelctl reload) by "
		       "result: ok (applied) or refused (the running configuration stays).\n"
		       "# TYPE pixeld_config_reloads_total counter\n",
		       (unsigned long)__atomic_load_n(&l->generation, __ATOMIC_ACQUIRE));
	for (enum pxd_conf_reload_result r = PXD_CONF_RELOAD_OK; r < PXD_CONF_RELOAD_RESULT_COUNT;
	     r++)
		pxd_buf_printf(out, "pixeld_config_reloads_total{result=\"%s\"} %lu\n",
			       pxd_conf_reload_result_name(r),
			       (unsigned long)__atomic_load_n(&l->reloads[r], __ATOMIC_RELAXED));
}

static void put_int(struct pxd_jsonw *w, const char *key, int64_t v)
{
	pxd_jsonw_key(w, key, strlen(key));
	pxd_jsonw_int(w, v);
}

static void put_str(struct pxd_jsonw *w, const char *key, const char *v)
{
	pxd_jsonw_key(w, key, strlen(key));
	pxd_jsonw_string(w, v, strlen(v));
}

/*
 * ,"config":{...} of /admin/status: generation, reload counts, the last
 * outcome. With jsonw: jansson's memory on this thread is the request arena.
 */
static void status_config(struct pxd_daemon *d, struct pxd_buf *out)
{
	struct pxd_conf_live *l = &d->live;
	enum pxd_conf_reload_result r;
	char error[1024];
	char text[sizeof(error) * 2 + sizeof(d->conf->path) * 2 + 256];
	struct pxd_jsonw w;
	ssize_t n;
	int64_t ms;

	pxd_conf_live_last(l, &r, &ms, error, sizeof(error));
	pxd_jsonw_init(&w, text, sizeof(text));
	pxd_jsonw_object_begin(&w);
	put_str(&w, "path", d->conf->path);
	put_int(&w, "generation", (int64_t)__atomic_load_n(&l->generation, __ATOMIC_ACQUIRE));
	put_int(&w, "reloads_ok",
		(int64_t)__atomic_load_n(&l->reloads[PXD_CONF_RELOAD_OK], __ATOMIC_RELAXED));
	put_int(&w, "reloads_refused",
		(int64_t)__atomic_load_n(&l->reloads[PXD_CONF_RELOAD_REFUSED], __ATOMIC_RELAXED));
	pxd_jsonw_key(&w, "last_reload", 11);
	pxd_jsonw_object_begin(&w);
	put_str(&w, "result", pxd_conf_reload_result_name(r));
	put_int(&w, "at_ms", ms);
	put_str(&w, "error", error);
	pxd_jsonw_object_end(&w);
	pxd_jsonw_object_end(&w);
	n = pxd_jsonw_finish(&w);
	if (n > 0)
		pxd_buf_printf(out, ",\"config\":%.*s", (int)n, text);
}

void pxd_ep_metrics(struct pxd_reqctx *rc)
{
	const struct pxd_daemon *d = rc->ing->d;
	struct pxd_buf out = { 0 };

	pxd_metrics_render(&d->metrics, &out);
	pxd_tenant_metrics_render(&d->metrics, &rc->conf->tenants, &out);
	render_config(rc->ing->d, &out);
	render_handoff(d, &out);
	render_backlog(d, rc->ing->now_ms, &out);
	render_journal_backlog(d, &out);
	pxd_xdp_ctl_metrics(d->xdp, &out);
	pxd_tls_metrics_render(d->tls, &d->metrics, rc->ing->now_ms, &out);
	pxd_dispatch_metrics_render(d, &out);
	pxd_nats_consume_metrics(d, &out);
	pxd_metrics_liveness_render(d, rc->ing->mono_ms, &out);
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
	for (unsigned i = 0, nd = pxd_metrics_ndests(&d->metrics); i < nd; i++) {
		struct pxd_metrics_dest dt;

		pxd_metrics_dest_totals(&d->metrics, i, &dt);
		pxd_buf_printf(
		    &out,
		    "%s{\"name\":\"%s\",\"type\":\"%s\",\"delivered\":%lu,\"failed\":%lu,"
		    "\"retried\":%lu,\"backlog\":%zu,\"oldest_pending_ms\":%ld}",
		    i ? "," : "", d->metrics.dest_names[i],
		    i < rc->conf->ndests ? rc->conf->dests[i].type : "", dt.events_delivered,
		    dt.events_failed, dt.events_retried, pxd_dispatcher_backlog(d, i),
		    (long)(dt.oldest_pending_ms ? rc->ing->now_ms - dt.oldest_pending_ms : 0));
	}
	pxd_buf_puts(&out, "]");
	status_config(rc->ing->d, &out);
	pxd_buf_puts(&out, "}");
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
