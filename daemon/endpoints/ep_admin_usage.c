// SPDX-License-Identifier: MIT
/*
 * GET /admin/usage: per-day, per-tenant usage for pixelctl usage, current to
 * the request (what was counted since the last save included). Cold path on
 * the admin listener's thread; allocates its answer.
 */
#include "buf.h"
#include "daemon/tenant/usage.h"
#include "ingest.h"
#include "router.h"

void pxd_ep_admin_usage(struct pxd_reqctx *rc)
{
	const struct pxd_daemon *d = rc->ing->d;
	struct pxd_buf out = { 0 };
	int err;

	if (!d->usage) {
		static const char none[] = "{\"days\":[]}";

		pxd_reply_body(rc, 200, "application/json", none, sizeof(none) - 1, NULL);
		return;
	}
	err = pxd_usage_json(d->usage, &d->metrics, &d->conf->tenants, rc->ing->now_ms, &out);
	if (!err)
		pxd_reply_body(rc, 200, "application/json", out.p, out.len, NULL);
	else
		pxd_reply_refusal(rc, PXD_REFUSAL_INTERNAL, "out of memory rendering usage");
	pxd_buf_free(&out);
}
