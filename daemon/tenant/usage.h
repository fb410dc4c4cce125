/* SPDX-License-Identifier: MIT */
/*
 * usage.h - per-tenant usage for billing: per UTC day and tenant, events
 * accepted and refused, bytes of the accepted lines, cookies set, extended
 * and restored. The daemon folds the growth of the per-tenant /metrics
 * counters into today's rows and saves the table to <data_dir>/usage.tsv
 * every server.usage_interval by write-and-rename, so a restart continues
 * from the file and a kill -9 loses at most one interval. The table and its
 * file format are shared with pixelctl usage (which reads the file when
 * pixeld is not running). Main thread folds and saves; the admin listener's
 * thread reads under the same mutex (never on the request path).
 */
#ifndef PXD_USAGE_H
#define PXD_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf_tenant.h"
#include "metrics.h"

#define PXD_USAGE_FILE "usage.tsv"

enum pxd_usage_counter {
	PXD_USAGE_ACCEPTED = 0,
	PXD_USAGE_REFUSED,
	PXD_USAGE_BYTES,
	PXD_USAGE_COOKIES_SET,
	PXD_USAGE_COOKIES_EXTENDED,
	PXD_USAGE_COOKIES_RESTORED,
	PXD_USAGE_COUNT, /* number of counters; keep last */
};

/* "accepted", "refused", "bytes", "cookies_set", ... by enum pxd_usage_counter. */
extern const char *const pxd_usage_names[PXD_USAGE_COUNT];

struct pxd_usage_row {
	int32_t day; /* days since 1970-01-01, UTC */
	char tenant[PXD_CONF_TENANT_NAME_MAX];
	uint64_t n[PXD_USAGE_COUNT];
};

/* Rows ordered by day, then tenant. */
struct pxd_usage_table {
	struct pxd_usage_row *rows;
	size_t n;
	size_t cap;
};

/* Adds <n> to the row of <day> and <tenant>, making it. Returns 0 or -ENOMEM. */
int pxd_usage_table_add(struct pxd_usage_table *t, int32_t day, const char *tenant,
			const uint64_t n[PXD_USAGE_COUNT]);

/* Writes "YYYY-MM-DD" for <day> into <out> (11 bytes). */
void pxd_usage_day_text(int32_t day, char out[11]);

/* Parses "YYYY-MM-DD" into <day>. Returns 0 or -EINVAL. */
int pxd_usage_day_parse(const char *s, int32_t *day);

/*
 * Reads <path> into <t> (added to what it holds). Returns 0, -ENOENT when
 * there is no file, -EINVAL with <err> naming the bad line, or -errno.
 */
int pxd_usage_table_load(struct pxd_usage_table *t, const char *path, char *err, size_t errlen);

/* Writes <t> in the file's format to <out>. Returns 0 or -ENOMEM. */
int pxd_usage_table_text(const struct pxd_usage_table *t, struct pxd_buf *out);

/* Writes <t> as JSON {"days":[{"day","tenant",<counters>}]} to <out>. Returns 0 or -ENOMEM. */
int pxd_usage_table_json(const struct pxd_usage_table *t, struct pxd_buf *out);

void pxd_usage_table_free(struct pxd_usage_table *t);

struct pxd_usage;

/*
 * Opens the usage of <data_dir>: loads its usage.tsv. A damaged file is
 * moved aside to usage.tsv.damaged (logged) and counting starts empty.
 * Returns 0, or -errno with <err>.
 */
int pxd_usage_open(struct pxd_usage **u, const char *data_dir, char *err, size_t errlen);

/*
 * Folds the growth of <m>'s per-tenant counters since the last call (names
 * from <c>) into the day of <now_ms>, and saves the table. Main thread.
 */
void pxd_usage_save(struct pxd_usage *u, const struct pxd_metrics *m,
		    const struct pxd_conf_tenants *c, int64_t now_ms);

/*
 * Writes the table as JSON, with what <m> counted since the last save added
 * to today's rows, so the answer is current. Returns 0 or -ENOMEM. Any thread.
 */
int pxd_usage_json(struct pxd_usage *u, const struct pxd_metrics *m,
		   const struct pxd_conf_tenants *c, int64_t now_ms, struct pxd_buf *out);

/* Frees <u> (NULL is fine); call pxd_usage_save first to keep the last counts. */
void pxd_usage_close(struct pxd_usage *u);

#endif
