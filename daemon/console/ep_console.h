/* SPDX-License-Identifier: MIT */
/*
 * ep_console.h - the console's routes, for the router: the page and its
 * assets, and /admin/stream. The admin listener's ingest thread.
 */
#ifndef PXD_EP_CONSOLE_H
#define PXD_EP_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "http_reply.h"

/* GET /, /console.js, /console.css: the embedded files, or 401 with a Basic
 * challenge (the browser then asks for the admin key) without the key. */
void pxd_ep_console_page(struct pxd_reqctx *rc);

/* GET /admin/stream[?since=ID]: one text/event-stream response (see
 * pxd_console_stream()), 401 without the key, 500 without a console. */
void pxd_ep_admin_stream(struct pxd_reqctx *rc);

/* True when <rc> carries the admin key (or none is configured); otherwise
 * answers 401 with the Basic challenge and returns false. */
bool pxd_console_authorized(struct pxd_reqctx *rc);

/* Copies query parameter <name> of <q>, percent-decoded ('+' is a blank),
 * into <out> of <cap> bytes (cut to fit). Returns false when it is absent. */
bool pxd_console_query(struct pxd_sv q, const char *name, char *out, size_t cap);

#endif
