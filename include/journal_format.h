/* SPDX-License-Identifier: MIT */
/*
 * journal_format.h - the journal's on-disk format: record encoding, positions,
 * stream and segment names, and the read side (iterate, find the end, cut a
 * torn tail, delete consumed segments). Not the writer's io_uring loop
 * (journal.h). Encoding is for the ingest thread's hot path; everything that
 * touches files runs on a dispatcher thread, at startup, or in pixelctl.
 * One interface for the delivery core, the loop and pixelctl, implemented in
 * daemon/journal/: journal_record.c (the codec), journal_dir.c (names and
 * listings), journal_reader.c (reader and verify), journal_recovery.c (end
 * of a stream, torn tails, retention).
 *
 * Layout. A journal directory holds one directory per STREAM, named
 * "i<ingest>-s<shard>" in decimal: written only by ingest thread <ingest>, read
 * only by dispatcher shard <shard>. A stream holds SEGMENT files named by their
 * sequence number as 16 lowercase hex digits and ".seg"
 * ("0000000000000001.seg"); numbers start at 1 and have no gaps (only the
 * oldest segments are ever deleted). A segment is a plain run of records with
 * no file header, and ends at its file size: a finished segment must not keep
 * a preallocated zero tail.
 *
 * Record, little-endian, no padding between records:
 *
 *   bytes  0..3    u32 crc          CRC-32C (crc32c.h) of bytes 4 .. 15+len
 *   bytes  4..7    u32 len          payload length, 1..PXD_JOURNAL_PAYLOAD_MAX
 *   bytes  8..15   i64 received_ms  when pixeld accepted the event (Unix ms)
 *   bytes 16..     len bytes        payload: the canonical JSON line, '\n' included
 *
 * The CRC covers the length and the time as well as the payload, so a torn
 * header cannot pass. A length of 0 is invalid, so a zero-filled tail (what a
 * power loss leaves after an extended but unwritten block) never reads as a
 * record. A payload is JSON text and never holds a NUL byte, so no run of
 * payload bytes can pass for a record header (the length's top byte is 0).
 *
 * Positions. A position in a stream is (seq << 32) | byte offset in that
 * segment. 0 means "before the first record". Positions compare as integers;
 * the end of segment k, (k, its size), and the start of k+1, (k+1, 0), mean the
 * same place. The reader hands out positions on record boundaries.
 *
 * Bad bytes. A record that fails its checks is TORN when nothing valid follows
 * it in its stream (a crash or power loss interrupted the last write: cut it
 * and go on) and CORRUPT when a valid record follows it in the same segment or
 * a later segment exists (the data was damaged after it was written: never cut,
 * report). A missing segment number between two present ones is CORRUPT too.
 */
#ifndef PXD_JOURNAL_FORMAT_H
#define PXD_JOURNAL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PXD_JOURNAL_HDR_BYTES 16u
/* One canonical event is a few KiB at most (event.h limits); 1 MiB leaves room
 * and keeps the length's top byte 0 (see the layout above). */
#define PXD_JOURNAL_PAYLOAD_MAX (1u << 20)
#define PXD_JOURNAL_POS_MAX UINT64_MAX /* a limit that reads everything there is */
#define PXD_JOURNAL_SEG_NAME_LEN 20    /* "%016x.seg" without the NUL */

/* Why bytes at a position are not a record. */
enum pxd_journal_bad {
	PXD_JOURNAL_BAD_NONE = 0,
	PXD_JOURNAL_BAD_SHORT, /* the segment ends inside the record */
	PXD_JOURNAL_BAD_LEN,   /* length 0 (zero-filled) or above PXD_JOURNAL_PAYLOAD_MAX */
	PXD_JOURNAL_BAD_CRC,
	PXD_JOURNAL_BAD_GAP,   /* a segment number is missing between two present ones */
	PXD_JOURNAL_BAD_COUNT, /* number of reasons */
};

/* What pxd_journal_reader_next() found. */
enum pxd_journal_read {
	PXD_JOURNAL_READ_OK = 0,  /* <rec> holds the next record */
	PXD_JOURNAL_READ_END,	  /* nothing more below the limit (yet) */
	PXD_JOURNAL_READ_TORN,	  /* bad bytes at the stream's tail; nothing valid after them */
	PXD_JOURNAL_READ_CORRUPT, /* bad bytes with valid data after them */
	PXD_JOURNAL_READ_COUNT,	  /* number of outcomes */
};

/* One record as the reader hands it out. */
struct pxd_journal_rec {
	uint64_t pos;  /* where the record starts */
	uint64_t next; /* right after it: what a watermark stores once it is delivered */
	int64_t received_ms;
	const char *payload; /* inside the reader's buffer: valid until its next call */
	uint32_t len;
};

/* A segment of a stream, as listed. */
struct pxd_journal_seg {
	uint32_t seq;
	uint64_t bytes;
};

/* A stream of a journal directory, as listed. */
struct pxd_journal_stream_id {
	unsigned ingest;
	unsigned shard;
};

/* The tail of a stream, as found at startup (pxd_journal_scan_end()). */
struct pxd_journal_tail {
	uint64_t end;	    /* after the last valid record of the last segment; 0: no segment */
	uint32_t first_seq; /* 0 when the stream has no segment */
	uint32_t last_seq;
	uint32_t nsegments;
	uint64_t bytes;		  /* all segments' sizes */
	uint64_t torn_bytes;	  /* bytes after <end> in the last segment that hold no record */
	bool corrupt;		  /* the last segment has a bad record with valid ones after it */
	enum pxd_journal_bad bad; /* why the bytes at <end> are not a record, or NONE */
	bool zeros;		  /* the bytes after <end> are pre-written zeros, not torn */
};

/* A run of bytes in a segment that holds no valid record. */
struct pxd_journal_bad_region {
	uint64_t off;	/* where it starts */
	uint64_t bytes; /* up to the next valid record or the end of the file */
	enum pxd_journal_bad why;
};

/* What pxd_journal_segment_check() found in one segment. */
#define PXD_JOURNAL_CHECK_MAX_BAD 4
struct pxd_journal_seg_check {
	uint64_t bytes;	  /* the file's size */
	uint64_t end;	  /* where the bad bytes that end the file start; <bytes> if none */
	uint64_t records; /* valid records, those after a bad region included */
	int64_t first_ms; /* received_ms of the first and last valid record; 0 if none */
	int64_t last_ms;
	uint32_t nbad; /* bad regions; the first PXD_JOURNAL_CHECK_MAX_BAD are described */
	struct pxd_journal_bad_region bad[PXD_JOURNAL_CHECK_MAX_BAD];
	enum pxd_journal_bad end_why; /* why the bytes at <end> are bad, or NONE */
	uint64_t zeros;		      /* the bytes after the last record are zeros an ack=durable
				       * writer pre-wrote (journal.c), not a bad region: how many */
};

struct pxd_journal_reader;

/*
 * Encodes one record into <buf> of <cap> bytes: header, then a copy of the
 * <len> payload bytes at <payload>. Returns the record's size
 * (PXD_JOURNAL_HDR_BYTES + <len>), -EMSGSIZE when <len> is 0 or above
 * PXD_JOURNAL_PAYLOAD_MAX, -ENOSPC when <cap> is too small. No allocation, no
 * syscall: the ingest thread's hot path. Any thread.
 */
ssize_t pxd_journal_record_encode(void *buf, size_t cap, int64_t received_ms, const void *payload,
				  size_t len);

/*
 * Writes the header of a record whose <len> payload bytes the caller already
 * put at <rec> + PXD_JOURNAL_HDR_BYTES (to serialize an event straight into
 * the journal buffer without a copy). Returns the record's size or -EMSGSIZE.
 * Same rules as pxd_journal_record_encode().
 */
ssize_t pxd_journal_record_seal(void *rec, size_t len, int64_t received_ms);

/*
 * Checks the bytes at <p>, of which <avail> are known, as one record. Returns
 * PXD_JOURNAL_BAD_NONE and fills <rec> (payload pointing into <p>; pos and
 * next left 0) when they are a whole valid record, PXD_JOURNAL_BAD_SHORT when
 * more bytes are needed to tell, or PXD_JOURNAL_BAD_LEN / _CRC. Any thread.
 */
enum pxd_journal_bad pxd_journal_record_check(const void *p, size_t avail,
					      struct pxd_journal_rec *rec);

/*
 * Returns the length field of the record header at <hdr> (PXD_JOURNAL_HDR_BYTES
 * readable), unchecked: how many payload bytes to read before
 * pxd_journal_record_check() can tell. Any thread.
 */
uint32_t pxd_journal_record_len(const void *hdr);

/* Returns "ok", "short", "bad_length", "bad_crc" or "missing_segment". */
const char *pxd_journal_bad_name(enum pxd_journal_bad why);

/*
 * Writes "<journal_dir>/i<ingest>-s<shard>" into <buf> of <cap> bytes.
 * Returns 0 or -ENAMETOOLONG. Any thread.
 */
int pxd_journal_stream_path(char *buf, size_t cap, const char *journal_dir, unsigned ingest,
			    unsigned shard);

/* Parses a stream directory's name "i<ingest>-s<shard>". Returns 0 or -EINVAL. */
int pxd_journal_stream_parse(const char *name, unsigned *ingest, unsigned *shard);

/* Writes "<stream_dir>/<seq as %016x>.seg". Returns 0 or -ENAMETOOLONG. Any thread. */
int pxd_journal_segment_path(char *buf, size_t cap, const char *stream_dir, uint32_t seq);

/* Writes the segment's file name alone (for openat()); <cap> > PXD_JOURNAL_SEG_NAME_LEN. */
int pxd_journal_segment_name(char *buf, size_t cap, uint32_t seq);

/*
 * Lists the streams of <journal_dir> in (ingest, shard) order into a new
 * array at <*out> (free() it; NULL when there are none) of <*n> entries.
 * Other names in the directory are ignored. Returns 0, -ENOENT when
 * <journal_dir> does not exist, -ENOMEM, or another -errno from opendir().
 */
int pxd_journal_streams_list(const char *journal_dir, struct pxd_journal_stream_id **out,
			     size_t *n);

/*
 * Lists the segments of <stream_dir> in sequence order with their sizes, like
 * pxd_journal_streams_list(). Other names are ignored. Returns 0, -ENOENT,
 * -ENOMEM or another -errno.
 */
int pxd_journal_segments_list(const char *stream_dir, struct pxd_journal_seg **out, size_t *n);

/*
 * Opens a reader on <stream_dir> positioned at 0 (the first record there is).
 * Segments are opened as the reader reaches them, so it follows a stream that
 * is still being written. The reader owns a read buffer of <buf_bytes> (0:
 * 256 KiB) that grows to hold the largest record met. Returns 0 and <*out>,
 * -ENOENT when the directory does not exist, -ENOMEM, or another -errno. One
 * reader belongs to one thread (the shard's dispatcher); allocation is fine.
 */
int pxd_journal_reader_open(const char *stream_dir, size_t buf_bytes,
			    struct pxd_journal_reader **out);

/* Closes <r> and its files. Accepts NULL. */
void pxd_journal_reader_close(struct pxd_journal_reader *r);

/*
 * Moves <r> to <pos>, which must be a record boundary: 0, a watermark, or a
 * <rec>.next handed out earlier. A position in a segment that was deleted
 * moves on to the oldest segment that remains, on the next read. No I/O.
 */
void pxd_journal_reader_seek(struct pxd_journal_reader *r, uint64_t pos);

/*
 * Reads the record at <r>'s position if it lies wholly below <limit> (the
 * writer's published end, or PXD_JOURNAL_POS_MAX for everything on disk),
 * moving on to the next segment at the end of one. Returns:
 *  PXD_JOURNAL_READ_OK: <rec> is filled and <r> moved past it;
 *  PXD_JOURNAL_READ_END: nothing more below <limit> for now; call again later;
 *  PXD_JOURNAL_READ_TORN or _CORRUPT: <r> stays at the bad bytes;
 *   pxd_journal_reader_pos() and _bad() say where and why. TORN ends the
 *   stream until pxd_journal_cut_torn() (at startup); after CORRUPT,
 *   pxd_journal_reader_skip() goes on past the damage.
 * or -errno from open/pread (<r> stays where it was), -ENOMEM.
 */
int pxd_journal_reader_next(struct pxd_journal_reader *r, uint64_t limit,
			    struct pxd_journal_rec *rec);

/*
 * After TORN or CORRUPT: moves <r> past the bad bytes and adds how many it
 * skipped to <*skipped>. It lands on the next valid record in the same
 * segment, else at the end of that segment as it is now (so records a writer
 * still appends to it after the damage are read), and after a missing
 * segment at the start of the next segment there is. Returns 0 or -errno.
 * Records in the skipped bytes are lost to the caller: count and log them.
 */
int pxd_journal_reader_skip(struct pxd_journal_reader *r, uint64_t *skipped);

/* Returns <r>'s position: the next record to read, or the bad bytes. */
uint64_t pxd_journal_reader_pos(const struct pxd_journal_reader *r);

/* Returns why the last TORN or CORRUPT happened (NONE after OK or END). */
enum pxd_journal_bad pxd_journal_reader_bad(const struct pxd_journal_reader *r);

/*
 * Checks every record of segment <seq> of <stream_dir>, going on after bad
 * regions at the next valid record, into <out>. Returns 0 (even when bad
 * regions were found), -ENOENT when the segment does not exist, or -errno.
 * For `pixelctl journal verify`; reads the whole file.
 */
int pxd_journal_segment_check(const char *stream_dir, uint32_t seq,
			      struct pxd_journal_seg_check *out);

/*
 * Finds where <stream_dir> ends: lists its segments and checks every record
 * of the last one. Fills <tail>; changes nothing. Returns 0 (also for a stream
 * without segments, <tail>->end 0), or -errno. At startup, before the writer
 * appends: reads the whole last segment.
 */
int pxd_journal_scan_end(const char *stream_dir, struct pxd_journal_tail *tail);

/*
 * pxd_journal_scan_end(), then when the last segment has a torn tail,
 * truncates it at <tail>->end and fsyncs it, so that the writer appends after
 * the last valid record and no reader meets the torn bytes. <tail> describes
 * the stream as it was found (torn_bytes says how much was cut). Returns 0,
 * -EBADMSG when the last segment is corrupt (nothing cut: the writer should
 * start a new segment after it; verify reports it), or -errno. Startup only,
 * before the writer opens the stream.
 */
int pxd_journal_cut_torn(const char *stream_dir, struct pxd_journal_tail *tail);

/*
 * Deletes the segments of <stream_dir> that lie wholly below <pos> (every
 * destination's watermark for the stream: the lowest one), oldest first so a
 * crash leaves no gap, and never the last segment, which the writer may be
 * appending to. Fsyncs the directory when it deleted anything. Adds the count
 * and bytes deleted to <*nsegs> and <*bytes> (either may be NULL). Returns 0 or
 * -errno (what was deleted before the error stays deleted and counted).
 * Called by the shard that reads the stream.
 */
int pxd_journal_delete_below(const char *stream_dir, uint64_t pos, unsigned *nsegs,
			     uint64_t *bytes);

/* inline definitions */

static inline uint64_t pxd_journal_pos_make(uint32_t seq, uint32_t off)
{
	return (uint64_t)seq << 32 | off;
}

static inline uint32_t pxd_journal_pos_seq(uint64_t pos)
{
	return (uint32_t)(pos >> 32);
}

static inline uint32_t pxd_journal_pos_off(uint64_t pos)
{
	return (uint32_t)pos;
}

/* The bytes a record with <len> payload bytes takes in a segment. */
static inline size_t pxd_journal_record_bytes(size_t len)
{
	return PXD_JOURNAL_HDR_BYTES + len;
}

#endif
