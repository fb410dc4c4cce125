/* SPDX-License-Identifier: MIT */
/*
 * pagecache.h - gives back the page cache of a file that is written front
 * to back, behind what is already on the disk: the journal's segments (the
 * ingest thread that writes them) and the JSONL sink's file (its shard's
 * dispatcher thread). Each keeps the last PXD_PAGECACHE_KEEP bytes cached,
 * for a reader that follows close behind (a shard in journal overflow, a
 * tailer of the JSONL file), and drops what lies before, a step at a time.
 *
 * Why: every event is written twice (journal, sink) and read from neither
 * file while delivery keeps up, yet each page written stays cached until
 * memory runs out and reclaim (kswapd) evicts it. Dropped as it goes, a
 * steady stream reuses the same few MiB of just-freed pages instead of
 * taking a fresh one for every 4 KiB; on a VM whose host takes free memory
 * back (virtio-balloon free page reporting, as on the bench machine) a
 * fresh page is also a fault in the host, 2-10 us each (bench/RESULTS.md
 * "Page cache given back").
 */
#ifndef PXD_PAGECACHE_H
#define PXD_PAGECACHE_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>

/* Bytes kept cached behind the synced end. */
#define PXD_PAGECACHE_KEEP (4u << 20)
/* Dropped this much at a time (a multiple of every page size): one
 * posix_fadvise(2) per 256 KiB written, never one per request. */
#define PXD_PAGECACHE_STEP (256u << 10)

struct pxd_pagecache_trim {
	uint64_t dropped; /* file offset below which the cache was given back */
};

/*
 * The file's bytes below offset <synced> are on the disk, so their pages
 * are clean and POSIX_FADV_DONTNEED drops them (a dirty page it would only
 * start writing back). Returns 0, or once -errno from posix_fadvise(2) for
 * the caller to log: the file's pages then stay cached (memory, never
 * data) and no call is made for it again.
 */
static inline int pxd_pagecache_trim(struct pxd_pagecache_trim *t, int fd, uint64_t synced)
{
	uint64_t start;
	uint64_t end;
	int rc;

	if (synced < PXD_PAGECACHE_KEEP)
		return 0;
	end = (synced - PXD_PAGECACHE_KEEP) & ~(uint64_t)(PXD_PAGECACHE_STEP - 1);
	if (end <= t->dropped)
		return 0;
	/* From a step back: DONTNEED only drops a folio that lies wholly in the
	 * range, and a large one (up to 2 MiB, ext4 builds them from big
	 * writes) may have straddled the last call's end. */
	start = t->dropped > PXD_PAGECACHE_KEEP ? t->dropped - PXD_PAGECACHE_KEEP : 0;
	rc = posix_fadvise(fd, (off_t)start, (off_t)(end - start), POSIX_FADV_DONTNEED);
	t->dropped = rc ? UINT64_MAX : end;
	return -rc;
}

/* The whole file, which is complete and on the disk (a journal segment
 * left for the next). */
static inline int pxd_pagecache_drop(int fd)
{
	int rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);

	return rc ? -rc : 0;
}

#endif
