/* SPDX-License-Identifier: MIT */
/*
 * delivery_log.h - the delivery log: one JSON line per outbound request
 * (destination, events carried, HTTP status, latency, the platform's trace
 * id, outcome counts, error), for answering "what happened to that batch?"
 * next to the platform's own logs. Lines are buffered in memory and written
 * at most a second late; the file is rotated by size, keeping N old files.
 * A struct pxd_delivery_log belongs to one dispatcher thread and owns its
 * file alone (one file per dispatcher, so rotation needs no coordination).
 *
 * Line (one per request, fields in this order):
 *   {"time":"2024-11-22T18:26:40.123Z","dest":"meta","events":1000,
 *    "status":200,"latency_ms":183,"trace_id":"AbC-123_xyz","delivered":999,
 *    "retry":0,"permanent":1,"error":"meta: (#100) ..."}
 * "trace_id" and "error" are null when there is none; "status" is 0 for a
 * transport error, whose message is then the error. URLs, headers, bodies
 * and event contents never appear.
 */
#ifndef PXD_DELIVERY_LOG_H
#define PXD_DELIVERY_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "adapter.h"

#define PXD_DELIVERY_LOG_MAX_BYTES (64ull << 20) /* per file, before rotation */
#define PXD_DELIVERY_LOG_KEEP 5u		 /* rotated files kept: NAME.1 .. NAME.5 */
#define PXD_DELIVERY_LOG_FLUSH_MS 1000		 /* buffered lines wait at most this */
#define PXD_DELIVERY_LOG_ERROR_MAX 256		 /* error text kept per line */

/* One request, as the dispatcher saw it complete. Strings are the caller's. */
struct pxd_delivery_log_rec {
	int64_t time_ms; /* wall-clock Unix ms at completion */
	const char *dest;
	uint32_t events; /* events the request carried */
	long status;	 /* HTTP status; 0: transport error */
	uint32_t latency_ms;
	const char *trace_id; /* NULL or "": none */
	uint32_t delivered;
	uint32_t retry;
	uint32_t permanent;
	const char *error; /* NULL: none; cut at PXD_DELIVERY_LOG_ERROR_MAX bytes */
};

struct pxd_delivery_log;

/*
 * Opens (appending) <dir>/<name>, making <dir> (mode 0700) when missing.
 * When the file would pass <max_bytes> it becomes <name>.1, older ones move
 * up to <name>.<keep> and the oldest is deleted (<keep> 0: only the current
 * file). Returns 0, -EINVAL (max_bytes 0, keep over 100, a '/' in name),
 * -ENOMEM, or the -errno of mkdir/open.
 */
int pxd_delivery_log_open(struct pxd_delivery_log **out, const char *dir, const char *name,
			  uint64_t max_bytes, unsigned keep);

/* Flushes what is buffered and closes. Accepts NULL. */
void pxd_delivery_log_close(struct pxd_delivery_log *l);

/*
 * Counts the <n> outcomes <out> of one request into <r>'s delivered, retry
 * and permanent, and when r->error is NULL points it at the first reason of
 * an outcome that is not OK (so <out> must outlive the write).
 */
void pxd_delivery_log_tally(struct pxd_delivery_log_rec *r, const struct pxd_outcome *out,
			    size_t n);

/*
 * Buffers the line for <r>; writes the buffer first when it is full. No
 * allocation, and a syscall only then. Returns 0, or the -errno of that write
 * (the buffered lines are dropped: the log must never hold up delivery).
 */
int pxd_delivery_log_write(struct pxd_delivery_log *l, const struct pxd_delivery_log_rec *r);

/* Flushes when PXD_DELIVERY_LOG_FLUSH_MS have passed since the last flush at
 * monotonic <now_ms>; the dispatcher calls it every loop pass. Returns 0 or
 * the -errno of the write or rotation. */
int pxd_delivery_log_tick(struct pxd_delivery_log *l, int64_t now_ms);

/* Writes the buffered lines now, rotating first when they would pass the
 * size limit. Returns 0 or -errno (the lines are dropped). */
int pxd_delivery_log_flush(struct pxd_delivery_log *l);

#endif
