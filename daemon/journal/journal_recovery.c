// SPDX-License-Identifier: MIT
/*
 * Journal recovery and retention: finding where each stream ends at startup,
 * cutting a torn tail (never a corrupt one), and deleting the segments every
 * destination has delivered. Startup (ingest setup, pixelctl) and the shard
 * that reads the stream; blocking file I/O, never on the ingest hot path.
 */
#include "journal_format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal_dir.h"
#include "log.h"

/* pxd_journal_scan_end() with <stream_dir> already open at <dfd>. */
static int scan_end_at(int dfd, const char *stream_dir, struct pxd_journal_tail *tail)
{
	struct pxd_journal_seg_check chk;
	struct pxd_journal_seg *segs;
	size_t n;
	int err;

	memset(tail, 0, sizeof(*tail));
	err = pxd_journal_segments_list_at(dfd, &segs, &n);
	if (err)
		return err;
	if (n == 0)
		goto out;
	tail->first_seq = segs[0].seq;
	tail->last_seq = segs[n - 1].seq;
	tail->nsegments = (uint32_t)n;
	for (size_t i = 0; i < n; i++)
		tail->bytes += segs[i].bytes;
	err = pxd_journal_segment_check(stream_dir, tail->last_seq, &chk);
	if (err)
		goto out;
	tail->end = pxd_journal_pos_make(tail->last_seq, (uint32_t)chk.end);
	tail->torn_bytes = chk.bytes - chk.end;
	tail->zeros = chk.zeros != 0;
	tail->corrupt = chk.nbad > (tail->torn_bytes ? 1u : 0u);
	tail->bad = tail->corrupt ? chk.bad[0].why : chk.end_why;
out:
	free(segs);
	return err;
}

int pxd_journal_scan_end(const char *stream_dir, struct pxd_journal_tail *tail)
{
	int dfd = pxd_journal_dir_open(stream_dir);
	int err;

	if (dfd < 0)
		return dfd;
	err = scan_end_at(dfd, stream_dir, tail);
	close(dfd);
	return err;
}

int pxd_journal_cut_torn(const char *stream_dir, struct pxd_journal_tail *tail)
{
	char name[PXD_JOURNAL_SEG_NAME_LEN + 1];
	int err;
	int dfd;
	int fd;

	dfd = pxd_journal_dir_open(stream_dir);
	if (dfd < 0)
		return dfd;
	err = scan_end_at(dfd, stream_dir, tail);
	if (err)
		goto out;
	if (tail->corrupt) {
		pxd_log_err("journal",
			    "%s/%016x.seg: a bad record (%s) with valid records after it; nothing "
			    "cut: run `pixelctl journal verify` and keep a copy of the segment",
			    stream_dir, tail->last_seq, pxd_journal_bad_name(tail->bad));
		err = -EBADMSG;
		goto out;
	}
	if (!tail->torn_bytes)
		goto out;
	pxd_journal_segment_name(name, sizeof(name), tail->last_seq);
	fd = openat(dfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (ftruncate(fd, (off_t)pxd_journal_pos_off(tail->end)) || fsync(fd))
		err = -errno;
	close(fd);
	if (err)
		goto out;
	if (tail->zeros) {
		pxd_log_info(
		    "journal",
		    "%s/%s: cut %llu bytes of zeros after the last record at offset %u "
		    "(pre-written with ack=durable; the writer stopped before cutting them)",
		    stream_dir, name, (unsigned long long)tail->torn_bytes,
		    pxd_journal_pos_off(tail->end));
		goto out;
	}
	pxd_log_warn("journal",
		     "%s/%s: cut a torn tail of %llu bytes (%s) at offset %u: an interrupted "
		     "write; the records before it are kept",
		     stream_dir, name, (unsigned long long)tail->torn_bytes,
		     pxd_journal_bad_name(tail->bad), pxd_journal_pos_off(tail->end));
out:
	close(dfd);
	return err;
}

int pxd_journal_delete_below(const char *stream_dir, uint64_t pos, unsigned *nsegs, uint64_t *bytes)
{
	char name[PXD_JOURNAL_SEG_NAME_LEN + 1];
	struct pxd_journal_seg *segs;
	unsigned deleted = 0;
	size_t n;
	int err;
	int dfd;

	dfd = pxd_journal_dir_open(stream_dir);
	if (dfd < 0)
		return dfd;
	err = pxd_journal_segments_list_at(dfd, &segs, &n);
	if (err)
		goto close_dir;
	/*
	 * Only segments below the watermark's own segment: a watermark at the
	 * very end of segment k does not free k, because the writer may still
	 * have writes to k in flight after it opened k + 1.
	 */
	for (size_t i = 0; i + 1 < n && segs[i].seq < pxd_journal_pos_seq(pos); i++) {
		pxd_journal_segment_name(name, sizeof(name), segs[i].seq);
		if (unlinkat(dfd, name, 0)) {
			err = -errno;
			break;
		}
		deleted++;
		if (nsegs)
			(*nsegs)++;
		if (bytes)
			*bytes += segs[i].bytes;
	}
	free(segs);
	if (deleted && fsync(dfd) && !err)
		err = -errno;
close_dir:
	close(dfd);
	return err;
}
