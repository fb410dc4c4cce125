/* SPDX-License-Identifier: MIT */
/*
 * tenant.h - which tenant a request belongs to: the Host header matched
 * against the [tenant] sections' hosts, and the per-tenant choices the
 * request path makes (consent defaults, cookies and their restoration), and
 * its /metrics lines. Functions
 * over a loaded conf; ingest threads (the metrics: admin thread), no
 * allocation, no lock.
 */
#ifndef PXD_TENANT_H
#define PXD_TENANT_H

#include <stdbool.h>

#include "conf.h"
#include "event.h"
#include "http_reply.h"
#include "metrics.h"
#include "strview.h"

/*
 * True when Host header <host> matches <pattern>: "t.shop.example" exactly,
 * "*.shop.example" any name below shop.example (not shop.example itself),
 * either with ":PORT" to require that port; names compare case-insensitively
 * and without a port in <pattern> the Host's port is ignored.
 */
bool pxd_tenant_host_match(const char *pattern, struct pxd_sv host);

/* Returns the tenant of <host> in <c>, or NULL when no tenant has it. Exact names win. */
const struct pxd_conf_tenant *pxd_tenant_find(const struct pxd_conf_tenants *c, struct pxd_sv host);

/*
 * Sets <rc>->anonymous (the tenant's anonymous, or X-Pixeld-Anonymous: 1)
 * and <rc>->gpc (Sec-GPC: 1 or DNT: 1 under honor_gpc). Before the cookie.
 */
void pxd_tenant_privacy(struct pxd_reqctx *rc);

/*
 * Applies <rc>'s tenant rules to a filled <ev>: consent defaults, ad
 * consent denied under GPC, the first-party id (none when anonymous or when
 * analytics_storage is denied, which also withdraws the Set-Cookie) and,
 * when anonymous, the client address dropped or truncated.
 */
void pxd_tenant_event_privacy(struct pxd_reqctx *rc, struct pxd_event *ev);

/*
 * Sets <rc>'s first-party id from its tenant's id cookie, or a new random
 * one, and the Set-Cookie line when the id is new or the cookie is older
 * than cookie_refresh. Nothing without a tenant or with cookie_name empty.
 */
void pxd_tenant_cookie(struct pxd_reqctx *rc);

/* True when <rc> came over TLS, or from a trusted proxy saying X-Forwarded-Proto: https. */
bool pxd_tenant_secure_request(struct pxd_reqctx *rc);

/* Writes the Domain <rc>'s cookies are set for: cookie_domain, else the Host's registrable one. */
void pxd_tenant_cookie_domain(struct pxd_reqctx *rc, char *domain, size_t cap);

/*
 * Cookie restoration (restore_cookies) for <ev>, an event of <rc> after its
 * consent is final: for a Meta-bound pixel or beacon event whose ad_storage
 * is not denied, outside anonymous mode, decides the _fbp/_fbc lines of
 * <rc>'s answer (once per request) and puts their values in ev->click when
 * the event has none.
 */
void pxd_tenant_restore(struct pxd_reqctx *rc, struct pxd_event *ev);

/* Appends the per-tenant counters of <m> for the tenants of <c> to <out> (/metrics). */
void pxd_tenant_metrics_render(const struct pxd_metrics *m, const struct pxd_conf_tenants *c,
			       struct pxd_buf *out);

/* Returns the position of <t> in <c> (metrics index). */
static inline unsigned pxd_tenant_index(const struct pxd_conf_tenants *c,
					const struct pxd_conf_tenant *t)
{
	return (unsigned)(t - c->t);
}

#endif
