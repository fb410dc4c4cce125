// SPDX-License-Identifier: MIT
#include "daemon/console/console_stats.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon/console/console_xdp.h"
#include "daemon/endpoints/dest_backlog.h"
#include "dispatcher.h"
#include "ingest.h"
#include "xdp_ctl.h"

static const char *const breaker_names[] = { "closed", "open", "half-open" };

static uint64_t get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void pxd_console_count(struct pxd_console_counts *c, const char *name, int kind)
{
	struct pxd_console_count *it = NULL;

	for (unsigned i = 0; i < c->n && !it; i++)
		if (strcmp(c->items[i].name, name) == 0)
			it = &c->items[i];
	if (!it) {
		/* The last slot collects every name past the table's size. */
		it = &c->items[c->n < PXD_CONSOLE_KEYS ? c->n++ : PXD_CONSOLE_KEYS - 1];
		if (c->n < PXD_CONSOLE_KEYS || !it->name[0])
			snprintf(it->name, sizeof(it->name), "%s", name);
		else
			snprintf(it->name, sizeof(it->name), "other");
	}
	it->n++;
	if (kind >= 0 && kind < PXD_OPEN_KIND_COUNT)
		it->kind[kind]++;
}

/* Appends <s> as a JSON string. Console thread: allocating is fine; without
 * memory "" goes out (the snapshot stays valid JSON). */
static void str(struct pxd_buf *out, const char *s)
{
	json_t *j = json_string(s);
	char *text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	pxd_buf_puts(out, text ? text : "\"\"");
	free(text);
	json_decref(j);
}

static double rate(uint64_t now, uint64_t prev, double secs)
{
	return now >= prev ? (double)(now - prev) / secs : 0.0;
}

/* {"name": rate, ...} over <c>, rates since the last snapshot. */
static void counts_json(struct pxd_buf *out, struct pxd_console_counts *c, double secs)
{
	pxd_buf_puts(out, "{");
	for (unsigned i = 0; i < c->n; i++) {
		struct pxd_console_count *it = &c->items[i];

		pxd_buf_puts(out, i ? "," : "");
		str(out, it->name);
		pxd_buf_printf(out, ":%.2f", rate(it->n, it->prev, secs));
		it->prev = it->n;
	}
	pxd_buf_puts(out, "}");
}

static const char *endpoint_name(int i)
{
	return pxd_metrics_endpoint_name((enum pxd_endpoint)i);
}

static const char *refusal_name(int i)
{
	return pxd_refusal_info((enum pxd_refusal)i)->code;
}

/* {"name": rate, ...} for the counters of <now> that ever counted, named by
 * <name>, rates against <prev>; returns the sum of the rates. */
static double rates_json(struct pxd_buf *out, const uint64_t *now, const uint64_t *prev, int n,
			 const char *(*name)(int), double secs)
{
	double sum = 0;
	bool first = true;

	pxd_buf_puts(out, "{");
	for (int i = 0; i < n; i++) {
		double r = rate(now[i], prev[i], secs);

		sum += r;
		if (!now[i])
			continue;
		pxd_buf_printf(out, "%s\"%s\":%.2f", first ? "" : ",", name(i), r);
		first = false;
	}
	pxd_buf_puts(out, "}");
	return sum;
}

static void ingest_json(struct pxd_console_stats *s, const struct pxd_daemon *d, double secs,
			struct pxd_buf *out)
{
	uint64_t acc[PXD_EP_COUNT] = { 0 };
	uint64_t ref[PXD_REFUSAL_COUNT] = { 0 };
	uint64_t jbytes = 0, jsegs = 0, conns = 0;
	double acc_total, ref_total;

	for (unsigned i = 0; i < d->ningest; i++) {
		const struct pxd_metrics_ingest *m = &d->metrics.ingest[i];

		for (int e = 0; e < PXD_EP_COUNT; e++)
			acc[e] += get(&m->events_accepted[e]);
		for (int r = 0; r < PXD_REFUSAL_COUNT; r++)
			ref[r] += get(&m->events_rejected[r]);
		jbytes += get(&m->journal_bytes);
		jsegs += get(&m->journal_segments);
		conns += get(&m->conn_open);
	}
	pxd_buf_puts(out, ",\"accepted\":");
	acc_total = rates_json(out, acc, s->accepted, PXD_EP_COUNT, endpoint_name, secs);
	pxd_buf_puts(out, ",\"refused\":");
	ref_total = rates_json(out, ref, s->refused, PXD_REFUSAL_COUNT, refusal_name, secs);
	pxd_buf_printf(out,
		       ",\"accepted_per_s\":%.2f,\"refused_per_s\":%.2f,\"connections\":%llu,"
		       "\"journal\":{\"bytes\":%llu,\"segments\":%llu,\"max_bytes\":%llu}",
		       acc_total, ref_total, (unsigned long long)conns, (unsigned long long)jbytes,
		       (unsigned long long)jsegs, (unsigned long long)d->conf->max_bytes);
	memcpy(s->accepted, acc, sizeof(acc));
	memcpy(s->refused, ref, sizeof(ref));
}

/* The worst breaker (open, then half-open, then closed) over the shards that
 * send destination <i> over HTTP, and its dead letters; "none" for a local
 * sink. */
static const char *breaker_of(const struct pxd_daemon *d, unsigned i, uint64_t *dead)
{
	static const int worse[] = { 0, 2, 1 }; /* closed, open, half-open */
	int worst = -1;

	*dead = 0;
	for (unsigned sh = 0; sh < d->ndisp; sh++) {
		const struct pxd_dispatcher *ds = &d->disp[sh];
		uint64_t st;

		if (!ds->hd || !ds->hd[i].reqs)
			continue;
		st = get(&ds->hd[i].st.breaker_state);
		*dead += get(&ds->hd[i].st.dead_lettered);
		if (st < ARRAY_SIZE(breaker_names) && (worst < 0 || worse[st] > worse[worst]))
			worst = (int)st;
	}
	return worst < 0 ? "none" : breaker_names[worst];
}

/* The latest of destination <i>'s last errors over the shards, as "last_error" and its time. */
static void last_error_json(const struct pxd_daemon *d, unsigned i, struct pxd_buf *out)
{
	char text[sizeof(((struct pxd_dest_error *)0)->text)];
	char best[sizeof(text)] = "";
	int64_t best_ms = 0;

	for (unsigned sh = 0; sh < d->ndisp; sh++) {
		const struct pxd_dispatcher *ds = &d->disp[sh];
		int64_t at;

		if (ds->hd && ds->hd[i].reqs &&
		    pxd_dest_error_read(&ds->hd[i].last_error, &at, text, sizeof(text)) &&
		    at > best_ms) {
			best_ms = at;
			memcpy(best, text, sizeof(best));
		}
	}
	if (!best_ms) {
		pxd_buf_puts(out, ",\"last_error\":null,\"last_error_at_ms\":null");
		return;
	}
	pxd_buf_puts(out, ",\"last_error\":");
	str(out, best);
	pxd_buf_printf(out, ",\"last_error_at_ms\":%lld", (long long)best_ms);
}

static void dests_json(struct pxd_console_stats *s, const struct pxd_daemon *d, int64_t now_ms,
		       double secs, struct pxd_buf *out)
{
	pxd_buf_puts(out, ",\"destinations\":[");
	for (unsigned i = 0, nd = pxd_metrics_ndests(&d->metrics); i < nd; i++) {
		struct pxd_metrics_dest t;
		uint64_t *prev = &s->dest_prev[i * 3];
		uint64_t dead;
		const char *breaker = breaker_of(d, i, &dead);

		pxd_metrics_dest_totals(&d->metrics, i, &t);
		pxd_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
		str(out, d->metrics.dest_names[i]);
		pxd_buf_printf(
		    out,
		    ",\"delivered_per_s\":%.2f,\"failed_per_s\":%.2f,\"retried_per_s\":%.2f,"
		    "\"delivered\":%llu,\"failed\":%llu,\"pending\":%llu,\"oldest_pending_s\":%.1f,"
		    "\"dead_letters\":%llu,\"breaker\":\"%s\",\"backlog_bytes\":%llu",
		    rate(t.events_delivered, prev[0], secs), rate(t.events_failed, prev[1], secs),
		    rate(t.events_retried, prev[2], secs), (unsigned long long)t.events_delivered,
		    (unsigned long long)t.events_failed, (unsigned long long)t.pending,
		    t.oldest_pending_ms ? (double)(now_ms - t.oldest_pending_ms) / 1000.0 : 0.0,
		    (unsigned long long)dead, breaker,
		    (unsigned long long)pxd_dest_backlog_bytes(d, i));
		last_error_json(d, i, out);
		pxd_buf_puts(out, "}");
		prev[0] = t.events_delivered;
		prev[1] = t.events_failed;
		prev[2] = t.events_retried;
	}
	pxd_buf_puts(out, "]");
}

static void email_json(struct pxd_console_stats *s, const struct pxd_daemon *d, struct pxd_buf *out)
{
	pxd_buf_puts(out, ",\"email_opens\":{");
	for (int k = 0; k < PXD_OPEN_KIND_COUNT; k++) {
		uint64_t n = 0;

		for (unsigned i = 0; i < d->ningest; i++)
			n += get(&d->metrics.ingest[i].email_opens[k]);
		pxd_buf_printf(out, "%s\"%s\":%llu", k ? "," : "",
			       pxd_mail_proxy_kind_name((enum pxd_open_kind)k),
			       (unsigned long long)n);
	}
	pxd_buf_puts(out, "},\"campaigns\":[");
	for (unsigned c = 0; c < s->campaigns.n; c++) {
		const struct pxd_console_count *it = &s->campaigns.items[c];

		pxd_buf_puts(out, c ? ",{\"name\":" : "{\"name\":");
		str(out, it->name);
		for (int k = 0; k < PXD_OPEN_KIND_COUNT; k++)
			pxd_buf_printf(out, ",\"%s\":%llu",
				       pxd_mail_proxy_kind_name((enum pxd_open_kind)k),
				       (unsigned long long)it->kind[k]);
		pxd_buf_puts(out, "}");
	}
	pxd_buf_puts(out, "]");
}

int pxd_console_stats_write(struct pxd_console_stats *s, const struct pxd_daemon *d, int64_t now_ms,
			    struct pxd_buf *out)
{
	double secs;

	if (!s->dest_prev) {
		/* Every slot: a reload may add destinations. */
		s->dest_prev = calloc(PXD_CONF_MAX_DESTS * 3, sizeof(*s->dest_prev));
		if (!s->dest_prev)
			return -ENOMEM;
	}
	secs = s->prev_ms ? (double)(now_ms - s->prev_ms) / 1000.0 : 1.0;
	if (secs <= 0)
		secs = 1.0;
	pxd_buf_printf(out, "{\"t\":%lld,\"uptime_s\":%lld,\"version\":\"%s\"", (long long)now_ms,
		       (long long)(now_ms - d->started_ms) / 1000, d->version);
	ingest_json(s, d, secs, out);
	pxd_buf_puts(out, ",\"tenants\":");
	counts_json(out, &s->tenants, secs);
	pxd_buf_puts(out, ",\"sources\":");
	counts_json(out, &s->sources, secs);
	dests_json(s, d, now_ms, secs, out);
	email_json(s, d, out);
	pxd_buf_printf(out, ",\"xdp\":{\"attached\":%s,\"state\":",
		       pxd_xdp_ctl_attached(d->xdp) ? "true" : "false");
	str(out, pxd_xdp_ctl_state(d->xdp));
	if (pxd_xdp_ctl_attached(d->xdp))
		pxd_console_xdp_json(d->conf->xdp.pin_dir, out);
	pxd_buf_puts(out, "}}");
	s->prev_ms = now_ms;
	return out->p ? 0 : -ENOMEM;
}
