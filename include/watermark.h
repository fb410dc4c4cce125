/* SPDX-License-Identifier: MIT */
/*
 * watermark.h - per destination and per journal stream, the position up to
 * which every event was delivered (or dead-lettered), and its file
 * <journal_dir>/watermarks. Not the reading or the deleting of segments
 * (journal_format.h). Not thread-safe: one thread owns a set and serializes
 * every call (the lead's watermark thread; pixelctl's only thread).
 *
 * The file is text, so an operator can read it, and checksummed, so a damaged
 * one is refused rather than misread:
 *
 *   pixeld-watermarks 1              format version
 *   dest <name>                      one per destination, sorted by name
 *   mark <name> i<i>-s<s> <seq>:<off> one per (destination, stream), decimal
 *   crc32c <8 hex digits>            CRC-32C of every byte before this line
 *
 * It is replaced atomically: written to "watermarks.tmp", fdatasync'd,
 * renamed over "watermarks", then the directory is fsync'd; a crash at any
 * point leaves the old file or the new one whole.
 *
 * Where a destination starts reading a stream (pxd_watermarks_resolve()):
 *  - at its saved watermark;
 *  - at 0, the oldest record kept, when there is no file at all: the first
 *    start, or an operator moved a damaged file away. Everything still in the
 *    journal is sent again (at-least-once: duplicates, never a loss);
 *  - at 0 for a stream the file does not name for a destination it does: the
 *    stream is newer than the last save, so all of it is new to everyone;
 *  - at the stream's current end for a destination the file does not name: a
 *    destination added to the configuration gets new events, not the history
 *    (pass 0 as the end to give it the history).
 * Destinations no longer configured are dropped with pxd_watermarks_prune(),
 * so one added back later counts as new again.
 */
#ifndef PXD_WATERMARK_H
#define PXD_WATERMARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PXD_WATERMARK_NAME_MAX 64 /* with the NUL; as PXD_CONF_NAME_MAX */
#define PXD_WATERMARK_FILE "watermarks"

/* Where pxd_watermarks_resolve() took a destination's start from (see above). */
enum pxd_watermark_origin {
	PXD_WATERMARK_SAVED = 0,
	PXD_WATERMARK_NO_FILE,
	PXD_WATERMARK_NEW_STREAM,
	PXD_WATERMARK_NEW_DEST,
	PXD_WATERMARK_COUNT, /* number of origins */
};

struct pxd_watermarks;

/*
 * Loads <journal_dir>/watermarks into a new set at <*out>. A missing file
 * gives an empty set that remembers it had no file. Returns 0, -EBADMSG
 * when the file is damaged or of an unknown version (logged with the file's
 * name and what to do), -ENOMEM, or another -errno from reading it.
 */
int pxd_watermarks_load(const char *journal_dir, struct pxd_watermarks **out);

/* An empty set as if no file existed, for callers that build one from scratch. */
struct pxd_watermarks *pxd_watermarks_new(void);

/* Frees <w>. Accepts NULL. */
void pxd_watermarks_free(struct pxd_watermarks *w);

/* Returns true and <*pos> when <dest> has a watermark for stream (<ingest>, <shard>). */
bool pxd_watermarks_get(const struct pxd_watermarks *w, const char *dest, unsigned ingest,
			unsigned shard, uint64_t *pos);

/* Returns true when <w> was loaded from a file (false: no file, or pxd_watermarks_new()). */
bool pxd_watermarks_from_file(const struct pxd_watermarks *w);

/* Returns true when <dest> is in the set (declared by the file or by a set/resolve). */
bool pxd_watermarks_has_dest(const struct pxd_watermarks *w, const char *dest);

/*
 * Sets <dest>'s watermark for stream (<ingest>, <shard>) to <pos>, adding the
 * destination and the stream as needed. Returns 0, -EINVAL when <dest> is
 * empty, longer than PXD_WATERMARK_NAME_MAX - 1 or holds a space or control
 * character, or -ENOMEM. Lookup is two binary searches (destination, then
 * stream): cheap enough for every delivered batch.
 */
int pxd_watermarks_set(struct pxd_watermarks *w, const char *dest, unsigned ingest, unsigned shard,
		       uint64_t pos);

/*
 * Returns in <*pos> where <dest> starts reading stream (<ingest>, <shard>)
 * whose current end is <stream_end>, by the rules at the top of this file,
 * and records that start as its watermark (so the next save keeps it). Says
 * which rule applied in <*origin> (may be NULL). Returns 0, -EINVAL or -ENOMEM.
 * Call it at startup for every configured destination and stream, then save.
 */
int pxd_watermarks_resolve(struct pxd_watermarks *w, const char *dest, unsigned ingest,
			   unsigned shard, uint64_t stream_end, uint64_t *pos,
			   enum pxd_watermark_origin *origin);

/*
 * Returns the lowest watermark for stream (<ingest>, <shard>) among the <n>
 * destinations <dests>: segments wholly below it may be deleted. A listed
 * destination without a watermark for the stream counts as 0. With <n> == 0
 * it is 0: nothing is deleted while no destination is configured.
 */
uint64_t pxd_watermarks_min(const struct pxd_watermarks *w, const char *const *dests, size_t n,
			    unsigned ingest, unsigned shard);

/* Drops every destination that is not among the <n> names <dests>. */
void pxd_watermarks_prune(struct pxd_watermarks *w, const char *const *dests, size_t n);

/*
 * Writes <w> to <journal_dir>/watermarks atomically (see the top of this
 * file). Returns 0, or -errno of the step that failed (logged with the path;
 * the previous file is left as it was), -ENOMEM.
 */
int pxd_watermarks_save(const struct pxd_watermarks *w, const char *journal_dir);

#endif
