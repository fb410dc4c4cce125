// SPDX-License-Identifier: MIT
/*
 * tenant_host.c - Host header to tenant (tenant.h). Ingest threads; a scan
 * of at most PXD_CONF_TENANT_MAX x PXD_CONF_TENANT_HOSTS short strings.
 */
#include "daemon/tenant/tenant.h"

#include <string.h>
#include <strings.h>

/* Splits "name", "name:port", "[v6]" or "[v6]:port" into name and port ("" when none). */
static void split_host(struct pxd_sv h, struct pxd_sv *name, struct pxd_sv *port)
{
	const char *colon = NULL;

	if (h.n && h.p[0] == '[') {
		const char *end = memchr(h.p, ']', h.n);

		if (end && (size_t)(end - h.p) + 1 < h.n && end[1] == ':')
			colon = end + 1;
	} else {
		colon = memchr(h.p, ':', h.n);
	}
	if (!colon) {
		*name = h;
		*port = PXD_SV_NULL;
		return;
	}
	*name = pxd_sv_make(h.p, (size_t)(colon - h.p));
	*port = pxd_sv_make(colon + 1, h.n - (size_t)(colon - h.p) - 1);
}

bool pxd_tenant_host_match(const char *pattern, struct pxd_sv host)
{
	struct pxd_sv pname, pport, hname, hport;

	split_host(pxd_sv_cstr(pattern), &pname, &pport);
	split_host(host, &hname, &hport);
	if (pport.n && (pport.n != hport.n || memcmp(pport.p, hport.p, pport.n) != 0))
		return false;
	if (pname.n > 2 && pname.p[0] == '*' && pname.p[1] == '.') {
		size_t suffix = pname.n - 1; /* ".shop.example" */

		return hname.n > suffix &&
		       strncasecmp(hname.p + hname.n - suffix, pname.p + 1, suffix) == 0;
	}
	return pname.n == hname.n && strncasecmp(pname.p, hname.p, hname.n) == 0;
}

const struct pxd_conf_tenant *pxd_tenant_find(const struct pxd_conf_tenants *c, struct pxd_sv host)
{
	const struct pxd_conf_tenant *wild = NULL;

	if (!host.n)
		return NULL;
	for (size_t i = 0; i < c->n; i++) {
		const struct pxd_conf_tenant *t = &c->t[i];

		for (size_t k = 0; k < t->nhosts; k++) {
			if (!pxd_tenant_host_match(t->hosts[k], host))
				continue;
			if (t->hosts[k][0] != '*')
				return t;
			if (!wild)
				wild = t;
		}
	}
	return wild;
}
