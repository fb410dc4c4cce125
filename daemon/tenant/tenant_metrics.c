// SPDX-License-Identifier: MIT
/*
 * tenant_metrics.c - the per-tenant counters of /metrics (accepted and
 * refused events, bytes, cookies set, extended and restored), summed over
 * the ingest threads. Admin thread.
 */
#include "daemon/tenant/tenant.h"

#include <stddef.h>

#include "buf.h"

static const struct {
	const char *name;
	const char *help;
	size_t off;
} fields[] = {
	{ "pixeld_tenant_events_accepted_total", "Events accepted, by tenant.",
	  offsetof(struct pxd_metrics_ingest, tenant_accepted) },
	{ "pixeld_tenant_events_refused_total", "Requests or events refused, by tenant.",
	  offsetof(struct pxd_metrics_ingest, tenant_refused) },
	{ "pixeld_tenant_event_bytes_total", "Bytes of the accepted events' lines, by tenant.",
	  offsetof(struct pxd_metrics_ingest, tenant_bytes) },
	{ "pixeld_tenant_cookies_set_total", "First-party id cookies set (new ids), by tenant.",
	  offsetof(struct pxd_metrics_ingest, tenant_cookies_set) },
	{ "pixeld_tenant_cookies_extended_total",
	  "Cookies the browser had, sent back with a renewed Max-Age (id, _fbp, _fbc), by tenant.",
	  offsetof(struct pxd_metrics_ingest, tenant_cookies_extended) },
	{ "pixeld_tenant_cookies_restored_total",
	  "Platform cookies (_fbp, _fbc) written new by restore_cookies, by tenant.",
	  offsetof(struct pxd_metrics_ingest, tenant_cookies_restored) },
};

void pxd_tenant_metrics_render(const struct pxd_metrics *m, const struct pxd_conf_tenants *c,
			       struct pxd_buf *out)
{
	if (!c->n)
		return;
	for (size_t k = 0; k < ARRAY_SIZE(fields); k++) {
		pxd_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", fields[k].name,
			       fields[k].help, fields[k].name);
		for (size_t t = 0; t < c->n; t++) {
			uint64_t n = 0;

			if (c->t[t].retired)
				continue;
			for (unsigned i = 0; i < m->ningest; i++)
				n += pxd_stat_get((const uint64_t *)((const char *)&m->ingest[i] +
								     fields[k].off) +
						  t);
			pxd_buf_printf(out, "%s{tenant=\"%s\"} %lu\n", fields[k].name, c->t[t].name,
				       n);
		}
	}
}
