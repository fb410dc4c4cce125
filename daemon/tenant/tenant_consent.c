// SPDX-License-Identifier: MIT
/*
 * tenant_consent.c - a tenant's privacy rules on one request and its events
 * (tenant.h): consent defaults, Global Privacy Control, anonymous mode and
 * the consent the id cookie needs. Ingest threads; no allocation.
 */
#include "daemon/tenant/tenant.h"

#include <arpa/inet.h>
#include <string.h>

static const enum pxd_consent as_event[] = {
	[PXD_TENANT_CONSENT_UNSET] = PXD_CONSENT_UNSET,
	[PXD_TENANT_CONSENT_GRANTED] = PXD_CONSENT_GRANTED,
	[PXD_TENANT_CONSENT_DENIED] = PXD_CONSENT_DENIED,
};

static bool header_is_1(const struct pxd_http_req *req, const char *name)
{
	const struct pxd_http_header *h = pxd_http_find_header(req, name);

	return h && pxd_sv_eq_lit(h->value, "1");
}

void pxd_tenant_privacy(struct pxd_reqctx *rc)
{
	rc->anonymous = rc->tenant->anonymous || header_is_1(rc->req, "x-pixeld-anonymous");
	rc->gpc = rc->tenant->honor_gpc &&
		  (header_is_1(rc->req, "sec-gpc") || header_is_1(rc->req, "dnt"));
}

/* IPv4 to its /24, IPv6 to its /48, rewritten in <rc>->ip; "" when it does not parse. */
static void truncate_ip(struct pxd_reqctx *rc)
{
	unsigned char a[16] = { 0 };
	char text[sizeof(rc->ip)];
	bool v6 = memchr(rc->ip, ':', rc->ip_len) != NULL;
	int family = v6 ? AF_INET6 : AF_INET;

	memcpy(text, rc->ip, rc->ip_len);
	text[rc->ip_len] = '\0';
	rc->ip_len = 0;
	if (inet_pton(family, text, a) != 1)
		return;
	memset(a + (v6 ? 6 : 3), 0, v6 ? 10 : 1);
	if (inet_ntop(family, a, rc->ip, sizeof(rc->ip)))
		rc->ip_len = strlen(rc->ip);
}

void pxd_tenant_event_privacy(struct pxd_reqctx *rc, struct pxd_event *ev)
{
	const struct pxd_conf_tenant *t = rc->tenant;

	for (unsigned f = 0; f < PXD_CONSENT_FIELD_COUNT; f++) {
		bool analytics = f == PXD_CONSENT_FIELD_ANALYTICS_STORAGE;

		if (rc->gpc && !analytics)
			ev->consent[f] = PXD_CONSENT_DENIED;
		else if (ev->consent[f] == PXD_CONSENT_UNSET)
			ev->consent[f] = as_event[analytics ? t->consent_analytics : t->consent_ad];
	}
	if (rc->anonymous) {
		if (t->anonymous_ip == PXD_TENANT_ANON_IP_TRUNCATE && rc->ip_len)
			truncate_ip(rc);
		else
			rc->ip_len = 0;
		ev->ip = rc->ip_len ? pxd_sv_make(rc->ip, rc->ip_len) : PXD_SV_NULL;
		ev->fp_id = PXD_SV_NULL;
		return;
	}
	pxd_tenant_restore(rc, ev);
	if (ev->consent[PXD_CONSENT_FIELD_ANALYTICS_STORAGE] == PXD_CONSENT_DENIED) {
		/* No id cookie without analytics consent: neither read nor set. */
		rc->set_cookie[0] = '\0';
		rc->fp_id = PXD_SV_NULL;
		ev->fp_id = PXD_SV_NULL;
		return;
	}
	if (!ev->fp_id.n)
		ev->fp_id = rc->fp_id;
}
