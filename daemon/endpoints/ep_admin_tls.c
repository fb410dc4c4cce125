// SPDX-License-Identifier: MIT
/*
 * GET /admin/tls: the certificates in use, for pixelctl tls status. Cold
 * path on the admin listener's thread; allocates its answer.
 */
#include "buf.h"
#include "ingest.h"
#include "router.h"
#include "tls.h"

void pxd_ep_admin_tls(struct pxd_reqctx *rc)
{
	struct pxd_buf out = { 0 };

	if (pxd_tls_live_status_json(rc->ing->d->tls, rc->ing->now_ms, &out) == 0)
		pxd_reply_body(rc, 200, "application/json", out.p, out.len, NULL);
	else
		pxd_reply_refusal(rc, PXD_REFUSAL_INTERNAL, "out of memory rendering TLS status");
	pxd_buf_free(&out);
}
