/* SPDX-License-Identifier: MIT */
/*
 * pixelctl_stream.h - reading pixeld's /admin/stream for pixelctl tail and
 * top: one request, its text/event-stream body split into events. Blocking;
 * pixelctl's one thread.
 */
#ifndef PXD_PIXELCTL_STREAM_H
#define PXD_PIXELCTL_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* One event of the stream: its type ("stats", "ev", "id"), id (0 when
 * none) and data, valid during the callback only. */
struct pxd_sse_event {
	const char *type;
	uint64_t id;
	const char *data;
	size_t len;
};

typedef void pxd_sse_fn(const struct pxd_sse_event *ev, void *ctx);

/*
 * Fetches /admin/stream?since=<*since> from <conf>'s pixeld and calls <fn>
 * for each event in order; <*since> moves to the last id seen. Returns 0,
 * or -errno with <err> saying what failed and what to check (pixeld not
 * running, wrong admin key).
 */
int pxd_sse_fetch(const struct pxd_conf *conf, uint64_t *since, pxd_sse_fn *fn, void *ctx,
		  char *err, size_t errlen);

/* Sleeps the interval the stream asks for between requests (1 s). */
void pxd_sse_pause(void);

#endif
