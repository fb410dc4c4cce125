// SPDX-License-Identifier: MIT
#include "router.h"

#include <string.h>

#include "log.h"

enum route_flags {
	ROUTE_PUBLIC = 1u << 0,
	ROUTE_ADMIN = 1u << 1,
	ROUTE_CORS = 1u << 2,	  /* browsers call it cross-origin: Origin is checked */
	ROUTE_PIXEL = 1u << 3,	  /* answers with an image whatever happens */
	ROUTE_PREFIX = 1u << 4,	  /* <path> is a prefix */
	ROUTE_ANY_HOST = 1u << 5, /* load balancers probe with any Host */
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
	{ "/admin/pixel/generate", ROUTE_ADMIN, PXD_EP_ADMIN, NULL, pxd_ep_admin_pixel_generate,
	  "POST" },
	{ "/admin/dlq/replay", ROUTE_ADMIN, PXD_EP_ADMIN, NULL, pxd_ep_admin_dlq_replay, "POST" },
};

bool pxd_cors_allowed(const struct pxd_conf *conf, struct pxd_sv origin)
{
	for (size_t i = 0; i < conf->ncors_origins; i++) {
		const char *o = conf->cors_origins[i];

		if ((o[0] == '*' && o[1] == '\0') || pxd_sv_eq_lit(origin, o))
			return true;
	}
	return false;
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

/* Constant-time so the admin key cannot be guessed byte by byte from timing. */
static bool key_matches(struct pxd_sv auth, const char *key)
{
	size_t klen = strlen(key);
	unsigned char diff = 0;

	if (!pxd_sv_starts_with(auth, "Bearer ") || auth.n - 7 != klen)
		return false;
	for (size_t i = 0; i < klen; i++)
		diff |= (unsigned char)(auth.p[7 + i] ^ key[i]);
	return diff == 0;
}

void pxd_router_dispatch(struct pxd_reqctx *rc)
{
	const struct pxd_conf *conf = rc->ing->d->conf;
	const struct pxd_http_req *req = rc->req;
	bool admin = rc->conn->flags & PXD_CONN_ADMIN;
	const struct route *r = find_route(req->path, admin);

	rc->ep = admin ? PXD_EP_ADMIN : PXD_EP_UNKNOWN;
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
			if (r->ep == PXD_EP_PIXEL)
				pxd_reply_empty(rc, 204);
			else
				pxd_reply_gif(rc, r->ep == PXD_EP_EMAIL_OPEN ? "no-store, private"
									     : "no-store");
			return;
		}
		pxd_reply_refusal(rc, PXD_REFUSAL_UNKNOWN_HOST, NULL);
		return;
	}
	if (admin && pxd_sv_starts_with(req->path, "/admin/") && conf->admin_key[0] &&
	    !key_matches(req->authorization, conf->admin_key)) {
		pxd_reply_refusal(rc, PXD_REFUSAL_UNAUTHORIZED, NULL);
		return;
	}
	if ((r->flags & ROUTE_CORS) && req->origin.n) {
		if (!pxd_cors_allowed(conf, req->origin)) {
			if (req->method == PXD_HTTP_OPTIONS)
				rc->ep = PXD_EP_PREFLIGHT;
			pxd_reply_refusal(rc, PXD_REFUSAL_ORIGIN_NOT_ALLOWED, NULL);
			return;
		}
		rc->cors_origin = req->origin;
	}

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
