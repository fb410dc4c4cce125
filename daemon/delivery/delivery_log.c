// SPDX-License-Identifier: MIT
#include "delivery_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dlq.h"
#include "jsonw.h"

/* A second's worth of lines at a few thousand requests/s; longer bursts flush early. */
#define BUF_BYTES (64u * 1024)
#define KEEP_MAX 100u

struct pxd_delivery_log {
	char path[4096];
	uint64_t max_bytes;
	unsigned keep;
	int fd;
	uint64_t size; /* of the current file */
	int64_t flushed_ms;
	size_t len;
	char buf[BUF_BYTES];
};

static int open_current(struct pxd_delivery_log *l)
{
	struct stat st;

	l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (l->fd < 0)
		return -errno;
	l->size = fstat(l->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

int pxd_delivery_log_open(struct pxd_delivery_log **out, const char *dir, const char *name,
			  uint64_t max_bytes, unsigned keep)
{
	struct pxd_delivery_log *l;
	int rc;

	*out = NULL;
	if (!max_bytes || keep > KEEP_MAX || !*name || strchr(name, '/'))
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->fd = -1;
	l->max_bytes = max_bytes;
	l->keep = keep;
	/* Room for ".100" behind the name when rotating. */
	if ((size_t)snprintf(l->path, sizeof(l->path), "%s/%s", dir, name) >= sizeof(l->path) - 5) {
		rc = -ENAMETOOLONG;
		goto fail;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		rc = -errno;
		goto fail;
	}
	rc = open_current(l);
	if (rc)
		goto fail;
	*out = l;
	return 0;
fail:
	free(l);
	return rc;
}

/* NAME.(keep-1) -> NAME.keep, ..., NAME -> NAME.1, then a new NAME. */
static int rotate(struct pxd_delivery_log *l)
{
	char from[sizeof(l->path) + 16], to[sizeof(l->path) + 16];

	close(l->fd);
	l->fd = -1;
	if (!l->keep) {
		if (unlink(l->path) && errno != ENOENT)
			return -errno;
		return open_current(l);
	}
	for (unsigned i = l->keep; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%u", l->path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", l->path, i);
		if (rename(from, to) && errno != ENOENT)
			return -errno;
	}
	snprintf(to, sizeof(to), "%s.1", l->path);
	if (rename(l->path, to) && errno != ENOENT)
		return -errno;
	return open_current(l);
}

int pxd_delivery_log_flush(struct pxd_delivery_log *l)
{
	size_t off = 0;
	int rc = 0;

	if (!l->len)
		return 0;
	/* A failed rotation left no file open: reopen before anything moves again. */
	if (l->fd < 0)
		rc = open_current(l);
	else if (l->size && l->size + l->len > l->max_bytes)
		rc = rotate(l);
	while (!rc && off < l->len) {
		ssize_t n = write(l->fd, l->buf + off, l->len - off);

		if (n < 0)
			rc = -errno;
		else
			off += (size_t)n;
	}
	l->size += off;
	l->len = 0;
	return rc;
}

int pxd_delivery_log_tick(struct pxd_delivery_log *l, int64_t now_ms)
{
	if (now_ms - l->flushed_ms < PXD_DELIVERY_LOG_FLUSH_MS)
		return 0;
	l->flushed_ms = now_ms;
	return pxd_delivery_log_flush(l);
}

void pxd_delivery_log_close(struct pxd_delivery_log *l)
{
	if (!l)
		return;
	pxd_delivery_log_flush(l);
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

void pxd_delivery_log_tally(struct pxd_delivery_log_rec *r, const struct pxd_outcome *out, size_t n)
{
	r->delivered = r->retry = r->permanent = 0;
	for (size_t i = 0; i < n; i++) {
		switch (out[i].delivery) {
		case PXD_DELIVERY_OK:
			r->delivered++;
			continue;
		case PXD_DELIVERY_RETRY:
			r->retry++;
			break;
		case PXD_DELIVERY_PERMANENT:
			r->permanent++;
			break;
		}
		if (!r->error && out[i].reason[0])
			r->error = out[i].reason;
	}
}

static void member_int(struct pxd_jsonw *w, const char *k, int64_t v)
{
	pxd_jsonw_key(w, k, strlen(k));
	pxd_jsonw_int(w, v);
}

/* A string member, null when <v> is NULL or empty, cut at <max> bytes. */
static void member_str(struct pxd_jsonw *w, const char *k, const char *v, size_t max)
{
	pxd_jsonw_key(w, k, strlen(k));
	if (v && *v)
		pxd_jsonw_string(w, v, strnlen(v, max));
	else
		pxd_jsonw_null(w);
}

/* Serialises <r> behind the buffered lines. Returns its length or -ENOSPC. */
static ssize_t format(struct pxd_delivery_log *l, const struct pxd_delivery_log_rec *r)
{
	char time_text[PXD_DLQ_TIME_LEN + 1];
	struct pxd_jsonw w;
	ssize_t n;

	pxd_dlq_time_format(r->time_ms, time_text);
	pxd_jsonw_init(&w, l->buf + l->len, sizeof(l->buf) - l->len);
	pxd_jsonw_object_begin(&w);
	member_str(&w, "time", time_text, PXD_DLQ_TIME_LEN);
	member_str(&w, "dest", r->dest, 64);
	member_int(&w, "events", r->events);
	member_int(&w, "status", r->status);
	member_int(&w, "latency_ms", r->latency_ms);
	member_str(&w, "trace_id", r->trace_id, 128);
	member_int(&w, "delivered", r->delivered);
	member_int(&w, "retry", r->retry);
	member_int(&w, "permanent", r->permanent);
	member_str(&w, "error", r->error, PXD_DELIVERY_LOG_ERROR_MAX);
	pxd_jsonw_object_end(&w);
	n = pxd_jsonw_finish(&w);
	if (n < 0 || (size_t)n + 1 >= sizeof(l->buf) - l->len)
		return -ENOSPC;
	l->buf[l->len + (size_t)n] = '\n';
	return n + 1;
}

int pxd_delivery_log_write(struct pxd_delivery_log *l, const struct pxd_delivery_log_rec *r)
{
	ssize_t n = format(l, r);
	int rc = 0;

	if (n == -ENOSPC) {
		rc = pxd_delivery_log_flush(l);
		n = format(l, r);
	}
	/* With the fields cut to size a line is a few kB: it always fits an
	 * empty buffer. */
	if (n > 0)
		l->len += (size_t)n;
	return rc;
}
