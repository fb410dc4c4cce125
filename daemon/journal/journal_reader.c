// SPDX-License-Identifier: MIT
/*
 * The journal reader: follows one stream record by record below the writer's
 * published end, tells a torn tail from corruption and skips past damage; and
 * segment verification, which is the same walk over a whole file. One reader
 * per thread (a shard's dispatcher, startup recovery, pixelctl); allocates.
 */
#include "journal_format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler.h"
#include "journal_dir.h"
#include "pagecache.h"

#define READER_BUF_DEFAULT (256u << 10)
#define STREAM_NUM_MAX 999999u /* far above any thread or shard count; keeps names short */

/* What step() found at the reader's position within its segment. */
enum step {
	STEP_OK = 0,
	STEP_EOF, /* a record boundary at the end of the data (or of what is published) */
	STEP_BAD,
};

struct pxd_journal_reader {
	int dirfd;
	int fd; /* segment <seq>, or -1 */
	uint32_t seq;
	uint64_t pos;
	enum pxd_journal_bad bad;
	/* The read window: bytes [win_off, win_off + win_len) of segment <seq>.
	 * It only ever holds bytes that were below the caller's limit when read,
	 * and the writer never rewrites those, so it cannot go stale. */
	char *buf;
	size_t cap;
	uint64_t win_off;
	size_t win_len;
	/* The pages read are given back behind the reader (pagecache.h): a
	 * replay or a catch-up reads each once, and a pixelctl verify of a
	 * whole journal should not fill memory with it. */
	struct pxd_pagecache_trim trim;
};

int pxd_journal_reader_open(const char *stream_dir, size_t buf_bytes,
			    struct pxd_journal_reader **out)
{
	struct pxd_journal_reader *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->fd = -1;
	r->cap = buf_bytes ? buf_bytes : READER_BUF_DEFAULT;
	r->cap = PXD_MAX(r->cap, PXD_JOURNAL_HDR_BYTES);
	r->buf = malloc(r->cap);
	if (!r->buf) {
		err = -ENOMEM;
		goto free_r;
	}
	r->dirfd = pxd_journal_dir_open(stream_dir);
	if (r->dirfd < 0) {
		err = r->dirfd;
		goto free_buf;
	}
	*out = r;
	return 0;
free_buf:
	free(r->buf);
free_r:
	free(r);
	return err;
}

void pxd_journal_reader_close(struct pxd_journal_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	close(r->dirfd);
	free(r->buf);
	free(r);
}

void pxd_journal_reader_seek(struct pxd_journal_reader *r, uint64_t pos)
{
	r->pos = pos;
	r->bad = PXD_JOURNAL_BAD_NONE;
}

uint64_t pxd_journal_reader_pos(const struct pxd_journal_reader *r)
{
	return r->pos;
}

enum pxd_journal_bad pxd_journal_reader_bad(const struct pxd_journal_reader *r)
{
	return r->bad;
}

/* Makes segment <seq> the reader's open file. Returns 0, -ENOENT or -errno. */
static int open_seg(struct pxd_journal_reader *r, uint32_t seq)
{
	char name[PXD_JOURNAL_SEG_NAME_LEN + 1];
	int fd;

	if (r->fd >= 0 && r->seq == seq)
		return 0;
	pxd_journal_segment_name(name, sizeof(name), seq);
	fd = openat(r->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = fd;
	r->seq = seq;
	r->win_len = 0;
	r->trim.dropped = 0;
	return 0;
}

/*
 * Opens the segment of <r>'s position, or when it does not exist, moves on to
 * the oldest segment above it if every older one is gone too (deleted history;
 * position 0 lands here). Returns 0, PXD_JOURNAL_READ_END when no segment is
 * at or above the position (the writer has not created it yet),
 * PXD_JOURNAL_READ_CORRUPT for a gap, or -errno.
 */
static int open_pos(struct pxd_journal_reader *r)
{
	struct pxd_journal_seg *segs;
	uint32_t want = pxd_journal_pos_seq(r->pos);
	size_t n;
	int err;

	err = want ? open_seg(r, want) : -ENOENT;
	if (err != -ENOENT)
		return err;
	err = pxd_journal_segments_list_at(r->dirfd, &segs, &n);
	if (err)
		return err;
	if (n == 0 || segs[n - 1].seq < want) {
		err = PXD_JOURNAL_READ_END;
	} else if (segs[0].seq > want) {
		r->pos = pxd_journal_pos_make(segs[0].seq, 0);
		err = open_seg(r, segs[0].seq);
	} else {
		r->bad = PXD_JOURNAL_BAD_GAP;
		err = PXD_JOURNAL_READ_CORRUPT;
	}
	free(segs);
	return err;
}

/*
 * Makes bytes [<off>, <off> + <need>) of the open segment readable at
 * window_at(r, off), reading no byte at or past <end> (the caller's limit).
 * Returns how many bytes from <off> the window holds (fewer than <need> at the
 * end of the file or at <end>), -ENOMEM or -errno.
 */
static ssize_t fill(struct pxd_journal_reader *r, uint64_t off, size_t need, uint64_t end)
{
	size_t want;
	size_t got = 0;

	if (off >= r->win_off && off - r->win_off <= r->win_len &&
	    r->win_len - (off - r->win_off) >= need)
		return (ssize_t)(r->win_len - (off - r->win_off));
	if (need > r->cap) {
		char *p = realloc(r->buf, need);

		if (!p)
			return -ENOMEM;
		r->buf = p;
		r->cap = need;
	}
	want = r->cap;
	if (end != UINT64_MAX)
		want = off >= end ? 0 : (size_t)PXD_MIN((uint64_t)want, end - off);
	r->win_off = off;
	r->win_len = 0;
	/* A hint that fails only for a file that is no regular one: the pages
	 * then stay cached. A page still dirty there is only written back
	 * sooner. */
	(void)pxd_pagecache_trim(&r->trim, r->fd, off);
	while (got < want) {
		ssize_t k = pread(r->fd, r->buf + got, want - got, (off_t)(off + got));

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	r->win_len = got;
	return (ssize_t)got;
}

static const char *window_at(const struct pxd_journal_reader *r, uint64_t off)
{
	return r->buf + (off - r->win_off);
}

/*
 * Reads the record at <r>'s position in the open segment, reading no byte at
 * or past <end> of it. Returns an enum step (STEP_BAD with <*why>) or -errno.
 * A record cut short by <end> is not published yet: STEP_EOF.
 */
static int step(struct pxd_journal_reader *r, uint64_t end, struct pxd_journal_rec *rec,
		enum pxd_journal_bad *why)
{
	uint64_t off = pxd_journal_pos_off(r->pos);
	uint64_t need = PXD_JOURNAL_HDR_BYTES;
	enum pxd_journal_bad b;
	ssize_t got;

	got = fill(r, off, need, end);
	if (got <= 0)
		return got < 0 ? (int)got : STEP_EOF;
	b = pxd_journal_record_check(window_at(r, off), (size_t)got, rec);
	if (b == PXD_JOURNAL_BAD_SHORT && (size_t)got >= PXD_JOURNAL_HDR_BYTES) {
		need = pxd_journal_record_bytes(pxd_journal_record_len(window_at(r, off)));
		got = fill(r, off, need, end);
		if (got < 0)
			return (int)got;
		b = pxd_journal_record_check(window_at(r, off), (size_t)got, rec);
	}
	if (b == PXD_JOURNAL_BAD_SHORT && off + need > end)
		return STEP_EOF;
	if (b == PXD_JOURNAL_BAD_NONE && off + pxd_journal_record_bytes(rec->len) > UINT32_MAX)
		b = PXD_JOURNAL_BAD_LEN; /* past what a position can address */
	if (b != PXD_JOURNAL_BAD_NONE) {
		*why = b;
		return STEP_BAD;
	}
	rec->pos = r->pos;
	rec->next =
	    pxd_journal_pos_make(r->seq, (uint32_t)(off + pxd_journal_record_bytes(rec->len)));
	r->pos = rec->next;
	return STEP_OK;
}

/*
 * Looks for the first valid record at or after <from> and before <size> in the
 * open segment. Returns 1 with its offset in <*found>, 0 when there is none, or
 * -errno. A candidate must have a plausible length that fits in the file before
 * its CRC is computed, so zeros and text are passed over at a few instructions
 * a byte.
 */
static int scan_from(struct pxd_journal_reader *r, uint64_t from, uint64_t size, uint64_t *found)
{
	struct pxd_journal_rec rec;

	for (uint64_t o = from; o + PXD_JOURNAL_HDR_BYTES <= size; o++) {
		ssize_t got = fill(r, o, PXD_JOURNAL_HDR_BYTES, UINT64_MAX);
		uint32_t len;

		if (got < 0)
			return (int)got;
		if ((size_t)got < PXD_JOURNAL_HDR_BYTES)
			return 0; /* the file shrank */
		len = pxd_journal_record_len(window_at(r, o));
		if (len == 0 || len > PXD_JOURNAL_PAYLOAD_MAX ||
		    o + pxd_journal_record_bytes(len) > size)
			continue;
		got = fill(r, o, pxd_journal_record_bytes(len), UINT64_MAX);
		if (got < 0)
			return (int)got;
		if (pxd_journal_record_check(window_at(r, o), (size_t)got, &rec) ==
		    PXD_JOURNAL_BAD_NONE) {
			*found = o;
			return 1;
		}
	}
	return 0;
}

/* scan_from() up to the end of the file, as it is now. */
static int resync(struct pxd_journal_reader *r, uint64_t from, uint64_t *found)
{
	struct stat st;
	int rc;

	if (fstat(r->fd, &st))
		return -errno;
	rc = scan_from(r, from, (uint64_t)st.st_size, found);
	/* The scan read past the caller's limit: forget those bytes (see the window). */
	r->win_len = 0;
	return rc;
}

/* Returns 1 when segment <seq> exists, 0 when not, or -errno. */
static int seg_exists(const struct pxd_journal_reader *r, uint32_t seq)
{
	char name[PXD_JOURNAL_SEG_NAME_LEN + 1];
	struct stat st;

	pxd_journal_segment_name(name, sizeof(name), seq);
	if (fstatat(r->dirfd, name, &st, 0) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

/* Tells TORN from CORRUPT for the bad bytes at <r>'s position. */
static int classify(struct pxd_journal_reader *r)
{
	uint64_t found;
	int err;

	err = seg_exists(r, r->seq + 1);
	if (err)
		return err < 0 ? err : PXD_JOURNAL_READ_CORRUPT;
	err = resync(r, (uint64_t)pxd_journal_pos_off(r->pos) + 1, &found);
	if (err)
		return err < 0 ? err : PXD_JOURNAL_READ_CORRUPT;
	return PXD_JOURNAL_READ_TORN;
}

int pxd_journal_reader_next(struct pxd_journal_reader *r, uint64_t limit,
			    struct pxd_journal_rec *rec)
{
	enum pxd_journal_bad why = PXD_JOURNAL_BAD_NONE;
	uint64_t end;
	uint64_t here;
	int rc;

	r->bad = PXD_JOURNAL_BAD_NONE;
	for (;;) {
		if (r->pos >= limit)
			return PXD_JOURNAL_READ_END;
		rc = open_pos(r);
		if (rc)
			return rc;
		end =
		    pxd_journal_pos_seq(limit) == r->seq ? pxd_journal_pos_off(limit) : UINT64_MAX;
		rc = step(r, end, rec, &why);
		if (rc < 0)
			return rc;
		if (rc == STEP_OK)
			return PXD_JOURNAL_READ_OK;
		if (rc == STEP_BAD) {
			r->bad = why;
			return classify(r);
		}
		if (pxd_journal_pos_seq(limit) == r->seq)
			return PXD_JOURNAL_READ_END;
		/* The end of this segment: go on with the next one if it exists. */
		here = r->pos;
		r->pos = pxd_journal_pos_make(r->seq + 1, 0);
		rc = open_pos(r);
		if (rc) {
			r->pos = here;
			return rc;
		}
	}
}

int pxd_journal_reader_skip(struct pxd_journal_reader *r, uint64_t *skipped)
{
	uint64_t off = pxd_journal_pos_off(r->pos);
	uint64_t found;
	struct stat st;
	int rc;

	if (r->bad == PXD_JOURNAL_BAD_NONE)
		return 0;
	if (r->bad == PXD_JOURNAL_BAD_GAP) {
		struct pxd_journal_seg *segs;
		size_t n;
		size_t i;

		rc = pxd_journal_segments_list_at(r->dirfd, &segs, &n);
		if (rc)
			return rc;
		for (i = 0; i < n && segs[i].seq <= pxd_journal_pos_seq(r->pos); i++)
			;
		if (i < n)
			r->pos = pxd_journal_pos_make(segs[i].seq, 0);
		free(segs);
		r->bad = PXD_JOURNAL_BAD_NONE;
		return 0;
	}
	rc = open_seg(r, pxd_journal_pos_seq(r->pos));
	if (rc)
		return rc;
	rc = resync(r, off + 1, &found);
	if (rc < 0)
		return rc;
	if (rc) {
		*skipped += found - off;
		r->pos = pxd_journal_pos_make(r->seq, (uint32_t)found);
	} else {
		/*
		 * The end of the file as it is now, not the next segment: if
		 * this is the segment being written, what is appended after the
		 * damage is still read.
		 */
		if (fstat(r->fd, &st))
			return -errno;
		*skipped += (uint64_t)st.st_size - off;
		r->pos = pxd_journal_pos_make(r->seq, (uint32_t)st.st_size);
	}
	r->bad = PXD_JOURNAL_BAD_NONE;
	return 0;
}

/* Returns 1 when bytes [<off>, <size>) of the open segment are all zeros, 0 when not, or -errno. */
static int zeros_to_end(struct pxd_journal_reader *r, uint64_t off, uint64_t size)
{
	while (off < size) {
		ssize_t got = fill(r, off, 1, UINT64_MAX);

		if (got < 0)
			return (int)got;
		if (got == 0)
			return 1; /* the file shrank */
		for (ssize_t i = 0; i < got && off + (uint64_t)i < size; i++)
			if (window_at(r, off)[i])
				return 0;
		off += (uint64_t)got;
	}
	return 1;
}

/* pxd_journal_segment_check() with an open reader. */
static int check_seg(struct pxd_journal_reader *r, uint32_t seq, struct pxd_journal_seg_check *out)
{
	struct pxd_journal_rec rec;
	enum pxd_journal_bad why;
	struct stat st;
	uint64_t found;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = open_seg(r, seq);
	if (rc)
		return rc;
	if (fstat(r->fd, &st))
		return -errno;
	out->bytes = (uint64_t)st.st_size;
	out->end = out->bytes;
	r->pos = pxd_journal_pos_make(seq, 0);
	for (;;) {
		uint64_t off = pxd_journal_pos_off(r->pos);

		rc = step(r, UINT64_MAX, &rec, &why);
		if (rc < 0)
			return rc;
		if (rc == STEP_EOF)
			return 0;
		if (rc == STEP_OK) {
			if (!out->records)
				out->first_ms = rec.received_ms;
			out->last_ms = rec.received_ms;
			out->records++;
			continue;
		}
		rc = zeros_to_end(r, off, out->bytes);
		if (rc < 0)
			return rc;
		if (rc) {
			out->end = off;
			out->zeros = out->bytes - off;
			return 0;
		}
		rc = resync(r, off + 1, &found);
		if (rc < 0)
			return rc;
		if (out->nbad < PXD_JOURNAL_CHECK_MAX_BAD)
			out->bad[out->nbad] =
			    (struct pxd_journal_bad_region){ off, (rc ? found : out->bytes) - off,
							     why };
		out->nbad++;
		if (!rc) {
			out->end = off;
			out->end_why = why;
			return 0;
		}
		r->pos = pxd_journal_pos_make(seq, (uint32_t)found);
	}
}

int pxd_journal_segment_check(const char *stream_dir, uint32_t seq,
			      struct pxd_journal_seg_check *out)
{
	struct pxd_journal_reader *r;
	int err;

	err = pxd_journal_reader_open(stream_dir, 0, &r);
	if (err)
		return err;
	err = check_seg(r, seq, out);
	pxd_journal_reader_close(r);
	return err;
}
