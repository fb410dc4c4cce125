// SPDX-License-Identifier: MIT
/*
 * The JSONL file sink: one canonical event per line, appended in batches,
 * fsync'd on the dispatcher's timer and at shutdown, reopened on SIGHUP so
 * logrotate can move the file away. Exactly-once across a crash: when it
 * first opens the file it reads the event_ids at its end (jsonl_tail.h) and
 * does not write those again, and it cuts a last line a crash left without
 * its newline (its event was never counted delivered, so it comes again).
 *
 * Keys: path (default events.jsonl; relative to server.data_dir).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapter.h"
#include "adapters/jsonl_tail.h"
#include "buf.h"
#include "log.h"
#include "pagecache.h"

struct jsonl {
	char path[PATH_MAX];
	int fd;
	bool tail_read; /* the file's tail was checked (first open only) */
	struct pxd_jsonl_tail tail;
	struct pxd_buf out;
	bool regular;			/* a regular file, whose page cache is given back */
	struct pxd_pagecache_trim trim; /* (pagecache.h) as it is synced */
};

/* Cuts what follows the last newline (<whole> bytes kept): a line a crash
 * left unfinished, whose event was never counted delivered. */
static void cut_torn(struct jsonl *j, off_t whole)
{
	struct stat st;

	if (fstat(j->fd, &st) || whole >= st.st_size)
		return;
	if (ftruncate(j->fd, whole))
		pxd_log_warn("jsonl", "%s: cannot cut a torn last line: %s", j->path,
			     strerror(errno));
	else
		pxd_log_info("jsonl", "%s: cut a torn last line of %ld bytes", j->path,
			     (long)(st.st_size - whole));
}

/* The first open: what the file already holds, and a torn last line cut.
 * Only a regular file has a tail (a FIFO or a device has none). */
static void read_tail(struct jsonl *j)
{
	int rfd = open(j->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	off_t whole;
	int rc;

	j->tail_read = true;
	if (rfd < 0 || fstat(rfd, &st) || !S_ISREG(st.st_mode)) {
		if (rfd >= 0)
			close(rfd);
		return;
	}
	/* Under the lock: another shard's write and cut (see jsonl_write())
	 * are never half done here, so an end without a newline is a crash's. */
	rc = flock(j->fd, LOCK_EX) ? -errno : 0;
	if (!rc) {
		rc = pxd_jsonl_tail_load(&j->tail, rfd, &whole);
		if (!rc)
			cut_torn(j, whole);
		flock(j->fd, LOCK_UN);
	}
	close(rfd);
	if (rc)
		pxd_log_warn("jsonl",
			     "%s: cannot read its end: %s; events written just before the last "
			     "stop may be written again",
			     j->path, strerror(-rc));
}

static int open_file(struct jsonl *j)
{
	int fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	struct stat st;

	if (fd < 0)
		return -errno;
	j->fd = fd;
	j->regular = !fstat(fd, &st) && S_ISREG(st.st_mode);
	j->trim.dropped = 0;
	if (!j->tail_read)
		read_tail(j);
	return 0;
}

static int jsonl_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	const char *path = pxd_conf_dest_get(dest->conf, "path", NULL);
	struct jsonl *j;
	char *dir;
	int rc;

	for (size_t i = 0; i < dest->conf->nkv; i++) {
		if (strcmp(dest->conf->kv[i].key, "path") != 0) {
			snprintf(err, errlen,
				 "%s:%d: destination \"%s\": unknown key \"%s\" for type "
				 "jsonl; the only key is path",
				 conf_path, dest->conf->kv[i].line, dest->conf->name,
				 dest->conf->kv[i].key);
			return -EINVAL;
		}
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->fd = -1;
	dest->priv = j;
	if (!path || !*path)
		path = "events.jsonl";
	if ((size_t)snprintf(j->path, sizeof(j->path), "%s%s%s",
			     path[0] == '/' ? "" : dest->data_dir, path[0] == '/' ? "" : "/",
			     path) >= sizeof(j->path)) {
		snprintf(err, errlen, "destination \"%s\": path too long", dest->conf->name);
		return -ENAMETOOLONG;
	}
	/* The file itself is opened at the first write, so --check-config
	 * creates nothing; a directory that exists must be writable now. */
	dir = strrchr(j->path, '/');
	*dir = '\0';
	rc = access(j->path, F_OK) == 0 && access(j->path, W_OK) ? -errno : 0;
	if (rc)
		snprintf(err, errlen,
			 "destination \"%s\": directory %s is not writable: %s; fix "
			 "its permissions or change path",
			 dest->conf->name, j->path, strerror(-rc));
	*dir = '/';
	return rc;
}

static void jsonl_fini(struct pxd_dest *dest)
{
	struct jsonl *j = dest->priv;

	if (!j)
		return;
	if (j->fd >= 0) {
		fsync(j->fd);
		close(j->fd);
	}
	pxd_buf_free(&j->out);
	pxd_jsonl_tail_free(&j->tail);
	free(j);
	dest->priv = NULL;
}

/* An event the file held when the sink first opened it (see above). */
static bool already_there(const struct jsonl *j, const struct pxd_batch_item *it)
{
	return pxd_jsonl_tail_has(&j->tail, it->line, it->len);
}

/*
 * The partial line a failed write left at the end of the file (<off> bytes
 * of this batch written, the whole lines among them kept): cut, so the
 * retry appends whole lines. Called with the file locked, so the end of the
 * file is this writer's bytes.
 */
static void cut_partial(struct jsonl *j, const struct pxd_batch *b, size_t off)
{
	size_t whole = 0;
	off_t end;

	for (size_t i = 0; i < b->n && whole <= off; i++) {
		if (already_there(j, &b->items[i]))
			continue;
		if (whole + b->items[i].len + 1 > off)
			break;
		whole += b->items[i].len + 1;
	}
	if (whole == off)
		return;
	end = lseek(j->fd, 0, SEEK_END);
	if (end < 0 || ftruncate(j->fd, end - (off_t)(off - whole)))
		pxd_log_warn("jsonl", "%s: cannot cut a partial line: %s", j->path,
			     strerror(errno));
}

/*
 * One write(2) per batch. O_APPEND makes each write land at the end even
 * with several dispatchers on the same file; a short write (disk full) is
 * continued, and on failure the events not fully written are left for retry
 * — a line cut short by ENOSPC can be repeated whole, never half. Every
 * shard has its own descriptor on the file: an flock(2) held from the write
 * to the cut keeps another shard from appending between them, which would
 * put its line where the cut falls.
 */
static int jsonl_write(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_outcome *out)
{
	struct jsonl *j = dest->priv;
	size_t off = 0;
	size_t done = 0;
	int rc = 0;

	if (j->fd < 0 && (rc = open_file(j)))
		return rc;
	j->out.len = 0;
	for (size_t i = 0; i < b->n; i++)
		if (!already_there(j, &b->items[i]) &&
		    pxd_buf_append(&j->out, b->items[i].line, b->items[i].len + 1))
			return -ENOMEM;
	if (flock(j->fd, LOCK_EX))
		return -errno;
	while (off < j->out.len) {
		ssize_t n = write(j->fd, j->out.p + off, j->out.len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		off += (size_t)n;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (!already_there(j, &b->items[i]))
			done += b->items[i].len + 1;
		out[i].delivery = done <= off ? PXD_DELIVERY_OK : PXD_DELIVERY_RETRY;
	}
	if (rc && off)
		cut_partial(j, b, off);
	flock(j->fd, LOCK_UN);
	return rc;
}

static int jsonl_sync(struct pxd_dest *dest)
{
	struct jsonl *j = dest->priv;
	off_t end;
	int rc;

	if (j->fd < 0)
		return 0;
	/* EINVAL: a FIFO or a device, which keeps nothing to sync. */
	if (fdatasync(j->fd))
		return errno != EINVAL ? -errno : 0;
	if (!j->regular)
		return 0;
	/* After an O_APPEND write the offset is where this shard's last line
	 * ended: all of it on the disk now. */
	end = lseek(j->fd, 0, SEEK_CUR);
	rc = end > 0 ? pxd_pagecache_trim(&j->trim, j->fd, (uint64_t)end) : 0;
	if (rc)
		pxd_log_warn("jsonl",
			     "%s: giving back its page cache failed (%s); its pages stay cached "
			     "until memory is short",
			     j->path, strerror(-rc));
	return 0;
}

static int jsonl_reopen(struct pxd_dest *dest)
{
	struct jsonl *j = dest->priv;
	int old = j->fd;
	int rc;

	rc = open_file(j);
	if (rc) {
		j->fd = old;
		return rc;
	}
	if (old >= 0) {
		fdatasync(old);
		close(old);
	}
	return 0;
}

const struct pxd_adapter pxd_adapter_jsonl = {
	.type = "jsonl",
	.max_events = 4096,
	.max_bytes = 4u << 20,
	.flags = PXD_ADAPTER_LOCAL,
	.init = jsonl_init,
	.fini = jsonl_fini,
	.write_local = jsonl_write,
	.sync = jsonl_sync,
	.reopen = jsonl_reopen,
};
