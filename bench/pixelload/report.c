// SPDX-License-Identifier: MIT
/*
 * report.c - pixelload's output: the progress line, merging the workers'
 * counts, the text summary, and the JSON result (jansson).
 */
#include "report.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "compiler.h"

void pl_report_progress(struct pl_worker *ws, unsigned n, double t, uint64_t *last, bool tty)
{
	uint64_t ans = 0, failed = 0, non2xx = 0, p99 = 0;

	for (unsigned i = 0; i < n; i++) {
		ans += atomic_load_explicit(&ws[i].pub_answered, memory_order_relaxed);
		failed += atomic_load_explicit(&ws[i].pub_failed, memory_order_relaxed);
		non2xx += atomic_load_explicit(&ws[i].pub_non2xx, memory_order_relaxed);
		p99 = PXD_MAX(p99, atomic_load_explicit(&ws[i].pub_p99, memory_order_relaxed));
	}
	if (tty)
		fprintf(stderr,
			"\r%6.1fs %10llu req/s  answered %llu  non-2xx %llu  failed %llu  "
			"p99 %llu us\033[K",
			t, (unsigned long long)(ans - *last), (unsigned long long)ans,
			(unsigned long long)non2xx, (unsigned long long)failed,
			(unsigned long long)p99);
	*last = ans;
}

void pl_report_merge(struct pl_stats *into, const struct pl_stats *s)
{
	into->sent += s->sent;
	into->answered += s->answered;
	into->failed += s->failed;
	into->non2xx += s->non2xx;
	into->conns_opened += s->conns_opened;
	into->bytes_sent += s->bytes_sent;
	into->bytes_recv += s->bytes_recv;
	into->unsent_at_end += s->unsent_at_end;
	into->in_flight_at_end += s->in_flight_at_end;
	into->idle_closed += s->idle_closed;
	into->tls_handshakes += s->tls_handshakes;
	into->tls_resumed += s->tls_resumed;
	for (unsigned i = 0; i < 600; i++)
		into->status[i] += s->status[i];
	for (unsigned i = 0; i < PL_FAIL_COUNT; i++)
		into->err[i] += s->err[i];
	for (unsigned k = 0; k < PL_KIND_COUNT; k++) {
		into->kind[k].sent += s->kind[k].sent;
		into->kind[k].answered += s->kind[k].answered;
		into->kind[k].ok += s->kind[k].ok;
		into->kind[k].events += s->kind[k].events;
		into->kind[k].bot_ok += s->kind[k].bot_ok;
		into->kind[k].bot_events += s->kind[k].bot_events;
	}
	pl_hist_merge(&into->lat, &s->lat);
	pl_hist_merge(&into->lag, &s->lag);
}

static json_t *lat_json(const struct pl_hist *h)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "count", (json_int_t)h->count, "min",
			 (json_int_t)h->min, "p50", (json_int_t)pl_hist_pct(h, 50), "p90",
			 (json_int_t)pl_hist_pct(h, 90), "p99", (json_int_t)pl_hist_pct(h, 99),
			 "p99_9", (json_int_t)pl_hist_pct(h, 99.9), "max", (json_int_t)h->max,
			 "mean", h->count ? (double)h->sum / (double)h->count : 0.0);
}

static json_t *config_json(const struct pl_opts *o)
{
	json_t *mix = json_object(), *argv = json_array();

	for (int k = 0; k < PL_MIX_KINDS; k++)
		if (o->weight[k] > 0)
			json_object_set_new(mix, pl_kind_name[k], json_real(o->weight[k]));
	for (int i = 0; i < o->argc; i++)
		json_array_append_new(argv, json_string(o->argv[i]));
	return json_pack(
	    "{s:o,s:s,s:s,s:s,s:I,s:I,s:I,s:b,s:I,s:f,s:I,s:s,s:f,s:f,s:o,s:I,s:f,s:f,s:b,s:f}",
	    "argv", argv, "target", o->target, "host", o->host, "loop", o->rate ? "open" : "closed",
	    "threads", (json_int_t)o->threads, "connections", (json_int_t)o->conns, "pipeline",
	    (json_int_t)o->pipeline, "new_conn", o->new_conn, "sources", (json_int_t)o->sources,
	    "duration_s", o->duration_s, "requests", (json_int_t)o->requests, "profile", o->profile,
	    "rate", o->rate, "burst_factor", o->burst ? o->burst_factor : 1.0, "mix", mix, "batch",
	    (json_int_t)o->batch, "bot_share", o->bot_share, "forged_share", o->forged_share,
	    "idle", o->idle, "timeout_s", o->timeout_s);
}

int pl_report_json(const struct pl_opts *o, const struct pl_pool *pool, const struct pl_stats *st,
		   struct pl_worker *ws, double elapsed, double cpu_s, uint64_t idle_ready)
{
	json_t *root = json_object(), *status = json_object(), *errs = json_object();
	json_t *kinds = json_object(), *series = json_array();
	size_t nsec = 0;
	char key[8];
	int err = 0;

	for (unsigned i = 0; i < 600; i++)
		if (st->status[i]) {
			snprintf(key, sizeof(key), "%u", i);
			json_object_set_new(status, key, json_integer((json_int_t)st->status[i]));
		}
	for (unsigned e = 0; e < PL_FAIL_COUNT; e++)
		json_object_set_new(errs, pl_fail_name[e], json_integer((json_int_t)st->err[e]));
	for (unsigned k = 0; k < PL_KIND_COUNT; k++) {
		const struct pl_kstats *s = &st->kind[k];

		if (s->sent)
			json_object_set_new(
			    kinds, pl_kind_name[k],
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "sent", (json_int_t)s->sent,
				      "answered", (json_int_t)s->answered, "ok_2xx",
				      (json_int_t)s->ok, "events_in_2xx", (json_int_t)s->events,
				      "bot_ok_2xx", (json_int_t)s->bot_ok, "bot_events_in_2xx",
				      (json_int_t)s->bot_events));
	}
	for (unsigned i = 0; i < o->threads; i++)
		nsec = PXD_MAX(nsec, ws[i].used_secs);
	for (size_t t = 0; t < nsec; t++) {
		struct pl_hist *h = calloc(1, sizeof(*h));
		uint64_t ans = 0, errors = 0, non2xx = 0;

		if (!h) {
			err = -ENOMEM;
			break;
		}
		for (unsigned i = 0; i < o->threads; i++) {
			if (t >= ws[i].used_secs)
				continue;
			ans += ws[i].secs[t].answered;
			errors += ws[i].secs[t].errors;
			non2xx += ws[i].secs[t].non2xx;
			if (ws[i].secs[t].h)
				pl_hist_merge(h, ws[i].secs[t].h);
		}
		json_array_append_new(
		    series, json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "t", (json_int_t)t, "answered",
				      (json_int_t)ans, "non_2xx", (json_int_t)non2xx, "errors",
				      (json_int_t)errors, "p50_us", (json_int_t)pl_hist_pct(h, 50),
				      "p99_us", (json_int_t)pl_hist_pct(h, 99)));
		free(h);
	}
	uint64_t events = 0, bot_events = 0;

	for (unsigned k = 0; k < PL_KIND_COUNT; k++) {
		events += st->kind[k].events;
		bot_events += st->kind[k].bot_events;
	}
	json_object_set_new(root, "tool", json_string("pixelload"));
	json_object_set_new(root, "run_id", json_string(pool->run_id));
	json_object_set_new(root, "config", config_json(o));
	json_object_set_new(
	    root, "totals",
	    json_pack("{s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:f}",
		      "elapsed_s", elapsed, "sent", (json_int_t)st->sent, "answered",
		      (json_int_t)st->answered, "ok_2xx", (json_int_t)(st->answered - st->non2xx),
		      "non_2xx", (json_int_t)st->non2xx, "failed", (json_int_t)st->failed,
		      "in_flight_at_end", (json_int_t)st->in_flight_at_end, "unsent_at_end",
		      (json_int_t)st->unsent_at_end, "answered_per_s",
		      elapsed > 0 ? (double)st->answered / elapsed : 0.0, "ok_per_s",
		      elapsed > 0 ? (double)(st->answered - st->non2xx) / elapsed : 0.0,
		      "events_in_2xx", (json_int_t)events, "bot_events_in_2xx",
		      (json_int_t)bot_events, "connections_opened", (json_int_t)st->conns_opened,
		      "bytes_sent", (json_int_t)st->bytes_sent, "bytes_received",
		      (json_int_t)st->bytes_recv, "client_cpu_s", cpu_s));
	json_object_set_new(root, "status", status);
	json_object_set_new(root, "errors", errs);
	json_object_set_new(root, "kinds", kinds);
	json_object_set_new(root, "latency_us", lat_json(&st->lat));
	json_object_set_new(root, "latency_from",
			    json_string(o->rate	      ? "intended send time (open loop)"
					: o->new_conn ? "connect start"
						      : "send time (closed loop)"));
	if (o->rate)
		json_object_set_new(root, "send_lag_us", lat_json(&st->lag));
	if (o->idle)
		json_object_set_new(root, "idle",
				    json_pack("{s:I,s:I,s:I}", "connections", (json_int_t)o->conns,
					      "answered_at_ready", (json_int_t)idle_ready,
					      "closed_by_server", (json_int_t)st->idle_closed));
	if (o->tls)
		json_object_set_new(
		    root, "tls",
		    json_pack("{s:I,s:I,s:b}", "handshakes", (json_int_t)st->tls_handshakes,
			      "resumed", (json_int_t)st->tls_resumed, "resume", o->tls_resume));
	json_object_set_new(root, "series", series);
	if (!err && json_dump_file(root, o->json_path, JSON_INDENT(1)) < 0) {
		fprintf(stderr,
			"pixelload: cannot write %s: check the directory exists and is "
			"writable\n",
			o->json_path);
		err = -EIO;
	}
	json_decref(root);
	return err;
}

void pl_report_summary(const struct pl_opts *o, const struct pl_stats *st, double elapsed)
{
	const struct pl_hist *h = &st->lat;
	uint64_t events = 0, bot_events = 0;
	bool any = false;

	printf("pixelload: %s, %s loop%s, %u %s connection%s, pipeline %u, %u thread%s, %.1f s\n",
	       o->target, o->rate ? "open" : "closed", o->burst ? " (burst)" : "", o->conns,
	       o->new_conn ? "new" : "keep-alive", o->conns == 1 ? "" : "s", o->pipeline,
	       o->threads, o->threads == 1 ? "" : "s", elapsed);
	if (o->tls)
		printf("tls:      %llu handshakes, %llu of them resumed%s\n",
		       (unsigned long long)st->tls_handshakes, (unsigned long long)st->tls_resumed,
		       o->tls_resume ? "" : " (no --tls-resume)");
	printf("requests: %llu sent, %llu answered, %llu of them 2xx (%.0f 2xx/s), %llu failed, "
	       "%llu in flight at end\n",
	       (unsigned long long)st->sent, (unsigned long long)st->answered,
	       (unsigned long long)(st->answered - st->non2xx),
	       elapsed > 0 ? (double)(st->answered - st->non2xx) / elapsed : 0.0,
	       (unsigned long long)st->failed, (unsigned long long)st->in_flight_at_end);
	printf("status:  ");
	for (unsigned i = 0; i < 600; i++)
		if (st->status[i])
			printf(" %u x%llu", i, (unsigned long long)st->status[i]);
	printf("%s\nerrors:  ", st->answered ? "" : " (none)");
	for (unsigned e = 0; e < PL_FAIL_COUNT; e++)
		if (st->err[e]) {
			printf(" %s %llu", pl_fail_name[e], (unsigned long long)st->err[e]);
			any = true;
		}
	printf("%s\n", any ? "" : " none");
	printf("latency from %s: p50 %llu us, p90 %llu, p99 %llu, p99.9 %llu, max %llu\n",
	       o->rate	     ? "intended send"
	       : o->new_conn ? "connect"
			     : "send",
	       (unsigned long long)pl_hist_pct(h, 50), (unsigned long long)pl_hist_pct(h, 90),
	       (unsigned long long)pl_hist_pct(h, 99), (unsigned long long)pl_hist_pct(h, 99.9),
	       (unsigned long long)h->max);
	for (unsigned k = 0; k < PL_KIND_COUNT; k++) {
		events += st->kind[k].events;
		bot_events += st->kind[k].bot_events;
	}
	printf("events:   %llu in 2xx answers, %llu more from bot user agents\n",
	       (unsigned long long)events, (unsigned long long)bot_events);
	if (o->rate) /* part of the latency: no free connection, or pixelload itself behind */
		printf("send lag (intended to actual send): p50 %llu us, p99 %llu, max %llu\n",
		       (unsigned long long)pl_hist_pct(&st->lag, 50),
		       (unsigned long long)pl_hist_pct(&st->lag, 99),
		       (unsigned long long)st->lag.max);
	if (st->non2xx)
		printf("WARNING: %llu answers were not 2xx (listed under status); they are not "
		       "successes\n",
		       (unsigned long long)st->non2xx);
	if (st->unsent_at_end)
		printf(
		    "WARNING: %llu requests were due but never sent: the target could not keep up "
		    "with the rate; the percentiles leave them out\n",
		    (unsigned long long)st->unsent_at_end);
}
