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
#include "pagecache.h"
#include "uring.h"

/*
 * The most bytes one stream keeps in memory waiting for the disk (appended,
 * not yet written): while a write hangs, events past it are refused (503
 * with Retry-After) instead of growing memory without end.
 */
#define PXD_JOURNAL_BUFFER_MAX (64u << 20)

enum pxd_jop_kind {
	PXD_JOP_FREE = 0,
	PXD_JOP_WRITE, /* <buf> at <start> */
	PXD_JOP_DSYNC, /* <buf> at <start> with RWF_DSYNC: on the disk when it completes */
	PXD_JOP_SYNC,  /* fdatasync covering up to <end> */
	PXD_JOP_ZEROS, /* zeros at <start> with RWF_DSYNC: the segment pre-written (journal.c) */
};

/* One operation of a stream in flight. */
struct pxd_jop {
	uint8_t kind;	/* enum pxd_jop_kind; FREE when none is in flight */
	uint32_t epoch; /* the stream's failed syncs when it was submitted */
	uint64_t start; /* write: position of <buf>'s first byte */
	uint64_t end;	/* write: position after its last byte; sync: what it covers */
	int64_t started_mono_ms;
	struct pxd_dbuf buf; /* write: its bytes; kept empty between writes */
};

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
	struct pxd_jop write; /* the write in flight */
	struct pxd_jop sync;  /* the fdatasync in flight */
	uint32_t epoch;	      /* failed syncs so far */
	struct pxd_dbuf fill; /* appended, not yet written */
	/*
	 * Written but not yet covered by a successful sync: what a failed sync
	 * may have lost (fsyncgate, see journal.c). <unsafe> is set from a
	 * failed sync until these bytes are written again through a new
	 * descriptor and synced; <reopen> until that descriptor is open;
	 * <rewrite> until the write of <unsynced> is started.
	 */
	struct pxd_dbuf unsynced;
	bool unsafe;
	bool reopen;
	bool rewrite;
	/*
	 * ack=durable: the segment file holds written zeros (or data) up to
	 * offset <zeroed>, so durable writes overwrite blocks that are already
	 * allocated and their sync writes no inode or extent. <zeros_stop>: a
	 * pre-write failed in this segment (disk full, I/O error); the data
	 * writes go on appending.
	 */
	uint64_t zeroed;
	bool zeros_stop;
	struct pxd_pagecache_trim trim; /* the segment's synced pages given back */
	uint64_t fill_start;		/* position of fill's first byte */
	uint64_t appended;		/* position after the last appended record */
	int64_t last_sync_mono_ms;
	int error; /* last write/sync error, 0 when healthy */
	int64_t retry_at_mono_ms;
	/*
	 * ack=fast writes on the ingest thread itself while the disk is
	 * healthy (journal.c, "Inline writes"): <inline_res> is such a write's
	 * result, to be completed like a CQE while <inline_done> is set;
	 * none is made before <inline_off_until_ms> after a slow one.
	 */
	bool inline_done;
	int inline_res;
	int64_t inline_off_until_ms;

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
 * the next pxd_journal_pump(). Returns 0, -ENOMEM, or -ENOBUFS when the
 * stream already holds PXD_JOURNAL_BUFFER_MAX bytes not yet written.
 */
int pxd_journal_append(struct pxd_jstream *js, struct pxd_chunkpool *pool, const char *payload,
		       uint32_t len, int64_t received_ms, uint64_t segment_bytes, uint64_t *start,
		       uint64_t *end);

/*
 * Serializing straight into the journal: room for one record of at least
 * <len> payload bytes at the end of the buffer the next record goes to.
 * Returns where its payload goes, with <*cap> bytes there (<len> or more:
 * whatever the buffer has free), or NULL with -ENOMEM or -ENOBUFS (as
 * pxd_journal_append()) in <*err>. Nothing is appended until
 * pxd_journal_commit(); another reserve or append takes the room back.
 */
char *pxd_journal_reserve(struct pxd_jstream *js, struct pxd_chunkpool *pool, uint32_t len,
			  uint32_t *cap, int *err);

/*
 * Appends the record whose <len> payload bytes were written where the last
 * pxd_journal_reserve() pointed: its header and CRC32C are put in front of
 * it there. Same rolling, results and errors as pxd_journal_append().
 */
int pxd_journal_commit(struct pxd_jstream *js, struct pxd_chunkpool *pool, uint32_t len,
		       int64_t received_ms, uint64_t segment_bytes, uint64_t *start, uint64_t *end);

/*
 * What pxd_journal_rewind() restores: the appends after a mark are memory
 * only until the next pxd_journal_pump(), so they can be taken back.
 */
struct pxd_jmark {
	uint64_t appended;
	uint64_t fill_start;
	uint64_t seg_bytes;
	uint64_t seg_end;
	uint32_t fill_len;
	uint32_t next_fill_len;
	bool rolling;
};

/* Marks <js>'s append position. Ingest thread. */
void pxd_journal_mark(const struct pxd_jstream *js, struct pxd_jmark *m);

/*
 * Takes back every append since mark <m>; no pxd_journal_pump() may have run
 * in between. For a batch that is all or nothing. Ingest thread.
 */
void pxd_journal_rewind(struct pxd_jstream *js, const struct pxd_jmark *m);

/*
 * Starts what is due and not in flight yet: the fdatasync (every
 * <commit_interval_ms>; at once when a segment is left, after a failure, or
 * with <durable> for bytes written without RWF_DSYNC) and a write of
 * everything appended since the last one, with RWF_DSYNC when <durable>,
 * ahead of which <durable> pre-writes the segment with zeros, up to
 * <segment_bytes>. <idx> goes in the user_data. A write made inline
 * (ack=fast on a healthy disk, journal.c) has completed on return, with
 * <inline_done> set: the caller completes it with <inline_res> as it would
 * its CQE. Returns 0, or -errno when a new segment cannot be opened.
 */
int pxd_journal_pump(struct pxd_jstream *js, struct io_uring *ring, struct pxd_chunkpool *pool,
		     unsigned idx, int64_t now_mono_ms, bool durable, uint32_t commit_interval_ms,
		     uint64_t segment_bytes);

/*
 * Takes the CQE of the stream's write or sync (<op>, <res>); <latency_ms> is
 * how long it took, or -1 for a pre-write of zeros (not a commit). Returns 0, or the error (-ENOSPC
 * for a short write): the bytes are kept and written again after a pause. After a failed sync (or
 * RWF_DSYNC write) every byte since the last good sync is written again through a new descriptor
 * before <synced> moves: the stream's <error> stays set (new events get 503) and ack=durable
 * answers wait until then.
 */
int pxd_journal_complete(struct pxd_jstream *js, struct pxd_chunkpool *pool, enum pxd_op op,
			 int res, int64_t now_mono_ms, int64_t *latency_ms);

/* True when no operation of <js> is in flight. */
static inline bool pxd_journal_idle(const struct pxd_jstream *js);

/* inline definitions */

static inline bool pxd_journal_idle(const struct pxd_jstream *js)
{
	return js->write.kind == PXD_JOP_FREE && js->sync.kind == PXD_JOP_FREE;
}

#endif
