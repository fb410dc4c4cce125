/* SPDX-License-Identifier: MIT */
/*
 * pixelctl_journal.h - `pixelctl journal status|verify`: what the journal holds and
 * whether it is sound, read straight from the files (segments, watermarks),
 * as JSON for the admin API and as text for people. Changes nothing on disk,
 * so it may run beside pixeld; a record being written at that moment can then
 * show as a torn tail. Any one thread; allocates freely (cold path).
 *
 * Verdicts of verify, and pixelctl's exit status for them:
 *  clean   0  every record of every segment passes its checks;
 *  torn    0  only torn tails (the last write of a stream cut short by a crash
 *             or power loss): a warning; pixeld cuts them at its next start;
 *  corrupt 1  a bad record with valid data after it, a missing segment, or a
 *             damaged watermarks file: data was damaged after it was written.
 */
#ifndef PXD_PIXELCTL_JOURNAL_H
#define PXD_PIXELCTL_JOURNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "conf.h"

enum pxd_journal_verdict {
	PXD_JOURNAL_VERDICT_CLEAN = 0,
	PXD_JOURNAL_VERDICT_TORN,
	PXD_JOURNAL_VERDICT_CORRUPT,
	PXD_JOURNAL_VERDICT_COUNT, /* number of verdicts */
};

/*
 * Runs `pixelctl journal` with <argv>[0] == "journal":
 *   status [--json] [--dir DIR]
 *   verify [--json] [--dir DIR]
 * on <conf>'s journal directory (or DIR) and destinations. Output goes to
 * stdout, diagnostics to stderr. Returns the exit status: 0, 1 (corrupt, or
 * the journal could not be read) or 2 (usage).
 */
int pxd_pixelctl_journal_main(int argc, char **argv, const struct pxd_conf *conf);

/*
 * Builds the status document of <journal_dir> for the <ndests> destination
 * names <dests> and appends it, compact JSON, to <out>. Per stream: segments,
 * bytes, first and end positions, torn tail; per destination and stream: the
 * watermark and where it came from, the backlog (records and bytes between the
 * watermark and the end) and the time the oldest of them was received.
 * Counting the backlog reads it: one pass per stream, whatever the number of
 * destinations. A journal directory that does not exist gives a document with
 * "exists": false. Returns 0, -EBADMSG (damaged watermarks file, logged),
 * -ENOMEM or -errno.
 */
int pxd_pixelctl_journal_status_json(const char *journal_dir, const char *const *dests,
				     size_t ndests, struct pxd_buf *out);

/*
 * Prints a status document (from pxd_pixelctl_journal_status_json(), parsed, or
 * from the admin API) as text to <f>. Returns 0, or -EINVAL when <status> is
 * not one.
 */
int pxd_pixelctl_journal_status_print(const json_t *status, FILE *f);

/*
 * Checks every record of every segment of every stream of <journal_dir>, the
 * segment numbering, and the watermarks file. Appends the report, compact
 * JSON, to <out> and puts the verdict in <*verdict>. Returns 0 (whatever the
 * verdict), -ENOENT when <journal_dir> does not exist, -ENOMEM or -errno.
 */
int pxd_pixelctl_journal_verify_json(const char *journal_dir, struct pxd_buf *out,
				     enum pxd_journal_verdict *verdict);

/* Prints a verify report as text to <f>. Returns 0 or -EINVAL. */
int pxd_pixelctl_journal_verify_print(const json_t *report, FILE *f);

#endif
