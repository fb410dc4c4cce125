// SPDX-License-Identifier: MIT
#include "daemon/console/console_dlq.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "daemon/console/ep_console.h"
#include "dlq.h"
#include "ingest.h"

struct pick {
	const char *reason;		  /* NULL: any */
	char *lines[PXD_CONSOLE_DLQ_MAX]; /* ring of the newest matches */
	size_t matched;
	int err;
};

static int keep(void *ctx, const struct pxd_dlq_record *r)
{
	struct pick *p = ctx;
	char **slot;

	if (p->reason && !strstr(r->reason, p->reason))
		return 0;
	slot = &p->lines[p->matched++ % PXD_CONSOLE_DLQ_MAX];
	free(*slot);
	*slot = strndup(r->line, r->line_len);
	if (!*slot) {
		p->err = -ENOMEM;
		return 1;
	}
	return 0;
}

static bool configured(const struct pxd_conf *conf, const char *dest)
{
	for (size_t i = 0; i < conf->ndests; i++)
		if (strcmp(conf->dests[i].name, dest) == 0)
			return true;
	return false;
}

void pxd_ep_admin_dlq_list(struct pxd_reqctx *rc)
{
	const struct pxd_conf *conf = rc->ing->d->conf;
	struct pxd_dlq_filter f = { 0 };
	struct pick p = { 0 };
	struct pxd_buf out = { 0 };
	char dest[64], reason[256], since[64], id[64], err[512] = "";
	size_t n;
	int r;

	if (pxd_console_query(rc->req->query, "dest", dest, sizeof(dest)) && dest[0])
		f.dest = dest;
	if (pxd_console_query(rc->req->query, "reason", reason, sizeof(reason)) && reason[0])
		p.reason = reason;
	if (pxd_console_query(rc->req->query, "id", id, sizeof(id)) && id[0])
		f.id = id;
	if (pxd_console_query(rc->req->query, "since", since, sizeof(since)) && since[0] &&
	    pxd_dlq_time_parse(since, pxd_now_ms(), &f.since_ms)) {
		pxd_reply_refusal(rc, PXD_REFUSAL_BAD_EVENT,
				  "since: use RFC 3339 (2024-11-22T17:00:00Z) or a duration (1h)");
		return;
	}
	if (f.dest && !configured(conf, f.dest)) {
		pxd_reply_refusal(rc, PXD_REFUSAL_BAD_EVENT,
				  "dest: no such destination in the configuration");
		return;
	}
	r = pxd_dlq_scan(conf->data_dir, &f, keep, &p, NULL, err, sizeof(err));
	if (r == 0 && p.err)
		r = p.err;
	n = p.matched < PXD_CONSOLE_DLQ_MAX ? p.matched : PXD_CONSOLE_DLQ_MAX;
	pxd_buf_puts(&out, "{\"dead_letters\":[");
	for (size_t i = 0; i < n; i++) /* newest first */
		pxd_buf_printf(&out, "%s%s", i ? "," : "",
			       p.lines[(p.matched - 1 - i) % PXD_CONSOLE_DLQ_MAX]);
	pxd_buf_printf(&out, "],\"matched\":%zu}", p.matched);
	for (size_t i = 0; i < PXD_CONSOLE_DLQ_MAX; i++)
		free(p.lines[i]);
	if (r == -EINVAL)
		pxd_reply_refusal(rc, PXD_REFUSAL_BAD_EVENT, err[0] ? err : "bad dest");
	else if (r || !out.p)
		pxd_reply_refusal(rc, PXD_REFUSAL_INTERNAL,
				  err[0] ? err : "cannot read the dead letters");
	else
		pxd_reply_body(rc, 200, "application/json", out.p, out.len, NULL);
	pxd_buf_free(&out);
}
