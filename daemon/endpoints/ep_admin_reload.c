// SPDX-License-Identifier: MIT
/*
 * POST /admin/reload: pixelctl reload. The ingest thread posts the reload
 * as the admin job (admin_job.h) and raises SIGHUP, so the main thread runs
 * it at once on its SIGHUP path (daemon/reload.c), the same load, checks
 * and swap as a signal; the connection is answered when the job is done.
 * Admin listener (ingest thread 0), cold path.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "ingest.h"
#include "jsonw.h"
#include "router.h"

void pxd_ep_admin_reload(struct pxd_reqctx *rc)
{
	struct pxd_daemon *d = rc->ing->d;
	int r =
	    pxd_admin_job_post(&d->admin_job, PXD_ADMIN_JOB_RELOAD, rc->ing->id,
			       pxd_conn_slot(&rc->ing->conns, rc->conn), rc->conn->gen, NULL, NULL);

	if (r) {
		pxd_reply_refusal(
		    rc, PXD_REFUSAL_INTERNAL,
		    "another admin job (a reload or a dead-letter replay) is running; "
		    "run pixelctl reload again when it is done");
		return;
	}
	rc->deferred = true;
	/* The main thread waits in sigtimedwait(): this wakes it now. */
	kill(getpid(), SIGHUP);
}

void pxd_ep_admin_reload_answer(struct pxd_reqctx *rc, const struct pxd_admin_job *j)
{
	char body[sizeof(j->err) * 2 + 128];
	struct pxd_jsonw w;
	ssize_t n;

	pxd_jsonw_init(&w, body, sizeof(body));
	pxd_jsonw_object_begin(&w);
	if (j->rc == 0) {
		pxd_jsonw_key(&w, "result", 6);
		pxd_jsonw_string(&w, "ok", 2);
	} else {
		pxd_jsonw_key(&w, "error", 5);
		pxd_jsonw_string(&w, "reload_refused", 14);
		pxd_jsonw_key(&w, "detail", 6);
		pxd_jsonw_string(&w, j->err, strlen(j->err));
	}
	pxd_jsonw_key(&w, "generation", 10);
	pxd_jsonw_int(&w, (int64_t)j->generation);
	pxd_jsonw_object_end(&w);
	n = pxd_jsonw_finish(&w);
	if (n < 0)
		n = snprintf(body, sizeof(body), "{\"error\":\"reload_refused\"}");
	pxd_reply_body(rc, j->rc == 0 ? 200 : 409, "application/json", body, (size_t)n, NULL);
}
