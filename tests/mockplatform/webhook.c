// SPDX-License-Identifier: MIT
/*
 * webhook.c - the mock's pixeld webhook receiver (webhook.h): POST
 * /webhook... with an X-Pixeld-Signature header, verified when the mock has
 * the secret, and a JSON array of canonical events.
 */
#include "mock_platform.h"

#include <errno.h>
#include <string.h>

#include "webhook.h"

/* A receiver's usual replay window (webhook.h). */
#define WEBHOOK_TOLERANCE_S 300

static void webhook(struct pxd_mock *m, const struct pxd_http_req *req, int64_t now_ms,
		    struct pxd_mock_resp *r)
{
	char sig[PXD_WEBHOOK_SIG_MAX + 16];
	json_t *body;
	const json_t *ev;
	size_t i;
	int rc;

	if (!pxd_mock_header(req, PXD_WEBHOOK_HEADER, sig, sizeof(sig))) {
		pxd_mock_reply(r, 401, json_pack("{s:s}", "error", "missing " PXD_WEBHOOK_HEADER));
		return;
	}
	if (m->conf.webhook_secret[0]) {
		rc = pxd_webhook_verify(m->conf.webhook_secret, strlen(m->conf.webhook_secret), sig,
					req->body.p, req->body.n, now_ms / 1000,
					WEBHOOK_TOLERANCE_S);
		if (rc) {
			pxd_mock_reply(r, 401,
				       json_pack("{s:s}", "error",
						 rc == -ETIME
						     ? "signature too old or from the future"
						     : "bad signature"));
			return;
		}
	}
	body = pxd_mock_parse_body(req);
	if (!json_is_array(body)) {
		pxd_mock_reply(
		    r, 400, json_pack("{s:s}", "error", "the body must be a JSON array of events"));
		json_decref(body);
		return;
	}
	json_array_foreach(body, i, ev) pxd_mock_record(
	    r, PXD_MOCK_WEBHOOK, json_string_value(json_object_get(ev, "event_id")), ev);
	pxd_mock_reply(r, 200, json_pack("{s:I}", "received", (json_int_t)json_array_size(body)));
	json_decref(body);
}

static bool webhook_route(struct pxd_sv path)
{
	return pxd_sv_starts_with(path, "/webhook");
}

const struct pxd_mock_platform_def pxd_mock_webhook = {
	.name = "webhook",
	.route = webhook_route,
	.handle = webhook,
};
