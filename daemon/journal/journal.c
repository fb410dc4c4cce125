// SPDX-License-Identifier: MIT
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "journal_format.h"
#include "log.h"
#include "uring.h"

/* How long a failed write or sync waits before it is tried again. */
#define RETRY_MS 200

/*
 * ack=durable pre-writes the live segment with zeros, this much at a time,
 * once what is appended comes within half of it of the zeroed end: an
 * RWF_DSYNC append to a growing file also commits its new size and blocks
 * (ext4: a journal commit, about 1.8 times the cost of an overwrite), an
 * overwrite of written blocks only its data. Read from .bss, the buffer
 * maps the zero page and costs no memory. Cut back at roll and close; what
 * a crash leaves is cut at startup (journal_recovery.c).
 */
#define PREWRITE_BYTES (1u << 20)
static char zeros[PREWRITE_BYTES];

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

/*
 * fsyncgate (PostgreSQL, 2018): when fdatasync fails, Linux may already have
 * dropped the dirty pages or marked them clean, so a retried sync on this or
 * any descriptor can succeed with the data never on disk. A failed sync is
 * therefore never retried: the file is opened again and every byte since the
 * last good sync is written again from <unsynced>, our own copy, at the same
 * offsets (positions already handed to the shard stay valid), then synced.
 */
static int reopen_segment(struct pxd_jstream *js)
{
	char path[4200];
	int fd;

	if (pxd_journal_segment_path(path, sizeof(path), js->dir, js->seq))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(js->fd);
	js->fd = fd;
	js->reopen = false;
	return 0;
}

static int open_segment(struct pxd_jstream *js, uint32_t seq)
{
	char path[4200];
	int err;
	int fd;

	if (pxd_journal_segment_path(path, sizeof(path), js->dir, seq))
		return -ENAMETOOLONG;
	/* A new segment is rare (every journal.segment_bytes): the one blocking
	 * open on the ingest path, and it happens between writes. */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	/* The new name must survive a power loss too, or records acknowledged
	 * with ack=durable in it would vanish with the directory entry. A failed
	 * sync fails the open: the roll is tried again (new events get 503). */
	err = sync_dir(js->dir);
	if (err) {
		close(fd);
		return err;
	}
	if (js->fd >= 0)
		close(js->fd);
	js->fd = fd;
	js->seq = seq;
	js->zeroed = 0;
	js->zeros_stop = false;
	js->trim.dropped = 0;
	__atomic_store_n(&js->cur_seq, seq, __ATOMIC_RELEASE);
	return 0;
}

/* Cuts the pre-written zeros after <end> (an offset) and syncs the new size. */
static int cut_zeros(struct pxd_jstream *js, uint64_t end)
{
	if (js->zeroed <= end)
		return 0;
	if (ftruncate(js->fd, (off_t)end) || fdatasync(js->fd))
		return -errno;
	js->zeroed = end;
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
		/* With an operation still in flight, startup cuts the zeros instead. */
		int err =
		    pxd_journal_idle(js) ? cut_zeros(js, pxd_journal_pos_off(js->written)) : 0;

		if (err)
			pxd_log_warn(
			    "journal",
			    "%s: cutting the pre-written zeros of segment %016x failed (%s); "
			    "the next start cuts them",
			    js->dir, js->seq, strerror(-err));
		fdatasync(js->fd);
		close(js->fd);
	}
	pxd_dbuf_release(pool, &js->fill);
	pxd_dbuf_release(pool, &js->next_fill);
	pxd_dbuf_release(pool, &js->write.buf);
	pxd_dbuf_release(pool, &js->unsynced);
	js->fd = -1;
}

/* Bytes appended and not yet written: waiting, and in the writes in flight. */
static uint64_t held_bytes(const struct pxd_jstream *js)
{
	return (uint64_t)js->fill.len + js->next_fill.len + js->write.buf.len;
}

/* The buffer the next record goes to: while rolling, the next segment's. */
static struct pxd_dbuf *append_buf(struct pxd_jstream *js)
{
	return js->rolling ? &js->next_fill : &js->fill;
}

char *pxd_journal_reserve(struct pxd_jstream *js, struct pxd_chunkpool *pool, uint32_t len,
			  uint32_t *cap, int *err)
{
	struct pxd_dbuf *buf = append_buf(js);

	if (held_bytes(js) + pxd_journal_record_bytes(len) > PXD_JOURNAL_BUFFER_MAX) {
		*err = -ENOBUFS;
		return NULL;
	}
	*err = pxd_dbuf_reserve(pool, buf, (uint32_t)pxd_journal_record_bytes(len));
	if (*err)
		return NULL;
	*cap = buf->cap - buf->len - PXD_JOURNAL_HDR_BYTES;
	return buf->p + buf->len + PXD_JOURNAL_HDR_BYTES;
}

/*
 * The segment would pass <segment_bytes> with the record just written in
 * <fill>: it belongs to the next segment, so it moves to <next_fill> (a copy
 * once per segment, never per record).
 */
static int start_roll(struct pxd_jstream *js, struct pxd_chunkpool *pool, uint32_t size)
{
	int err = pxd_dbuf_reserve(pool, &js->next_fill, size);

	if (err)
		return err;
	memcpy(js->next_fill.p + js->next_fill.len, js->fill.p + js->fill.len, size);
	js->rolling = true;
	js->seg_end = js->appended;
	js->appended = pxd_journal_pos_make(js->seq + 1, 0);
	js->seg_bytes = 0;
	return 0;
}

int pxd_journal_commit(struct pxd_jstream *js, struct pxd_chunkpool *pool, uint32_t len,
		       int64_t received_ms, uint64_t segment_bytes, uint64_t *start, uint64_t *end)
{
	uint32_t size = (uint32_t)pxd_journal_record_bytes(len);
	struct pxd_dbuf *buf;
	int err;

	if (held_bytes(js) + size > PXD_JOURNAL_BUFFER_MAX)
		return -ENOBUFS;
	if (!js->rolling && js->seg_bytes && js->seg_bytes + size > segment_bytes) {
		err = start_roll(js, pool, size);
		if (err)
			return err;
	}
	buf = append_buf(js);
	if (!js->rolling && !js->fill.len)
		js->fill_start = js->appended;
	if (pxd_journal_record_seal(buf->p + buf->len, len, received_ms) < 0)
		return -EMSGSIZE;
	buf->len += size;
	*start = js->appended;
	js->appended += size;
	js->seg_bytes += size;
	*end = js->appended;
	return 0;
}

int pxd_journal_append(struct pxd_jstream *js, struct pxd_chunkpool *pool, const char *payload,
		       uint32_t len, int64_t received_ms, uint64_t segment_bytes, uint64_t *start,
		       uint64_t *end)
{
	uint32_t cap;
	int err;
	char *p = pxd_journal_reserve(js, pool, len, &cap, &err);

	if (!p)
		return err;
	memcpy(p, payload, len);
	return pxd_journal_commit(js, pool, len, received_ms, segment_bytes, start, end);
}

void pxd_journal_mark(const struct pxd_jstream *js, struct pxd_jmark *m)
{
	*m = (struct pxd_jmark){
		.appended = js->appended,
		.fill_start = js->fill_start,
		.seg_bytes = js->seg_bytes,
		.seg_end = js->seg_end,
		.fill_len = js->fill.len,
		.next_fill_len = js->next_fill.len,
		.rolling = js->rolling,
	};
}

void pxd_journal_rewind(struct pxd_jstream *js, const struct pxd_jmark *m)
{
	js->appended = m->appended;
	js->fill_start = m->fill_start;
	js->seg_bytes = m->seg_bytes;
	js->seg_end = m->seg_end;
	js->fill.len = m->fill_len;
	js->next_fill.len = m->next_fill_len;
	js->rolling = m->rolling;
}

static void op_fill(const struct pxd_jstream *js, struct pxd_jop *o, enum pxd_jop_kind kind,
		    int64_t now_mono_ms)
{
	o->kind = (uint8_t)kind;
	o->epoch = js->epoch;
	o->started_mono_ms = now_mono_ms;
}

/* Fills in <o> for a new operation; NULL when the SQ is full (tried again on the next pass). */
static struct io_uring_sqe *op_start(struct pxd_jstream *js, struct pxd_jop *o,
				     struct io_uring *ring, unsigned idx, enum pxd_jop_kind kind,
				     int64_t now_mono_ms)
{
	struct io_uring_sqe *sqe = pxd_uring_get_sqe(ring);

	if (!sqe)
		return NULL;
	op_fill(js, o, kind, now_mono_ms);
	io_uring_sqe_set_data64(
	    sqe, pxd_ud_encode(kind == PXD_JOP_SYNC ? PXD_OP_JSYNC : PXD_OP_JWRITE, idx, 0, 0));
	return sqe;
}

/*
 * Inline writes. ext4 takes no non-blocking buffered write, so io_uring
 * hands every journal write to an io-wq worker, whose sleep and wake-up
 * cost more than the copy into the page cache (on the bench machine about
 * 20 us of CPU a switch against 1-3 us for the copy of a pass's records).
 * So ack=fast writes with one pwrite(2) on the ingest thread while the disk
 * is healthy. A buffered write waits for the disk only when dirty pages
 * pass the kernel's limit, and a failing or slow disk shows first in the
 * syncs, which stay in the ring: while one is in flight for
 * INLINE_SYNC_SLOW_MS, after a failure, and for INLINE_BACKOFF_MS after a
 * write that itself took INLINE_WRITE_SLOW_MS more than a copy at 100 MB/s
 * would (a first write into fresh pages is a slow copy, not a slow disk),
 * the writes go through io-wq again, so the loop keeps answering (503 once
 * the buffer is full) whatever the disk does. ack=durable writes with
 * RWF_DSYNC: always in the ring.
 */
#define INLINE_SYNC_SLOW_MS 50
#define INLINE_WRITE_SLOW_MS 5
#define INLINE_BACKOFF_MS 5000

static bool inline_ok(const struct pxd_jstream *js, enum pxd_jop_kind kind, int64_t now_mono_ms)
{
	return kind == PXD_JOP_WRITE && !js->unsafe && !js->error &&
	       now_mono_ms >= js->inline_off_until_ms &&
	       (js->sync.kind == PXD_JOP_FREE ||
		now_mono_ms - js->sync.started_mono_ms < INLINE_SYNC_SLOW_MS);
}

/* The write in <o>, made now; its result waits in <inline_res>. */
static void write_inline(struct pxd_jstream *js, const struct pxd_jop *o, int64_t now_mono_ms)
{
	int64_t t0 = pxd_mono_us();
	ssize_t n = pwrite(js->fd, o->buf.p, o->buf.len, (off_t)pxd_journal_pos_off(o->start));
	int64_t took_us = pxd_mono_us() - t0;

	js->inline_res = n < 0 ? -errno : (int)n;
	js->inline_done = true;
	/* Big writes take longer: a slow one is slow beyond 100 MB/s too. */
	if (took_us >= INLINE_WRITE_SLOW_MS * 1000 + o->buf.len / 100) {
		js->inline_off_until_ms = now_mono_ms + INLINE_BACKOFF_MS;
		pxd_log_info("journal",
			     "%s: a write of %u bytes took %.1f ms on the ingest thread; writes go "
			     "through io_uring's workers for %d s",
			     js->dir, o->buf.len, (double)took_us / 1000, INLINE_BACKOFF_MS / 1000);
	}
}

/* Writes <*src> at <start>; <*src> takes the write's empty buffer. */
static void submit_write(struct pxd_jstream *js, struct io_uring *ring, unsigned idx,
			 enum pxd_jop_kind kind, struct pxd_dbuf *src, uint64_t start,
			 int64_t now_mono_ms)
{
	struct pxd_jop *o = &js->write;
	bool now = inline_ok(js, kind, now_mono_ms);
	struct io_uring_sqe *sqe = now ? NULL : op_start(js, o, ring, idx, kind, now_mono_ms);
	struct pxd_dbuf tmp;

	if (now)
		op_fill(js, o, kind, now_mono_ms);
	else if (!sqe)
		return;
	tmp = o->buf;
	o->buf = *src;
	*src = tmp;
	src->len = 0;
	o->start = start;
	o->end = start + o->buf.len;
	if (now) {
		write_inline(js, o, now_mono_ms);
		return;
	}
	io_uring_prep_write(sqe, js->fd, o->buf.p, o->buf.len, start & 0xffffffffu);
	if (kind == PXD_JOP_DSYNC)
		sqe->rw_flags = RWF_DSYNC;
}

/* True when the segment should be pre-written further (up to <limit>) before the next write. */
static bool zeros_due(const struct pxd_jstream *js, uint64_t limit)
{
	uint64_t end = pxd_journal_pos_off(js->appended);

	return !js->rolling && !js->unsafe && !js->zeros_stop && js->zeroed < limit &&
	       end < limit && js->zeroed < end + PREWRITE_BYTES / 2;
}

/* Zeros from past the last byte appended, up to PREWRITE_BYTES and <limit>. */
static void submit_zeros(struct pxd_jstream *js, struct io_uring *ring, unsigned idx,
			 uint64_t limit, int64_t now_mono_ms)
{
	struct pxd_jop *o = &js->write;
	uint64_t from = PXD_MAX(js->zeroed, (uint64_t)pxd_journal_pos_off(js->appended));
	uint64_t len = PXD_MIN((uint64_t)PREWRITE_BYTES, limit - from);
	struct io_uring_sqe *sqe = op_start(js, o, ring, idx, PXD_JOP_ZEROS, now_mono_ms);

	if (!sqe)
		return;
	o->start = from;
	o->end = from + len;
	io_uring_prep_write(sqe, js->fd, zeros, (unsigned)len, from);
	sqe->rw_flags = RWF_DSYNC;
}

static void submit_sync(struct pxd_jstream *js, struct io_uring *ring, unsigned idx,
			int64_t now_mono_ms)
{
	struct io_uring_sqe *sqe = op_start(js, &js->sync, ring, idx, PXD_JOP_SYNC, now_mono_ms);

	if (!sqe)
		return;
	/* fdatasync covers the writes completed before it starts, not the one in flight. */
	js->sync.end = js->written;
	io_uring_prep_fsync(sqe, js->fd, IORING_FSYNC_DATASYNC);
}

/*
 * The full segment is written and synced: continue in the next file. Its
 * zeros go first, so that once the next segment exists a reader finds the
 * full one's end where its records end.
 */
static int finish_roll(struct pxd_jstream *js, struct pxd_chunkpool *pool)
{
	struct pxd_dbuf tmp;
	uint64_t start = pxd_journal_pos_make(js->seq + 1, 0);
	int err = cut_zeros(js, pxd_journal_pos_off(js->seg_end));

	if (!err && js->trim.dropped != UINT64_MAX)
		(void)pxd_pagecache_drop(js->fd); /* a hint: a failure costs memory, never data */
	if (!err)
		err = open_segment(js, js->seq + 1);
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

/* What only runs with nothing in flight: the roll to a new segment and the fsyncgate recovery. */
static int pump_idle(struct pxd_jstream *js, struct pxd_chunkpool *pool, int64_t now_mono_ms)
{
	int err = 0;

	if (js->rolling && !js->fill.len && js->synced == js->seg_end)
		err = finish_roll(js, pool);
	if (!err && js->unsafe && js->reopen)
		err = reopen_segment(js);
	if (err) {
		js->error = err;
		js->retry_at_mono_ms = now_mono_ms + RETRY_MS;
	}
	return err;
}

int pxd_journal_pump(struct pxd_jstream *js, struct io_uring *ring, struct pxd_chunkpool *pool,
		     unsigned idx, int64_t now_mono_ms, bool durable, uint32_t commit_interval_ms,
		     uint64_t segment_bytes)
{
	int err;

	if (now_mono_ms < js->retry_at_mono_ms)
		return 0;
	if (pxd_journal_idle(js)) {
		err = pump_idle(js, pool, now_mono_ms);
		if (err)
			return err;
	} else if (js->unsafe) {
		return 0; /* the recovery runs one operation at a time */
	}
	if (js->unsafe && js->rewrite && js->unsynced.len) {
		/* After a failed sync: <unsynced> again, at its own offset (it
		 * ends where <fill> starts). */
		js->rewrite = false;
		submit_write(js, ring, idx, PXD_JOP_WRITE, &js->unsynced, js->synced, now_mono_ms);
		return 0;
	}
	/* ack=fast syncs at most every commit interval; a segment about to be
	 * left and a rewrite need the sync at once, and so do durable acks of
	 * bytes written without RWF_DSYNC. */
	if (js->sync.kind == PXD_JOP_FREE && js->synced < js->written &&
	    (durable || js->rolling || js->unsafe ||
	     now_mono_ms - js->last_sync_mono_ms >= commit_interval_ms)) {
		submit_sync(js, ring, idx, now_mono_ms);
		if (js->unsafe)
			return 0;
	}
	if (durable && js->write.kind == PXD_JOP_FREE && zeros_due(js, segment_bytes)) {
		submit_zeros(js, ring, idx, segment_bytes, now_mono_ms);
		return 0;
	}
	if (js->fill.len && !js->unsafe && js->write.kind == PXD_JOP_FREE) {
		uint64_t end = js->fill_start + js->fill.len;

		submit_write(js, ring, idx, durable ? PXD_JOP_DSYNC : PXD_JOP_WRITE, &js->fill,
			     js->fill_start, now_mono_ms);
		if (!js->fill.len)
			js->fill_start = end;
	}
	return 0;
}

/* A sync failed: never trust this descriptor again (fsyncgate, above). */
static int sync_failed(struct pxd_jstream *js, int res, int64_t now_mono_ms)
{
	js->unsafe = true;
	js->reopen = true;
	js->rewrite = true;
	js->epoch++;
	js->error = res;
	js->retry_at_mono_ms = now_mono_ms + RETRY_MS;
	return res;
}

/*
 * A write failed while the stream is unsafe, or an RWF_DSYNC write failed:
 * what may not be on the disk goes back to <unsynced> (which then ends where
 * <fill> starts again), and the whole of it is written again through yet
 * another descriptor.
 */
static int rewrite_failed(struct pxd_jstream *js, struct pxd_chunkpool *pool,
			  const struct pxd_jop *o, uint32_t done, int res, int64_t now_mono_ms)
{
	if (pxd_dbuf_append(pool, &js->unsynced, o->buf.p + done, o->buf.len - done))
		return -ENOMEM;
	return sync_failed(js, res >= 0 ? -ENOSPC : res, now_mono_ms);
}

/*
 * A short or failed write (disk full, I/O error). The bytes may already be
 * acknowledged (ack=fast), so they are kept and written again at the same
 * offset, ahead of what has been appended since.
 */
static int write_failed(struct pxd_jstream *js, struct pxd_chunkpool *pool, const struct pxd_jop *o,
			uint32_t done, int res, int64_t now_mono_ms)
{
	struct pxd_dbuf again = { 0 };

	if (pxd_dbuf_append(pool, &again, o->buf.p + done, o->buf.len - done) ||
	    pxd_dbuf_append(pool, &again, js->fill.p, js->fill.len)) {
		pxd_dbuf_release(pool, &again);
		return -ENOMEM;
	}
	pxd_dbuf_release(pool, &js->fill);
	js->fill = again;
	js->fill_start = o->start + done;
	js->error = res >= 0 ? -ENOSPC : res;
	js->retry_at_mono_ms = now_mono_ms + RETRY_MS;
	return js->error;
}

/* <synced> moved: the pages far enough behind it go back (pagecache.h). */
static void trim_cache(struct pxd_jstream *js)
{
	int err = pxd_pagecache_trim(&js->trim, js->fd, pxd_journal_pos_off(js->synced));

	if (err)
		pxd_log_warn("journal",
			     "%s: giving back the page cache of segment %016x failed (%s); its "
			     "pages stay cached until memory is short",
			     js->dir, js->seq, strerror(-err));
}

static int sync_done(struct pxd_jstream *js, const struct pxd_jop *o, int res, int64_t now_mono_ms)
{
	if (res < 0)
		return sync_failed(js, res, now_mono_ms);
	/* A sync that started before a failed one proves nothing (fsyncgate). */
	if (o->epoch != js->epoch || o->end <= js->synced)
		return 0;
	pxd_dbuf_consume(&js->unsynced, (uint32_t)(o->end - js->synced));
	js->unsafe = false;
	__atomic_store_n(&js->synced, o->end, __ATOMIC_RELEASE);
	js->last_sync_mono_ms = now_mono_ms;
	js->error = 0;
	trim_cache(js);
	return 0;
}

/*
 * A pre-write of zeros completed. One that failed only stops pre-writing in
 * this segment: the zeros are no event's, and the data writes after them
 * meet the same disk and report what it does.
 */
static void zeros_done(struct pxd_jstream *js, const struct pxd_jop *o, int res)
{
	uint64_t done = res > 0 ? (uint64_t)res : 0;

	if (o->start + done > js->zeroed)
		js->zeroed = o->start + done;
	if (o->start + done < o->end) {
		js->zeros_stop = true;
		pxd_log_info("journal",
			     "%s: pre-writing segment %016x failed (%s); its durable writes append "
			     "(slower) until the next segment",
			     js->dir, js->seq, res < 0 ? strerror(-res) : "short write");
	}
}

static int write_done(struct pxd_jstream *js, struct pxd_chunkpool *pool, const struct pxd_jop *o,
		      int res, int64_t now_mono_ms)
{
	uint32_t done = res > 0 ? (uint32_t)res : 0;
	/* On the disk at once: RWF_DSYNC of bytes that follow synced ones, and
	 * no failed sync since it started. */
	bool durable = o->kind == PXD_JOP_DSYNC && o->epoch == js->epoch && !js->unsafe &&
		       js->synced == o->start;

	if (o->kind == PXD_JOP_DSYNC && done < o->buf.len && !js->unsafe)
		return rewrite_failed(js, pool, o, 0, res, now_mono_ms);
	/* Out of memory for the copy: the bytes are written again, like a failed write. */
	if (done && !durable && pxd_dbuf_append(pool, &js->unsynced, o->buf.p, done)) {
		done = 0;
		res = -ENOMEM;
	}
	/* A rewrite ends below what was written already. */
	if (o->start + done > js->written)
		__atomic_store_n(&js->written, o->start + done, __ATOMIC_RELEASE);
	if (done == o->buf.len) {
		if (durable) {
			__atomic_store_n(&js->synced, o->end, __ATOMIC_RELEASE);
			js->last_sync_mono_ms = now_mono_ms;
			trim_cache(js);
		}
		if (!js->unsafe)
			js->error = 0;
		return 0;
	}
	if (js->unsafe)
		return rewrite_failed(js, pool, o, done, res, now_mono_ms);
	return write_failed(js, pool, o, done, res, now_mono_ms);
}

int pxd_journal_complete(struct pxd_jstream *js, struct pxd_chunkpool *pool, enum pxd_op op,
			 int res, int64_t now_mono_ms, int64_t *latency_ms)
{
	struct pxd_jop *o = op == PXD_OP_JSYNC ? &js->sync : &js->write;
	int err;

	*latency_ms = now_mono_ms - o->started_mono_ms;
	if (o->kind == PXD_JOP_ZEROS) {
		zeros_done(js, o, res);
		*latency_ms = -1;
		o->kind = PXD_JOP_FREE;
		return 0;
	}
	if (op == PXD_OP_JSYNC) {
		err = sync_done(js, o, res, now_mono_ms);
	} else {
		err = write_done(js, pool, o, res, now_mono_ms);
		o->buf.len = 0;
		/* While appends keep coming this buffer becomes the next <fill>
		 * (submit_write() swaps them), so the fill does not grow from one
		 * chunk again, copying itself at each doubling, every write. A
		 * buffer grown for a burst goes back once nothing waits to be
		 * written, so the stream shrinks after it. */
		if (o->buf.cap > PXD_CHUNK_SIZE && !js->fill.len)
			pxd_dbuf_release(pool, &o->buf);
	}
	o->kind = PXD_JOP_FREE;
	return err;
}
