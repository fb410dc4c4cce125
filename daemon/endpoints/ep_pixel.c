// SPDX-License-Identifier: MIT
/*
 * GET /p.gif and GET /p: the pixel query becomes one canonical event. The
 * answer is the image (or 204) whatever happens to the event: a page never
 * shows a broken image, and a refusal is counted instead.
 */
#include "intake.h"
#include "event_query.h"
#include "router.h"

void pxd_ep_pixel(struct pxd_reqctx *rc)
{
	struct pxd_ingest *ing = rc->ing;
	const struct pxd_http_req *req = rc->req;
	struct pxd_event ev;
	char detail[160];
	enum pxd_refusal r;

	if (pxd_intake_is_bot(rc))
		goto reply;
	r = pxd_event_query_parse(req->query.p, req->query.n, ing->now_ms, &ev, ing->query_scratch,
				  PXD_HTTP_MAX_URI + 1, detail, sizeof(detail));
	if (r == PXD_REFUSAL_NONE)
		r = pxd_intake_prepare(rc, &ev, PXD_EVENT_SOURCE_PIXEL, detail, sizeof(detail));
	if (r == PXD_REFUSAL_NONE)
		r = pxd_intake_commit(rc, &ev, pxd_intake_shard(rc, &ev));
	if (r != PXD_REFUSAL_NONE)
		pxd_stat_add(&ing->m->events_rejected[r], 1);
reply:
	if (rc->ep == PXD_EP_PIXEL_GIF)
		pxd_reply_gif(rc, "no-store");
	else
		pxd_reply_empty(rc, 204);
}
