// SPDX-License-Identifier: MIT
#include "router.h"

#include <string.h>

#include "daemon/console/console_auth.h"
#include "daemon/console/console_dlq.h"
#include "daemon/console/console_xdp.h"
#include "daemon/console/ep_console.h"
#include "daemon/tenant/tenant.h"
#include "log.h"

enum route_flags {
	ROUTE_PUBLIC = 1u << 0,
	ROUTE_ADMIN = 1u << 1,
	ROUTE_CORS = 1u << 2,	  /* browsers call it cross-origin: Origin is checked */
	ROUTE_PIXEL = 1u << 3,	  /* answers with an image whatever happens */
	ROUTE_PREFIX = 1u << 4,	  /* <path> is a prefix */
	ROUTE_ANY_HOST = 1u << 5, /* load balancers probe with any Host */
	ROUTE_OWN_AUTH = 1u << 6, /* the endpoint checks the admin key (console) */
};

struct route {
	const char *path;
	unsigned flags;
	enum pxd_endpoint ep;
	void (*get)(struct pxd_reqctx *rc); /* GET and HEAD */
	void (*post)(struct pxd_reqctx *rc);
	const char *allow;
};

static const struct route routes[] = {
	{ "/p.gif", ROUTE_PUBLIC | ROUTE_PIXEL, PXD_EP_PIXEL_GIF, pxd_ep_pixel, NULL, "GET, HEAD" },
	{ "/p", ROUTE_PUBLIC | ROUTE_PIXEL, PXD_EP_PIXEL, pxd_ep_pixel, NULL, "GET, HEAD" },
	{ "/e", ROUTE_PUBLIC | ROUTE_CORS, PXD_EP_BEACON, NULL, pxd_ep_beacon, "POST, OPTIONS" },
	{ "*", ROUTE_PUBLIC | ROUTE_CORS, PXD_EP_PREFLIGHT, NULL, NULL, "OPTIONS" },
	{ "/s2s/events", ROUTE_PUBLIC, PXD_EP_S2S, NULL, pxd_ep_s2s, "POST" },
	{ "/v1/", ROUTE_PUBLIC | ROUTE_CORS | ROUTE_PREFIX, PXD_EP_SEGMENT, NULL, pxd_ep_segment,
	  "POST, OPTIONS" },
	{ "/o/", ROUTE_PUBLIC | ROUTE_PIXEL | ROUTE_PREFIX, PXD_EP_EMAIL_OPEN, pxd_ep_email_open,
	  NULL, "GET, HEAD" },
	{ "/health", ROUTE_PUBLIC | ROUTE_ADMIN | ROUTE_ANY_HOST, PXD_EP_HEALTH, pxd_ep_health,
	  NULL, "GET, HEAD" },
	{ "/health/live", ROUTE_PUBLIC | ROUTE_ADMIN | ROUTE_ANY_HOST, PXD_EP_HEALTH, pxd_ep_health,
	  NULL, "GET, HEAD" },
	{ "/health/ready", ROUTE_PUBLIC | ROUTE_ADMIN | ROUTE_ANY_HOST, PXD_EP_HEALTH,
	  pxd_ep_health, NULL, "GET, HEAD" },
	{ "/metrics", ROUTE_ADMIN, PXD_EP_METRICS, pxd_ep_metrics, NULL, "GET, HEAD" },
	{ "/admin/status", ROUTE_ADMIN, PXD_EP_ADMIN, pxd_ep_admin_status, NULL, "GET, HEAD" },
	{ "/admin/tls", ROUTE_ADMIN, PXD_EP_ADMIN, pxd_ep_admin_tls, NULL, "GET, HEAD" },
	{ "/admin/usage", ROUTE_ADMIN, PXD_EP_ADMIN, pxd_ep_admin_usage, NULL, "GET, HEAD" },
	{ "/admin/pixel/generate", ROUTE_ADMIN, PXD_EP_ADMIN, NULL, pxd_ep_admin_pixel_generate,
	  "POST" },
	{ "/admin/dlq/replay", ROUTE_ADMIN, PXD_EP_ADMIN, NULL, pxd_ep_admin_dlq_replay, "POST" },
	{ "/admin/reload", ROUTE_ADMIN, PXD_EP_ADMIN, NULL, pxd_ep_admin_reload, "POST" },
	{ "/admin/journal/drop", ROUTE_ADMIN, PXD_EP_ADMIN, NULL, pxd_ep_admin_journal_drop,
	  "POST" },
	{ "/admin/xdp/block", ROUTE_ADMIN, PXD_EP_ADMIN, NULL, pxd_ep_admin_xdp_block, "POST" },
	{ "/admin/xdp/unblock", ROUTE_ADMIN, PXD_EP_ADMIN, NULL, pxd_ep_admin_xdp_unblock, "POST" },
	{ "/admin/dlq/list", ROUTE_ADMIN, PXD_EP_ADMIN, pxd_ep_admin_dlq_list, NULL, "GET, HEAD" },
	/* The console checks the key itself: a browser must get a Basic challenge. */
	{ "/admin/stream", ROUTE_ADMIN | ROUTE_OWN_AUTH, PXD_EP_ADMIN, pxd_ep_admin_stream, NULL,
	  "GET, HEAD" },
	{ "/", ROUTE_ADMIN | ROUTE_OWN_AUTH, PXD_EP_ADMIN, pxd_ep_console_page, NULL, "GET, HEAD" },
	{ "/console.js", ROUTE_ADMIN | ROUTE_OWN_AUTH, PXD_EP_ADMIN, pxd_ep_console_page, NULL,
	  "GET, HEAD" },
	{ "/console.css", ROUTE_ADMIN | ROUTE_OWN_AUTH, PXD_EP_ADMIN, pxd_ep_console_page, NULL,
	  "GET, HEAD" },
};

size_t pxd_router_body_limit(const char *buf, size_t len)
{
	struct pxd_sv line;

	/* The parser skips up to 4 empty lines before the request line. */
	while (len && (*buf == '\r' || *buf == '\n')) {
		buf++;
		len--;
	}
	line = pxd_sv_make(buf, len);
	if (pxd_sv_starts_with(line, "POST /s2s/") || pxd_sv_starts_with(line, "POST /v1/"))
		return PXD_API_MAX_BODY;
	return PXD_HTTP_MAX_BODY;
}

/* A tenant's own cors_origins replace server.cors_origins; without them it has the server's. */
enum pxd_cors pxd_cors_allowed(const struct pxd_conf *conf, const struct pxd_conf_tenant *tenant,
			       struct pxd_sv origin)
{
	bool own = tenant && tenant->ncors_origins;
	size_t n = own ? tenant->ncors_origins : conf->ncors_origins;

	for (size_t i = 0; i < n; i++) {
		const char *o = own ? tenant->cors_origins[i] : conf->cors_origins[i];

		if (o[0] == '*' && o[1] == '\0')
			return PXD_CORS_ANY;
		if (pxd_sv_eq_lit(origin, o))
			return PXD_CORS_LISTED;
	}
	return PXD_CORS_REFUSED;
}

/* Host without its port, compared with server.hosts (case-insensitive). */
static bool host_allowed(const struct pxd_conf *conf, struct pxd_sv host)
{
	size_t n = host.n;

	if (!conf->nhosts)
		return true;
	if (n && host.p[0] != '[') {
		const char *colon = memchr(host.p, ':', n);

		if (colon)
			n = (size_t)(colon - host.p);
	}
	for (size_t i = 0; i < conf->nhosts; i++)
		if (strlen(conf->hosts[i]) == n && strncasecmp(conf->hosts[i], host.p, n) == 0)
			return true;
	return false;
}

/* What a pixel route answers whatever happens to its event. */
static void pixel_answer(struct pxd_reqctx *rc, const struct route *r)
{
	if (r->ep == PXD_EP_PIXEL)
		pxd_reply_empty(rc, 204);
	else
		pxd_reply_gif(rc, r->ep == PXD_EP_EMAIL_OPEN ? "no-store, private" : "no-store");
}

/*
 * A paused tenant's pixels still get their image (a page never shows a
 * broken one); its API calls get 402. Either way the event is counted as
 * refused, not recorded. Returns true when the answer is sent.
 */
static bool tenant_paused(struct pxd_reqctx *rc, const struct route *r)
{
	if (!(r->flags & ROUTE_PIXEL)) {
		pxd_reply_refusal(rc, PXD_REFUSAL_TENANT_PAUSED, NULL);
		return true;
	}
	if (!r->get)
		return false;
	pxd_stat_add(&rc->ing->m->events_rejected[PXD_REFUSAL_TENANT_PAUSED], 1);
	pxd_stat_add(&rc->ing->m->tenant_refused[pxd_tenant_index(&rc->conf->tenants, rc->tenant)],
		     1);
	pixel_answer(rc, r);
	return true;
}

static const struct route *find_route(struct pxd_sv path, bool admin)
{
	unsigned want = admin ? ROUTE_ADMIN : ROUTE_PUBLIC;

	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		const struct route *r = &routes[i];

		if (!(r->flags & want))
			continue;
		if ((r->flags & ROUTE_PREFIX) ? pxd_sv_starts_with(path, r->path)
					      : pxd_sv_eq_lit(path, r->path))
			return r;
	}
	return NULL;
}

static void route(struct pxd_reqctx *rc)
{
	const struct pxd_conf *conf = rc->conf;
	const struct pxd_http_req *req = rc->req;
	bool admin = rc->conn->flags & PXD_CONN_ADMIN;
	const struct route *r = find_route(req->path, admin);

	rc->ep = admin ? PXD_EP_ADMIN : PXD_EP_UNKNOWN;
	if (!admin && conf->tenants.n && !(r && (r->flags & ROUTE_ANY_HOST))) {
		/* The Host decides before anything of the request is read: a
		 * pixel on an unknown host gets no image either. */
		rc->tenant = pxd_tenant_find(&conf->tenants, req->host);
		if (!rc->tenant) {
			if (r)
				rc->ep = r->ep;
			pxd_reply_refusal(rc, PXD_REFUSAL_UNKNOWN_HOST, NULL);
			return;
		}
	}
	if (!r) {
		pxd_reply_refusal(rc, PXD_REFUSAL_NOT_FOUND, NULL);
		return;
	}
	rc->ep = r->ep;
	rc->allow = r->allow;

	if (!admin && !(r->flags & ROUTE_ANY_HOST) && !host_allowed(conf, req->host)) {
		if (r->flags & ROUTE_PIXEL) {
			/* A page never shows a broken image: answer, count, drop. */
			pxd_stat_add(&rc->ing->m->events_rejected[PXD_REFUSAL_UNKNOWN_HOST], 1);
			pixel_answer(rc, r);
			return;
		}
		pxd_reply_refusal(rc, PXD_REFUSAL_UNKNOWN_HOST, NULL);
		return;
	}
	/* The start-up key: pixelctl reads it from the file it reloads. */
	if (admin && pxd_sv_starts_with(req->path, "/admin/") && !(r->flags & ROUTE_OWN_AUTH) &&
	    rc->ing->d->conf->admin_key[0] &&
	    !pxd_admin_auth_ok(req->authorization, rc->ing->d->conf->admin_key)) {
		pxd_reply_refusal(rc, PXD_REFUSAL_UNAUTHORIZED, NULL);
		return;
	}
	if ((r->flags & ROUTE_CORS) && req->origin.n) {
		enum pxd_cors cors = pxd_cors_allowed(conf, rc->tenant, req->origin);

		if (cors == PXD_CORS_REFUSED) {
			if (req->method == PXD_HTTP_OPTIONS)
				rc->ep = PXD_EP_PREFLIGHT;
			pxd_reply_refusal(rc, PXD_REFUSAL_ORIGIN_NOT_ALLOWED, NULL);
			return;
		}
		rc->cors_origin = req->origin;
		rc->cors_credentials = cors == PXD_CORS_LISTED;
	}
	if (rc->tenant && rc->tenant->paused && req->method != PXD_HTTP_OPTIONS &&
	    tenant_paused(rc, r))
		return;
	if (rc->tenant)
		pxd_tenant_privacy(rc);
	if (r->ep == PXD_EP_PIXEL || r->ep == PXD_EP_PIXEL_GIF ||
	    (r->ep == PXD_EP_BEACON && req->method == PXD_HTTP_POST))
		pxd_tenant_cookie(rc);

	switch (req->method) {
	case PXD_HTTP_GET:
	case PXD_HTTP_HEAD:
		if (r->get) {
			r->get(rc);
			return;
		}
		break;
	case PXD_HTTP_POST:
		if (r->post) {
			r->post(rc);
			return;
		}
		break;
	case PXD_HTTP_OPTIONS:
		if (r->flags & ROUTE_CORS) {
			rc->ep = PXD_EP_PREFLIGHT;
			pxd_reply_preflight(rc);
			return;
		}
		break;
	default:
		break;
	}
	pxd_reply_refusal(rc, PXD_REFUSAL_METHOD_NOT_ALLOWED, NULL);
}

void pxd_router_dispatch(struct pxd_reqctx *rc)
{
	struct pxd_conf_live *live = &rc->ing->d->live;

	/* One epoch section per request: a reload between two requests is
	 * seen by the next one, and the generation this one reads stays. */
	rc->conf = pxd_conf_live_enter(live, rc->ing->id);
	route(rc);
	pxd_conf_live_leave(live, rc->ing->id);
	rc->conf = NULL;
}
