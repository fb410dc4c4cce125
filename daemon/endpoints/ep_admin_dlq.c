// SPDX-License-Identifier: MIT
/*
 * Admin listener: POST /admin/dlq/replay {"dest":D,"since":T} (both
 * optional), behind `pixelctl dlq replay`. Each selected dead letter goes back
 * to its one destination, unchanged (same event_id and ts), through that
 * shard's replay queue (pxd_dispatcher_replay(); sent after a restart too,
 * dispatch_replay.h). Reading the
 * dead-letter files blocks, so the ingest thread only checks the request and
 * posts it as the admin job (admin_job.h); the main thread runs it on its
 * next tick (pxd_ep_admin_dlq_run()) and the ingest thread answers once it
 * is done (pxd_ep_admin_dlq_answer()), within about a second.
 */
#include "router.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "daemon.h"
#include "dispatcher.h"
#include "dlq.h"
#include "ingest.h"

static int requeue(void *ctx, const char *id, const char *dest, const char *event, size_t len)
{
	struct pxd_daemon *d = ctx;
	int idx = pxd_dispatcher_dest_index(d->conf, dest);

	if (idx < 0)
		return idx;
	return pxd_dispatcher_replay(d, (unsigned)idx, event, len, id);
}

/* Built with snprintf, not jansson: jansson's memory on this thread is the
 * request arena's (arena.h), which free() must not see. <msg> names files
 * and settings only, never event contents. */
static void reply_error(struct pxd_reqctx *rc, unsigned status, const char *msg)
{
	char body[1024];
	size_t n = 0;

	n += (size_t)snprintf(body, sizeof(body), "{\"error\":\"");
	for (const char *p = msg; *p && n + 8 < sizeof(body); p++) {
		if (*p == '"' || *p == '\\')
			body[n++] = '\\';
		body[n++] = (unsigned char)*p < 0x20 ? ' ' : *p;
	}
	n += (size_t)snprintf(body + n, sizeof(body) - n, "\"}");
	pxd_reply_body(rc, status, "application/json", body, PXD_MIN(n, sizeof(body) - 1), NULL);
}

void pxd_ep_admin_dlq_replay(struct pxd_reqctx *rc)
{
	struct pxd_daemon *d = (struct pxd_daemon *)rc->ing->d;
	const char *dest;
	const char *since;
	int64_t since_ms = 0;
	char msg[640];
	json_t *body;
	int r;

	body = json_loadb(rc->req->body.p, rc->req->body.n, 0, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		reply_error(rc, 400,
			    "dlq: the body must be a JSON object such as "
			    "{\"dest\":\"meta\",\"since\":\"2024-11-22T17:00:00Z\"}");
		return;
	}
	dest = json_string_value(json_object_get(body, "dest"));
	if (dest && (pxd_dispatcher_dest_index(d->conf, dest) < 0 ||
		     strlen(dest) >= PXD_ADMIN_JOB_DEST_MAX)) {
		snprintf(msg, sizeof(msg), "dlq: no destination \"%.64s\" in the configuration",
			 dest);
		reply_error(rc, 400, msg);
		json_decref(body);
		return;
	}
	since = json_string_value(json_object_get(body, "since"));
	if (since && pxd_dlq_time_parse(since, pxd_now_ms(), &since_ms)) {
		reply_error(rc, 400,
			    "dlq: bad since; use RFC 3339 (2024-11-22T17:00:00Z) or a "
			    "duration (1h)");
		json_decref(body);
		return;
	}
	r = pxd_admin_job_post(&d->admin_job, PXD_ADMIN_JOB_DLQ_REPLAY, rc->ing->id,
			       pxd_conn_slot(&rc->ing->conns, rc->conn), rc->conn->gen, dest,
			       since ? &since_ms : NULL);
	json_decref(body);
	if (r) {
		reply_error(rc, 503,
			    "dlq: a replay is running; run this one again when it is done");
		return;
	}
	rc->deferred = true;
}

void pxd_ep_admin_dlq_run(struct pxd_daemon *d)
{
	struct pxd_admin_job *j = &d->admin_job;
	struct pxd_dlq_replay_stats st = { 0 };
	struct pxd_dlq_filter f = { 0 };

	if (!pxd_admin_job_queued(j, PXD_ADMIN_JOB_DLQ_REPLAY))
		return;
	f.dest = j->dest[0] ? j->dest : NULL;
	f.since_ms = j->has_since ? j->since_ms : 0;
	j->rc = pxd_dlq_replay(d->conf->data_dir, &f, requeue, d, &st, j->err, sizeof(j->err));
	j->replayed = st.replayed;
	j->skipped = st.skipped;
	pxd_admin_job_finish(j);
}

void pxd_ep_admin_dlq_answer(struct pxd_reqctx *rc, const struct pxd_admin_job *j)
{
	char msg[640];
	int r = j->rc;

	/* The one deferred answer ingest knows of: the reload's is its own. */
	if (j->kind == PXD_ADMIN_JOB_RELOAD) {
		pxd_ep_admin_reload_answer(rc, j);
		return;
	}
	if (r == 0) {
		char ok[96];
		int n = snprintf(ok, sizeof(ok), "{\"replayed\":%zu,\"skipped\":%zu}", j->replayed,
				 j->skipped);

		pxd_reply_body(rc, 200, "application/json", ok, (size_t)n, NULL);
		return;
	}
	if (r == -ENOSPC || r == -ENOENT || r == -ENOMEM) {
		snprintf(msg, sizeof(msg),
			 "dlq: replayed %zu, then stopped: %s; run the replay again later",
			 j->replayed,
			 r == -ENOSPC	? "the replay queue is full"
			 : r == -ENOENT ? "a destination of these dead letters is not an HTTP "
					  "destination of this configuration"
					: "out of memory");
		reply_error(rc, 503, msg);
		return;
	}
	reply_error(rc, r == -EINVAL ? 400 : 500, j->err[0] ? j->err : strerror(-r));
}
