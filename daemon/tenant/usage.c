// SPDX-License-Identifier: MIT
/*
 * usage.c - the daemon's usage counter (usage.h): the table loaded from
 * <data_dir>/usage.tsv, the per-tenant /metrics counters as of the last
 * fold, and the save (write to usage.tsv.tmp, fsync, rename, fsync the
 * directory: a kill -9 leaves the old file or the new one, never half).
 * The main thread folds and saves; the admin listener's thread renders; the
 * mutex is held for memory work only, never for the file I/O.
 */
#include "daemon/tenant/usage.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

struct pxd_usage {
	pthread_mutex_t lock;
	struct pxd_usage_table table;
	/* The counters folded so far, by tenant position, and whose they were. */
	uint64_t seen[PXD_CONF_TENANT_MAX][PXD_USAGE_COUNT];
	char seen_name[PXD_CONF_TENANT_MAX][PXD_CONF_TENANT_NAME_MAX];
	char path[4096];
	char dir[4096];
	int last_err; /* of the last save, so a failing disk is logged once, not every interval */
};

/* The per-tenant counters of /metrics that usage bills, summed over the ingest threads. */
static void read_counters(const struct pxd_metrics *m, size_t t, uint64_t n[PXD_USAGE_COUNT])
{
	memset(n, 0, PXD_USAGE_COUNT * sizeof(*n));
	for (unsigned i = 0; i < m->ningest; i++) {
		const struct pxd_metrics_ingest *g = &m->ingest[i];

		n[PXD_USAGE_ACCEPTED] += pxd_stat_get(&g->tenant_accepted[t]);
		n[PXD_USAGE_REFUSED] += pxd_stat_get(&g->tenant_refused[t]);
		n[PXD_USAGE_BYTES] += pxd_stat_get(&g->tenant_bytes[t]);
		n[PXD_USAGE_COOKIES_SET] += pxd_stat_get(&g->tenant_cookies_set[t]);
		n[PXD_USAGE_COOKIES_EXTENDED] += pxd_stat_get(&g->tenant_cookies_extended[t]);
		n[PXD_USAGE_COOKIES_RESTORED] += pxd_stat_get(&g->tenant_cookies_restored[t]);
	}
}

/*
 * What tenant <t> counted since the last fold. A position that now names
 * another tenant (a reload reordered them) starts from what it holds now.
 */
static bool growth(const struct pxd_usage *u, const struct pxd_metrics *m,
		   const struct pxd_conf_tenants *c, size_t t, uint64_t now[PXD_USAGE_COUNT],
		   uint64_t delta[PXD_USAGE_COUNT])
{
	/* Nothing seen yet: the counters started at zero with the process. */
	bool same = !u->seen_name[t][0] || strcmp(u->seen_name[t], c->t[t].name) == 0;
	bool any = false;

	read_counters(m, t, now);
	for (unsigned k = 0; k < PXD_USAGE_COUNT; k++) {
		delta[k] = same && now[k] >= u->seen[t][k] ? now[k] - u->seen[t][k] : 0;
		any |= delta[k] != 0;
	}
	return any;
}

int pxd_usage_open(struct pxd_usage **out, const char *data_dir, char *err, size_t errlen)
{
	struct pxd_usage *u = calloc(1, sizeof(*u));
	char damaged[4096 + 16];
	int rc;

	if (!u) {
		snprintf(err, errlen, "usage: out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&u->lock, NULL);
	if (snprintf(u->path, sizeof(u->path), "%s/%s", data_dir, PXD_USAGE_FILE) >=
		(int)sizeof(u->path) ||
	    snprintf(u->dir, sizeof(u->dir), "%s", data_dir) >= (int)sizeof(u->dir)) {
		snprintf(err, errlen, "usage: server.data_dir is too long; use a shorter one");
		pxd_usage_close(u);
		return -ENAMETOOLONG;
	}
	rc = pxd_usage_table_load(&u->table, u->path, err, errlen);
	if (rc == -EINVAL) {
		/* Kept for whoever bills from it; counting goes on in a new file. */
		snprintf(damaged, sizeof(damaged), "%s.damaged", u->path);
		pxd_log_warn("usage", "%s; moved to %s, counting starts from zero", err, damaged);
		pxd_usage_table_free(&u->table);
		if (rename(u->path, damaged)) {
			rc = -errno;
			snprintf(err, errlen, "usage: cannot move %s aside: %s; move or remove it",
				 u->path, strerror(errno));
			pxd_usage_close(u);
			return rc;
		}
	} else if (rc && rc != -ENOENT) {
		pxd_usage_close(u);
		return rc;
	}
	*out = u;
	return 0;
}

static int write_file(const struct pxd_usage *u, const struct pxd_buf *text)
{
	char tmp[sizeof(u->path) + 8];
	size_t off = 0;
	int rc = 0;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", u->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	while (!rc && off < text->len) {
		ssize_t n = write(fd, text->p + off, text->len - off);

		if (n < 0 && errno != EINTR)
			rc = -errno;
		off += n > 0 ? (size_t)n : 0;
	}
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, u->path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	fd = open(u->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

void pxd_usage_save(struct pxd_usage *u, const struct pxd_metrics *m,
		    const struct pxd_conf_tenants *c, int64_t now_ms)
{
	struct pxd_buf text = { 0 };
	bool changed = false;
	int rc = 0;

	pthread_mutex_lock(&u->lock);
	for (size_t t = 0; !rc && t < c->n; t++) {
		uint64_t now[PXD_USAGE_COUNT], delta[PXD_USAGE_COUNT];

		if (growth(u, m, c, t, now, delta)) {
			rc = pxd_usage_table_add(&u->table, (int32_t)(now_ms / 86400000),
						 c->t[t].name, delta);
			changed = true;
		}
		if (!rc) {
			memcpy(u->seen[t], now, sizeof(now));
			memcpy(u->seen_name[t], c->t[t].name, sizeof(u->seen_name[t]));
		}
	}
	if (changed && !rc)
		rc = pxd_usage_table_text(&u->table, &text);
	pthread_mutex_unlock(&u->lock);
	if (changed && !rc)
		rc = write_file(u, &text);
	pxd_buf_free(&text);
	if (rc && rc != u->last_err)
		pxd_log_warn("usage",
			     "cannot save %s: %s; the counts stay in memory and the next save "
			     "retries (check the disk holding server.data_dir)",
			     u->path, strerror(-rc));
	u->last_err = rc;
}

int pxd_usage_json(struct pxd_usage *u, const struct pxd_metrics *m,
		   const struct pxd_conf_tenants *c, int64_t now_ms, struct pxd_buf *out)
{
	struct pxd_usage_table live = { 0 };
	int rc = 0;

	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; !rc && i < u->table.n; i++)
		rc = pxd_usage_table_add(&live, u->table.rows[i].day, u->table.rows[i].tenant,
					 u->table.rows[i].n);
	for (size_t t = 0; !rc && t < c->n; t++) {
		uint64_t now[PXD_USAGE_COUNT], delta[PXD_USAGE_COUNT];

		if (growth(u, m, c, t, now, delta))
			rc = pxd_usage_table_add(&live, (int32_t)(now_ms / 86400000), c->t[t].name,
						 delta);
	}
	pthread_mutex_unlock(&u->lock);
	if (!rc)
		rc = pxd_usage_table_json(&live, out);
	pxd_usage_table_free(&live);
	return rc;
}

void pxd_usage_close(struct pxd_usage *u)
{
	if (!u)
		return;
	pxd_usage_table_free(&u->table);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
