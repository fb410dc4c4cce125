/* SPDX-License-Identifier: MIT */
/*
 * journal.h - the write side of the journal: each ingest thread appends the
 * events it accepts to one stream per dispatcher shard (data_dir/journal/
 * i<thread>-s<shard>/) through its own io_uring, with group commit, and
 * parks answers in ack=durable mode until the fsync that covers them. The
 * struct pxd_jstream fields marked "published" are read by the shard that
 * consumes the stream; everything else belongs to the ingest thread.
 */
#ifndef PXD_JOURNAL_H
#define PXD_JOURNAL_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "journal_format.h"
#include "uring.h"

enum pxd_jstate {
	PXD_JSTATE_IDLE = 0,
	PXD_JSTATE_WRITING, /* one write of <inflight> at <inflight_off> */
	PXD_JSTATE_SYNCING, /* one fdatasync covering <sync_target> */
};

/*
 * One stream. Only one operation is in flight at a time (a write, then its
 * fsync when one is due), which keeps the covered position exact without
 * linked SQEs; everything appended meanwhile waits in <fill> and goes out
 * in the next write: that is the group commit.
 */
struct pxd_jstream {
	unsigned ingest;
	unsigned shard;
	char dir[4096];
	int fd;
	uint32_t seq;	    /* current segment */
	uint64_t seg_bytes; /* bytes appended to it (written or waiting) */
	/*
	 * Rolling: the segment is full. Records appended from now on belong to
	 * segment seq + 1 and wait in <next_fill> until the full segment's last
	 * bytes are written and synced; then the new file is opened and
	 * <next_fill> becomes <fill>.
	 */
	bool rolling;
	uint64_t seg_end; /* position after the full segment's last record */
	struct pxd_dbuf next_fill;
	enum pxd_jstate state;
	struct pxd_dbuf fill;	  /* appended, not yet written */
	struct pxd_dbuf inflight; /* being written */
	uint64_t fill_start;	  /* position of fill's first byte */
	uint64_t inflight_start;
	uint64_t appended; /* position after the last appended record */
	uint64_t sync_target;
	int64_t last_sync_mono_ms;
	int64_t op_started_mono_ms;
	int error; /* last write/sync error, 0 when healthy */
	int64_t retry_at_mono_ms;

	/* published (atomics) */
	uint64_t written;	/* position up to which the segment files hold the data */
	uint64_t synced;	/* position up to which it is fdatasync'd */
	uint32_t cur_seq;	/* segment being written: never deleted by the reader */
	int overflow;		/* events go to the journal only: the ring was full */
	int resume_req;		/* set by the shard: it has caught up, push to the ring again */
	uint64_t resume_at;	/* position of the first record pushed after a resume */
	uint64_t deleted_bytes; /* bytes of segments the shard deleted */
	uint32_t first_seq;	/* oldest segment on disk (updated by the shard) */
};

/* Opens stream <dir> for writing, starting segment <first_seq> (one past
 * what is on disk). Returns 0 or -errno. Ingest thread. */
int pxd_journal_open(struct pxd_jstream *js, const char *dir, unsigned ingest, unsigned shard,
		     uint32_t first_seq);

/* Syncs and closes the segment and frees the buffers. */
void pxd_journal_close(struct pxd_jstream *js, struct pxd_chunkpool *pool);

/*
 * Appends one record (<len> bytes of <payload>, received at <received_ms>)
 * and returns its position range in <start>, <end>. A segment that would
 * pass <segment_bytes> is rolled. Memory only: the bytes reach the file in
 * the next pxd_journal_pump(). Returns 0 or -ENOMEM.
 */
int pxd_journal_append(struct pxd_jstream *js, struct pxd_chunkpool *pool, const char *payload,
		       uint32_t len, int64_t received_ms, uint64_t segment_bytes, uint64_t *start,
		       uint64_t *end);

/*
 * Starts the stream's next operation when none is in flight: the fsync that
 * is due (at once with <durable>, else every <commit_interval_ms>) or a
 * write of everything appended since the last one. <idx> goes in the
 * user_data. Returns 0, or -errno when a new segment cannot be opened.
 */
int pxd_journal_pump(struct pxd_jstream *js, struct io_uring *ring, struct pxd_chunkpool *pool,
		     unsigned idx, int64_t now_mono_ms, bool durable, uint32_t commit_interval_ms);

/*
 * Takes the CQE of the stream's write or sync (<op>, <res>); <latency_ms> is
 * how long it took. Returns 0, or the error (-ENOSPC for a short write):
 * the bytes are kept and written again after a pause.
 */
int pxd_journal_complete(struct pxd_jstream *js, struct pxd_chunkpool *pool, enum pxd_op op,
			 int res, int64_t now_mono_ms, int64_t *latency_ms);

#endif
