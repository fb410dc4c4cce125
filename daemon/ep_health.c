// SPDX-License-Identifier: MIT
/*
 * GET /health, /health/live, /health/ready on both listeners. Ready means
 * the data directory is writable and every dispatcher has looped recently.
 */
#include <stdio.h>

#include "router.h"

/* A dispatcher that has not looped for this long is stuck. */
#define DISPATCHER_STALL_MS 5000

static bool dispatchers_alive(const struct pxd_daemon *d, int64_t now_ms)
{
	for (unsigned i = 0; i < d->ndisp; i++) {
		int64_t beat = __atomic_load_n(&d->disp_heartbeat_ms[i], __ATOMIC_RELAXED);

		if (now_ms - beat > DISPATCHER_STALL_MS)
			return false;
	}
	return true;
}

void pxd_ep_health(struct pxd_reqctx *rc)
{
	const struct pxd_daemon *d = rc->ing->d;
	struct pxd_sv path = rc->req->path;
	char body[256];
	bool ok = true;
	int n;

	if (pxd_sv_eq_lit(path, "/health/live")) {
		n = snprintf(body, sizeof(body), "{\"live\":true}");
	} else if (pxd_sv_eq_lit(path, "/health/ready")) {
		bool disp = dispatchers_alive(d, rc->ing->mono_ms);
		bool stopping = rc->ing->stopping;

		ok = disp && !stopping;
		n = snprintf(body, sizeof(body),
			     "{\"ready\":%s,\"dispatchers\":\"%s\",\"stopping\":%s,\"xdp\":\"off\"}",
			     ok ? "true" : "false", disp ? "ok" : "stalled",
			     stopping ? "true" : "false");
	} else {
		n = snprintf(body, sizeof(body), "{\"status\":\"ok\",\"version\":\"%s\"}",
			     d->version);
	}
	pxd_reply_body(rc, ok ? 200 : 503, "application/json", body, (size_t)n, NULL);
}
