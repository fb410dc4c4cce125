// SPDX-License-Identifier: MIT
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_format.h"
#include "log.h"
#include "uring.h"

/* How long a failed write or sync waits before it is tried again. */
#define RETRY_MS 200

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int open_segment(struct pxd_jstream *js, uint32_t seq)
{
	char path[4200];
	int fd;

	if (pxd_journal_segment_path(path, sizeof(path), js->dir, seq))
		return -ENAMETOOLONG;
	/* A new segment is rare (every journal.segment_bytes): the one blocking
	 * open on the ingest path, and it happens between writes. */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	/* The new name must survive a power loss too, or records acknowledged
	 * with ack=durable in it would vanish with the directory entry. */
	sync_dir(js->dir);
	if (js->fd >= 0)
		close(js->fd);
	js->fd = fd;
	js->seq = seq;
	__atomic_store_n(&js->cur_seq, seq, __ATOMIC_RELEASE);
	return 0;
}

int pxd_journal_open(struct pxd_jstream *js, const char *dir, unsigned ingest, unsigned shard,
		     uint32_t first_seq)
{
	uint64_t start = pxd_journal_pos_make(first_seq, 0);

	memset(js, 0, sizeof(*js));
	js->ingest = ingest;
	js->shard = shard;
	js->fd = -1;
	snprintf(js->dir, sizeof(js->dir), "%s", dir);
	js->appended = js->fill_start = start;
	js->written = js->synced = start;
	return open_segment(js, first_seq);
}

void pxd_journal_close(struct pxd_jstream *js, struct pxd_chunkpool *pool)
{
	if (js->fd >= 0) {
		fdatasync(js->fd);
		close(js->fd);
	}
	pxd_dbuf_release(pool, &js->fill);
	pxd_dbuf_release(pool, &js->next_fill);
	pxd_dbuf_release(pool, &js->inflight);
	js->fd = -1;
}

int pxd_journal_append(struct pxd_jstream *js, struct pxd_chunkpool *pool, const char *payload,
		       uint32_t len, int64_t received_ms, uint64_t segment_bytes, uint64_t *start,
		       uint64_t *end)
{
	uint32_t size = (uint32_t)pxd_journal_record_bytes(len);
	struct pxd_dbuf *buf;
	int err;

	if (!js->rolling && js->seg_bytes && js->seg_bytes + size > segment_bytes) {
		js->rolling = true;
		js->seg_end = js->appended;
		js->appended = pxd_journal_pos_make(js->seq + 1, 0);
		js->seg_bytes = 0;
	}
	buf = js->rolling ? &js->next_fill : &js->fill;
	err = pxd_dbuf_reserve(pool, buf, size);
	if (err)
		return err;
	if (!js->rolling && !js->fill.len)
		js->fill_start = js->appended;
	if (pxd_journal_record_encode(buf->p + buf->len, size, received_ms, payload, len) < 0)
		return -EMSGSIZE;
	buf->len += size;
	*start = js->appended;
	js->appended += size;
	js->seg_bytes += size;
	*end = js->appended;
	return 0;
}

static void submit(struct pxd_jstream *js, struct io_uring *ring, unsigned idx, enum pxd_op op)
{
	struct io_uring_sqe *sqe = pxd_uring_get_sqe(ring);

	if (!sqe)
		return; /* tried again on the next pass */
	if (op == PXD_OP_JWRITE) {
		struct pxd_dbuf tmp = js->inflight;

		js->inflight = js->fill;
		js->fill = tmp;
		js->fill.len = 0;
		js->inflight_start = js->fill_start;
		js->fill_start += js->inflight.len;
		io_uring_prep_write(sqe, js->fd, js->inflight.p, js->inflight.len,
				    js->inflight_start & 0xffffffffu);
		js->state = PXD_JSTATE_WRITING;
	} else {
		io_uring_prep_fsync(sqe, js->fd, IORING_FSYNC_DATASYNC);
		js->sync_target = js->written;
		js->state = PXD_JSTATE_SYNCING;
	}
	io_uring_sqe_set_data64(sqe, pxd_ud_encode(op, idx, 0, 0));
}

/* The full segment is written and synced: continue in the next file. */
static int finish_roll(struct pxd_jstream *js, struct pxd_chunkpool *pool)
{
	struct pxd_dbuf tmp;
	uint64_t start = pxd_journal_pos_make(js->seq + 1, 0);
	int err = open_segment(js, js->seq + 1);

	if (err)
		return err;
	tmp = js->fill;
	js->fill = js->next_fill;
	js->next_fill = tmp;
	pxd_dbuf_release(pool, &js->next_fill);
	js->fill_start = start;
	js->rolling = false;
	__atomic_store_n(&js->written, start, __ATOMIC_RELEASE);
	__atomic_store_n(&js->synced, start, __ATOMIC_RELEASE);
	return 0;
}

int pxd_journal_pump(struct pxd_jstream *js, struct io_uring *ring, struct pxd_chunkpool *pool,
		     unsigned idx, int64_t now_mono_ms, bool durable, uint32_t commit_interval_ms)
{
	uint64_t written = js->written;
	int err;

	if (js->state != PXD_JSTATE_IDLE || now_mono_ms < js->retry_at_mono_ms)
		return 0;
	if (js->rolling && !js->fill.len && js->synced == js->seg_end) {
		err = finish_roll(js, pool);
		if (err) {
			js->error = err;
			js->retry_at_mono_ms = now_mono_ms + RETRY_MS;
			return err;
		}
		written = js->written;
	}
	/* ack=fast syncs at most every commit interval; durable acks, and a
	 * segment about to be left, need the sync at once. */
	if (js->synced < written &&
	    (durable || js->rolling || now_mono_ms - js->last_sync_mono_ms >= commit_interval_ms)) {
		js->op_started_mono_ms = now_mono_ms;
		submit(js, ring, idx, PXD_OP_JSYNC);
		return 0;
	}
	if (js->fill.len) {
		js->op_started_mono_ms = now_mono_ms;
		submit(js, ring, idx, PXD_OP_JWRITE);
	}
	return 0;
}

int pxd_journal_complete(struct pxd_jstream *js, struct pxd_chunkpool *pool, enum pxd_op op,
			 int res, int64_t now_mono_ms, int64_t *latency_ms)
{
	*latency_ms = now_mono_ms - js->op_started_mono_ms;
	js->state = PXD_JSTATE_IDLE;
	if (op == PXD_OP_JSYNC) {
		if (res < 0)
			goto failed;
		__atomic_store_n(&js->synced, js->sync_target, __ATOMIC_RELEASE);
		js->last_sync_mono_ms = now_mono_ms;
		js->error = 0;
		return 0;
	}
	if (res > 0) {
		js->inflight_start += (uint32_t)res;
		__atomic_store_n(&js->written, js->inflight_start, __ATOMIC_RELEASE);
	}
	if (res >= 0 && (uint32_t)res == js->inflight.len) {
		js->inflight.len = 0;
		js->error = 0;
		return 0;
	}
	/*
	 * A short or failed write (disk full, I/O error). The bytes may already
	 * be acknowledged (ack=fast), so they are kept and written again at the
	 * same offset, ahead of what has been appended since.
	 */
	if (res > 0) {
		memmove(js->inflight.p, js->inflight.p + res, js->inflight.len - (uint32_t)res);
		js->inflight.len -= (uint32_t)res;
	}
	if (pxd_dbuf_append(pool, &js->inflight, js->fill.p, js->fill.len))
		return -ENOMEM;
	{
		struct pxd_dbuf tmp = js->fill;

		js->fill = js->inflight;
		js->inflight = tmp;
		js->inflight.len = 0;
		js->fill_start = js->inflight_start;
	}
	if (res >= 0)
		res = -ENOSPC;
failed:
	js->error = res;
	js->retry_at_mono_ms = now_mono_ms + RETRY_MS;
	return res;
}
