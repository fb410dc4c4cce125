// SPDX-License-Identifier: MIT
/*
 * POST /admin/journal/drop {"dest":"NAME"}: pixelctl journal drop. A
 * destination a reload removed keeps its journal cursor, and so the journal
 * behind it, until this lets it go: the shards apply it at their next batch
 * boundary (dispatch_conf.c), and the segments nothing else needs are
 * reclaimed at the next watermark sync. Admin listener (ingest thread 0).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "ingest.h"
#include "router.h"

static void answer(struct pxd_reqctx *rc, unsigned status, const char *error, const char *detail)
{
	char body[512];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"detail\":\"%s\"}", error, detail);

	pxd_reply_body(rc, status, "application/json", body, (size_t)n, NULL);
}

void pxd_ep_admin_journal_drop(struct pxd_reqctx *rc)
{
	json_t *body = json_loadb(rc->req->body.p, rc->req->body.n, 0, NULL);
	const char *dest = json_string_value(json_object_get(body, "dest"));
	const struct pxd_conf *c = rc->conf;
	char ok[128];
	size_t i;
	int n;

	for (i = 0; dest && i < c->ndests; i++)
		if (strcmp(c->dests[i].name, dest) == 0)
			break;
	if (!dest) {
		answer(rc, 400, "bad_request", "the body must be {\\\"dest\\\":\\\"NAME\\\"}");
	} else if (i == c->ndests) {
		answer(rc, 404, "no_destination",
		       "no destination of that name in this process; pixelctl journal status "
		       "lists them");
	} else if (!c->dests[i].retired) {
		answer(rc, 409, "destination_in_use",
		       "the destination is in the configuration; remove its section (and its "
		       "name from the tenants), reload, then drop it");
	} else {
		__atomic_add_fetch(&rc->ing->d->live.drops[i], 1, __ATOMIC_RELEASE);
		n = snprintf(ok, sizeof(ok), "{\"dropped\":\"%s\"}", c->dests[i].name);
		pxd_reply_body(rc, 200, "application/json", ok, (size_t)n, NULL);
	}
	json_decref(body);
}
