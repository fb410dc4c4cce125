// SPDX-License-Identifier: MIT
/*
 * POST /e: a beacon with one canonical event or {"batch":[...]} of up to
 * 500, as sendBeacon (text/plain) or fetch (application/json) sends it. A
 * batch is all or nothing: every event is checked before the first is
 * journaled.
 */
#include <stdio.h>
#include <string.h>

#include "accept.h"
#include "arena.h"
#include "event_json.h"
#include "router.h"

#define DETAIL_MAX 256

static bool content_type_ok(struct pxd_sv ct)
{
	const char *semi = memchr(ct.p, ';', ct.n);
	struct pxd_sv media = semi ? pxd_sv_make(ct.p, (size_t)(semi - ct.p)) : ct;

	while (media.n && (media.p[media.n - 1] == ' ' || media.p[media.n - 1] == '\t'))
		media.n--;
	/* No Content-Type at all is read as JSON: some beacon libraries send none. */
	return !ct.p || pxd_sv_ieq(media, "text/plain") || pxd_sv_ieq(media, "application/json");
}

/* Prefixes "batch[i]." to a detail that names a field of event <i>. */
static void detail_for(const struct pxd_event_json *ej, size_t i, char *detail, size_t dlen)
{
	char tmp[DETAIL_MAX];

	if (!ej->batch || !detail[0] || strncmp(detail, "batch[", 6) == 0)
		return;
	snprintf(tmp, sizeof(tmp), "batch[%zu].%s", i, detail);
	snprintf(detail, dlen, "%s", tmp);
}

static enum pxd_refusal accept_all(struct pxd_reqctx *rc, const struct pxd_event_json *ej,
				   char *detail)
{
	struct pxd_ingest *ing = rc->ing;
	enum pxd_refusal r;
	struct pxd_event ev;

	/* Pass 1: check every event; pass 2 journals them. Between the two
	 * nothing can refuse but memory, so a batch is all or nothing. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ej->n; i++) {
			r = pxd_event_json_get(ej, i, ing->now_ms, &ev, ing->json_scratch,
					       PXD_HTTP_MAX_BODY, detail, DETAIL_MAX);
			if (r == PXD_REFUSAL_NONE)
				r = pxd_accept_prepare(rc, &ev, PXD_EVENT_SOURCE_BEACON, detail,
						       DETAIL_MAX);
			if (r == PXD_REFUSAL_NONE && pass == 1)
				r = pxd_accept_commit(rc, &ev, pxd_accept_shard(rc, &ev));
			if (r != PXD_REFUSAL_NONE) {
				detail_for(ej, i, detail, DETAIL_MAX);
				return r;
			}
		}
	}
	return PXD_REFUSAL_NONE;
}

void pxd_ep_beacon(struct pxd_reqctx *rc)
{
	struct pxd_arena *arena = pxd_arena_current();
	struct pxd_event_json ej;
	char detail[DETAIL_MAX] = "";
	enum pxd_refusal r;

	if (pxd_accept_is_bot(rc)) {
		pxd_reply_empty(rc, 204);
		return;
	}
	if (!content_type_ok(rc->req->content_type)) {
		pxd_reply_refusal(rc, PXD_REFUSAL_BAD_CONTENT_TYPE, NULL);
		return;
	}
	r = pxd_event_json_parse(&ej, rc->req->body.p, rc->req->body.n, detail, sizeof(detail));
	if (r == PXD_REFUSAL_NONE) {
		r = accept_all(rc, &ej, detail);
		pxd_event_json_free(&ej);
	}
	if (arena)
		pxd_arena_reset(arena);
	if (r == PXD_REFUSAL_NONE)
		pxd_reply_empty(rc, 204);
	else
		pxd_reply_refusal(rc, r, detail[0] ? detail : NULL);
}
