// SPDX-License-Identifier: MIT
#include "pixelctl_stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_client.h"
#include "daemon/console/console.h"

/* Splits <body> into events: "field: value" lines, an empty line ends one. */
static void parse(char *body, size_t len, uint64_t *since, pxd_sse_fn *fn, void *ctx)
{
	struct pxd_sse_event ev = { .type = "message" };
	char *end = body + len;

	for (char *line = body; line < end;) {
		char *nl = memchr(line, '\n', (size_t)(end - line));

		if (!nl)
			nl = end;
		*nl = '\0';
		if (line == nl) {
			if (ev.data)
				fn(&ev, ctx);
			if (ev.id)
				*since = ev.id;
			ev = (struct pxd_sse_event){ .type = "message" };
		} else if (strncmp(line, "event: ", 7) == 0) {
			ev.type = line + 7;
		} else if (strncmp(line, "id: ", 4) == 0) {
			ev.id = strtoull(line + 4, NULL, 10);
		} else if (strncmp(line, "data: ", 6) == 0) {
			ev.data = line + 6;
			ev.len = (size_t)(nl - ev.data);
		}
		line = nl + 1;
	}
}

int pxd_sse_fetch(const struct pxd_conf *conf, uint64_t *since, pxd_sse_fn *fn, void *ctx,
		  char *err, size_t errlen)
{
	struct pxd_buf out = { 0 };
	char path[64];
	long status = 0;
	int rc;

	snprintf(path, sizeof(path), "/admin/stream?since=%llu", (unsigned long long)*since);
	rc = pxd_admin_request(conf, "GET", path, NULL, 0, &out, &status, err, errlen);
	if (!rc && status != 200) {
		snprintf(err, errlen, "/admin/stream answered %ld: %.*s%s", status,
			 (int)(out.len > 200 ? 200 : out.len), out.p ? out.p : "",
			 status == 401 ? " (server.admin_key in the -c file must be pixeld's)"
				       : "");
		rc = -EPROTO;
	}
	/* A NUL after the body: parse() ends its last line there. */
	if (!rc && out.p && pxd_buf_reserve(&out, 1) == 0)
		parse(out.p, out.len, since, fn, ctx);
	pxd_buf_free(&out);
	return rc;
}

void pxd_sse_pause(void)
{
	struct timespec ts = { PXD_CONSOLE_RETRY_MS / 1000,
			       (PXD_CONSOLE_RETRY_MS % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}
