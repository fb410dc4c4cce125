/* SPDX-License-Identifier: MIT */
/*
 * router.h - method + path -> endpoint, with the Host and CORS checks that
 * come before any endpoint runs; unknown paths get 404 and wrong methods 405
 * with Allow. The route table is constant: any thread.
 */
#ifndef PXD_ROUTER_H
#define PXD_ROUTER_H

#include "admin_job.h"
#include "http_reply.h"

/* Body limit of the keyed APIs (POST /s2s/, /v1/); other public paths keep
 * PXD_HTTP_MAX_BODY. Decompressed bodies are bounded by the endpoints. */
#define PXD_API_MAX_BODY (1u << 20)

/*
 * Returns the body limit for the request that starts at <buf> (<len> bytes
 * of it, maybe only its first line): PXD_API_MAX_BODY for POST to /s2s/ or
 * /v1/, else PXD_HTTP_MAX_BODY. Looks at the request line only. Any thread.
 */
size_t pxd_router_body_limit(const char *buf, size_t len);
struct pxd_daemon;

/* Answers the request in <rc> (public or admin listener). */
void pxd_router_dispatch(struct pxd_reqctx *rc);

/* Whether <origin> may call the public endpoints, and whether it was named. */
enum pxd_cors {
	PXD_CORS_REFUSED = 0,
	PXD_CORS_ANY,	 /* by "*": no credentials (the Fetch standard refuses them with *) */
	PXD_CORS_LISTED, /* named in the list: credentialed requests allowed */
};

/* <tenant>'s cors_origins when it has its own, else server.cors_origins. */
enum pxd_cors pxd_cors_allowed(const struct pxd_conf *conf, const struct pxd_conf_tenant *tenant,
			       struct pxd_sv origin);

/* Endpoints (daemon/ep_*.c). */
void pxd_ep_pixel(struct pxd_reqctx *rc);
void pxd_ep_beacon(struct pxd_reqctx *rc);
void pxd_ep_health(struct pxd_reqctx *rc);
void pxd_ep_metrics(struct pxd_reqctx *rc);
void pxd_ep_admin_status(struct pxd_reqctx *rc);
/* GET /admin/tls (daemon/endpoints/ep_admin_tls.c): the certificates in use, as JSON. */
void pxd_ep_admin_tls(struct pxd_reqctx *rc);
void pxd_ep_admin_usage(struct pxd_reqctx *rc);
void pxd_ep_admin_pixel_generate(struct pxd_reqctx *rc);
/* Replays dead letters (daemon/endpoints/ep_admin_dlq.c): 200 {"replayed":N,"skipped":M}. */
void pxd_ep_admin_dlq_replay(struct pxd_reqctx *rc);

/* Runs the replay an ingest thread posted (reads the dead-letter files). Main thread. */
void pxd_ep_admin_dlq_run(struct pxd_daemon *d);

/* Answers the deferred replay request on <rc>'s connection from the done job <j>. */
void pxd_ep_admin_dlq_answer(struct pxd_reqctx *rc, const struct pxd_admin_job *j);
/*
 * POST /admin/reload (daemon/endpoints/ep_admin_reload.c): hands the reload
 * to the main thread (as SIGHUP does) and answers once it is done: 200
 * {"result":"ok","generation":N} or 409 {"error":"reload_refused","detail":
 * "file:line: ..."}.
 */
void pxd_ep_admin_reload(struct pxd_reqctx *rc);

/*
 * POST /admin/journal/drop {"dest":"NAME"} (daemon/endpoints/ep_admin_journal.c):
 * a destination a reload removed lets its journal backlog go. 200
 * {"dropped":NAME}, 404 (no such destination), 409 (still configured).
 */
void pxd_ep_admin_journal_drop(struct pxd_reqctx *rc);

/* Answers the deferred reload request on <rc>'s connection from the done job <j>. */
void pxd_ep_admin_reload_answer(struct pxd_reqctx *rc, const struct pxd_admin_job *j);
void pxd_ep_email_open(struct pxd_reqctx *rc);
/* POST /s2s/events (daemon/endpoints/ep_s2s.c). */
void pxd_ep_s2s(struct pxd_reqctx *rc);
/* POST /v1/<call> and the short forms (daemon/endpoints/ep_segment.c). */
void pxd_ep_segment(struct pxd_reqctx *rc);

#endif
