// SPDX-License-Identifier: MIT
/*
 * GET /health, /health/live, /health/ready on both listeners. Ready means
 * the data directory is writable and every dispatcher has looped recently.
 */
#include <stdio.h>
#include <string.h>

#include "ingest.h"
#include "jsonw.h"

#include "router.h"
#include "xdp_ctl.h"

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

/* "ok", "full" (journal.max_bytes reached) or the error of a failing write. */
static const char *journal_state(const struct pxd_daemon *d, char *buf, size_t len)
{
	for (unsigned i = 0; i < d->ningest; i++) {
		const struct pxd_ingest *ing = &d->ingest[i];

		for (unsigned s = 0; s < ing->nstreams; s++) {
			int err = __atomic_load_n(&ing->streams[s].error, __ATOMIC_RELAXED);

			if (err) {
				snprintf(buf, len, "error: %s", strerror(-err));
				return buf;
			}
		}
		if (pxd_stat_get(&ing->m->journal_bytes) >= ing->journal_quota)
			return "full";
	}
	return "ok";
}

static void member_str(struct pxd_jsonw *w, const char *key, const char *value)
{
	pxd_jsonw_key(w, key, strlen(key));
	pxd_jsonw_string(w, value, strlen(value));
}

static void member_bool(struct pxd_jsonw *w, const char *key, bool value)
{
	pxd_jsonw_key(w, key, strlen(key));
	pxd_jsonw_bool(w, value);
}

/*
 * The XDP state and the journal error are texts from libbpf and strerror(),
 * so the body goes through the JSON writer: valid JSON whatever they hold.
 */
static int ready_body(struct pxd_reqctx *rc, char *body, size_t len, bool *ok)
{
	const struct pxd_daemon *d = rc->ing->d;
	bool disp = dispatchers_alive(d, rc->ing->mono_ms);
	bool stopping = rc->ing->stopping;
	char jbuf[96];
	const char *journal = journal_state(d, jbuf, sizeof(jbuf));
	struct pxd_jsonw w;
	ssize_t n;

	*ok = disp && !stopping && journal[0] == 'o';
	pxd_jsonw_init(&w, body, len);
	pxd_jsonw_object_begin(&w);
	member_bool(&w, "ready", *ok);
	member_str(&w, "dispatchers", disp ? "ok" : "stalled");
	member_str(&w, "journal", journal);
	member_bool(&w, "stopping", stopping);
	member_str(&w, "xdp", pxd_xdp_ctl_state(d->xdp));
	/* 0 is valid (events are journaled only), and worth seeing here. */
	pxd_jsonw_key(&w, "destinations", strlen("destinations"));
	pxd_jsonw_int(&w, (int64_t)d->conf->ndests);
	pxd_jsonw_object_end(&w);
	n = pxd_jsonw_finish(&w);
	return n < 0 ? snprintf(body, len, "{\"ready\":false}") : (int)n;
}

void pxd_ep_health(struct pxd_reqctx *rc)
{
	const struct pxd_daemon *d = rc->ing->d;
	struct pxd_sv path = rc->req->path;
	char body[768];
	bool ok = true;
	int n;

	if (pxd_sv_eq_lit(path, "/health/live")) {
		n = snprintf(body, sizeof(body), "{\"live\":true}");
	} else if (pxd_sv_eq_lit(path, "/health/ready")) {
		n = ready_body(rc, body, sizeof(body), &ok);
	} else {
		n = snprintf(body, sizeof(body), "{\"status\":\"ok\",\"version\":\"%s\"}",
			     d->version);
	}
	pxd_reply_body(rc, ok ? 200 : 503, "application/json", body, (size_t)n, NULL);
}
