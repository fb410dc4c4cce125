/* SPDX-License-Identifier: MIT */
/*
 * router.h - method + path -> endpoint, with the Host and CORS checks that
 * come before any endpoint runs; unknown paths get 404 and wrong methods 405
 * with Allow. The route table is constant: any thread.
 */
#ifndef PXD_ROUTER_H
#define PXD_ROUTER_H

#include "http_reply.h"

/* Answers the request in <rc> (public or admin listener). */
void pxd_router_dispatch(struct pxd_reqctx *rc);

/* Returns true when <origin> may call the public endpoints (server.cors_origins). */
bool pxd_cors_allowed(const struct pxd_conf *conf, struct pxd_sv origin);

/* Endpoints (daemon/ep_*.c). */
void pxd_ep_pixel(struct pxd_reqctx *rc);
void pxd_ep_beacon(struct pxd_reqctx *rc);
void pxd_ep_health(struct pxd_reqctx *rc);
void pxd_ep_metrics(struct pxd_reqctx *rc);
void pxd_ep_admin_status(struct pxd_reqctx *rc);
void pxd_ep_admin_pixel_generate(struct pxd_reqctx *rc);
/* Replays dead letters (daemon/ep_admin_dlq.c): 200 {"replayed":N,"skipped":M}. */
void pxd_ep_admin_dlq_replay(struct pxd_reqctx *rc);
void pxd_ep_email_open(struct pxd_reqctx *rc);

#endif
