/* SPDX-License-Identifier: MIT */
/*
 * console_stats.h - the console's once-a-second snapshot: rates since the last
 * one (accepted by endpoint, refused by reason, per destination), levels
 * (backlog, breaker, journal, XDP) and the counts the journal tail keeps (by
 * tenant and source, email opens by campaign and kind). Owned by the console
 * thread; the JSON it writes is published by console.c.
 */
#ifndef PXD_CONSOLE_STATS_H
#define PXD_CONSOLE_STATS_H

#include <stdint.h>

#include "buf.h"
#include "daemon.h"
#include "mail_proxy.h"
#include "metrics.h"

#define PXD_CONSOLE_KEYS 64 /* tenants, sources or campaigns tracked; more share "other" */

/* Counts by a name (tenant, source, campaign) since the console started, and
 * the same at the previous snapshot for the per-second rate. */
struct pxd_console_count {
	char name[64];
	uint64_t n;
	uint64_t prev;
	uint64_t kind[PXD_OPEN_KIND_COUNT]; /* campaigns: opens by kind */
};

struct pxd_console_counts {
	struct pxd_console_count items[PXD_CONSOLE_KEYS];
	unsigned n;
};

struct pxd_console_stats {
	int64_t prev_ms;
	uint64_t accepted[PXD_EP_COUNT];
	uint64_t refused[PXD_REFUSAL_COUNT];
	uint64_t *dest_prev; /* ndests x 3: delivered, failed, retried */
	struct pxd_console_counts tenants;
	struct pxd_console_counts sources;
	struct pxd_console_counts campaigns;
};

/* Adds one to <name>'s count in <c> (and to <kind> for a campaign's opens,
 * when <kind> is a valid open kind). */
void pxd_console_count(struct pxd_console_counts *c, const char *name, int kind);

/* Writes the snapshot of <d> at wall-clock <now_ms> into <out> as one JSON
 * object on one line, and remembers the totals for the next rates. Returns
 * 0 or -ENOMEM. Console thread. */
int pxd_console_stats_write(struct pxd_console_stats *s, const struct pxd_daemon *d, int64_t now_ms,
			    struct pxd_buf *out);

#endif
