// SPDX-License-Identifier: MIT
/*
 * The console's routes on the admin listener: GET / (the page), /console.js
 * and /console.css (embedded in the binary from daemon/console/www/), and
 * GET /admin/stream[?since=ID], the text/event-stream the page, pixelctl tail
 * and pixelctl top read. Each stream response carries the latest stats and
 * the events after ID, then ends: EventSource and pixelctl come back after
 * "retry:" (1 s), so the admin listener's io_uring thread never holds a
 * streaming connection. All behind the admin key (Bearer or Basic).
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daemon/console/console.h"
#include "daemon/console/console_auth.h"
#include "daemon/console/ep_console.h"
#include "ingest.h"

extern const char pxd_www_index_html[], pxd_www_console_js[], pxd_www_console_css[];

static const struct asset {
	const char *path;
	const char *type;
	const char *body;
} assets[] = {
	{ "/", "text/html; charset=utf-8", pxd_www_index_html },
	{ "/console.js", "text/javascript; charset=utf-8", pxd_www_console_js },
	{ "/console.css", "text/css; charset=utf-8", pxd_www_console_css },
};

#define NO_STORE "Cache-Control: no-store\r\n"

bool pxd_console_authorized(struct pxd_reqctx *rc)
{
	static const char body[] = "{\"error\":\"unauthorized\",\"detail\":\"the console needs the "
				   "admin key: give it as the password (any user name)\"}";
	const char *key = rc->ing->d->conf->admin_key;

	if (!key[0] || pxd_admin_auth_ok(rc->req->authorization, key))
		return true;
	pxd_reply_body(rc, 401, "application/json", body, sizeof(body) - 1,
		       "WWW-Authenticate: Basic realm=\"" PXD_CONSOLE_REALM
		       "\", charset=\"UTF-8\"\r\n");
	return false;
}

void pxd_ep_console_page(struct pxd_reqctx *rc)
{
	if (!pxd_console_authorized(rc))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(assets); i++) {
		if (pxd_sv_eq_lit(rc->req->path, assets[i].path)) {
			pxd_reply_body(rc, 200, assets[i].type, assets[i].body,
				       strlen(assets[i].body), NO_STORE);
			return;
		}
	}
	pxd_reply_refusal(rc, PXD_REFUSAL_NOT_FOUND, NULL);
}

static int hex(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

bool pxd_console_query(struct pxd_sv q, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i + nlen < q.n; i++) {
		size_t n = 0;

		if ((i && q.p[i - 1] != '&') || memcmp(q.p + i, name, nlen) || q.p[i + nlen] != '=')
			continue;
		for (i += nlen + 1; i < q.n && q.p[i] != '&' && n + 1 < cap; i++) {
			if (q.p[i] == '%' && i + 2 < q.n && hex(q.p[i + 1]) >= 0 &&
			    hex(q.p[i + 2]) >= 0) {
				out[n++] = (char)(hex(q.p[i + 1]) * 16 + hex(q.p[i + 2]));
				i += 2;
			} else {
				out[n++] = q.p[i] == '+' ? ' ' : q.p[i];
			}
		}
		out[n] = '\0';
		return true;
	}
	return false;
}

void pxd_ep_admin_stream(struct pxd_reqctx *rc)
{
	struct pxd_console *c = rc->ing->d->console;
	struct pxd_buf out = { 0 };
	char since[24] = "0";

	if (!pxd_console_authorized(rc))
		return;
	if (!c) {
		pxd_reply_refusal(rc, PXD_REFUSAL_INTERNAL,
				  "the console is not running (the start-up log says why)");
		return;
	}
	pxd_console_query(rc->req->query, "since", since, sizeof(since));
	if (pxd_console_stream(c, strtoull(since, NULL, 10), &out) == 0)
		pxd_reply_body(rc, 200, "text/event-stream", out.p, out.len, NO_STORE);
	else
		pxd_reply_refusal(rc, PXD_REFUSAL_INTERNAL, "out of memory for the event stream");
	pxd_buf_free(&out);
}
