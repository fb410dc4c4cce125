// SPDX-License-Identifier: MIT
/*
 * Admin listener: POST /admin/dlq/replay {"dest":D,"since":T} (both
 * optional), behind `pixelctl dlq replay`. Each selected dead letter goes back
 * to its one destination, unchanged (same event_id and ts), through that
 * shard's in-memory replay queue (pxd_dispatcher_replay()). Cold path: it
 * reads the dead-letter files on the thread that serves the admin request.
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

static int dest_index(const struct pxd_conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->ndests; i++)
		if (strcmp(conf->dests[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

static int requeue(void *ctx, const char *dest, const char *event, size_t len)
{
	struct pxd_daemon *d = ctx;
	int idx = dest_index(d->conf, dest);

	if (idx < 0)
		return idx;
	return pxd_dispatcher_replay(d, (unsigned)idx, event, len);
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
	struct pxd_dlq_replay_stats st = { 0 };
	struct pxd_dlq_filter f = { 0 };
	char err[512] = "";
	char msg[640];
	const char *since;
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
	f.dest = json_string_value(json_object_get(body, "dest"));
	if (f.dest && dest_index(d->conf, f.dest) < 0) {
		snprintf(msg, sizeof(msg), "dlq: no destination \"%.64s\" in the configuration",
			 f.dest);
		reply_error(rc, 400, msg);
		json_decref(body);
		return;
	}
	since = json_string_value(json_object_get(body, "since"));
	if (since && pxd_dlq_time_parse(since, pxd_now_ms(), &f.since_ms)) {
		reply_error(rc, 400,
			    "dlq: bad since; use RFC 3339 (2024-11-22T17:00:00Z) or a "
			    "duration (1h)");
		json_decref(body);
		return;
	}
	r = pxd_dlq_replay(d->conf->data_dir, &f, requeue, d, &st, err, sizeof(err));
	json_decref(body);
	if (r == 0) {
		char ok[96];
		int n = snprintf(ok, sizeof(ok), "{\"replayed\":%zu,\"skipped\":%zu}", st.replayed,
				 st.skipped);

		pxd_reply_body(rc, 200, "application/json", ok, (size_t)n, NULL);
		return;
	}
	if (r == -ENOSPC || r == -ENOENT || r == -ENOMEM) {
		snprintf(msg, sizeof(msg),
			 "dlq: replayed %zu, then stopped: %s; run the replay again later",
			 st.replayed,
			 r == -ENOSPC	? "the replay queue is full"
			 : r == -ENOENT ? "a destination of these dead letters is not an HTTP "
					  "destination of this configuration"
					: "out of memory");
		reply_error(rc, 503, msg);
		return;
	}
	reply_error(rc, r == -EINVAL ? 400 : 500, err[0] ? err : strerror(-r));
}
