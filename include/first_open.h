/* SPDX-License-Identifier: MIT */
/*
 * first_open.h - props.first_open of EmailOpen events: whether an open is the
 * first of its (tenant, message, recipient) within a window. Owns one
 * fixed-size table shared by every ingest thread, lock-free (one 64-bit
 * compare-and-swap per check), and its file across restarts. The s2s
 * event_id dedup is a second table of the same kind. Any thread may
 * check; init, load and free belong to the main thread.
 */
#ifndef PXD_FIRST_OPEN_H
#define PXD_FIRST_OPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strview.h"

/*
 * Times are kept in whole minutes since this instant (2024-01-01T00:00:00Z)
 * in 24 bits, so the table works until 2055; a window is rounded up to whole
 * minutes.
 */
#define PXD_FIRST_OPEN_EPOCH 1704067200
#define PXD_FIRST_OPEN_WAYS 8 /* slots per bucket: one cache line */

struct pxd_first_open;

/* One thread's counters; only that thread writes them. */
struct pxd_first_open_stats {
	uint64_t first;	    /* checks that answered true */
	uint64_t repeat;    /* checks that answered false */
	uint64_t evicted;   /* live entries pushed out by a full bucket */
	uint64_t contended; /* checks that lost the slot race 4 times and answered true */
};

/*
 * Allocates a table of <slots> entries (a power of two, at least
 * PXD_FIRST_OPEN_WAYS) for a window of <window_s> seconds (at least 1).
 * Returns 0 and sets <*out>, -EINVAL or -ENOMEM. Main thread.
 */
int pxd_first_open_init(struct pxd_first_open **out, uint32_t slots, uint32_t window_s);

/* Releases <t>. Accepts NULL. Main thread, after every checker stopped. */
void pxd_first_open_free(struct pxd_first_open *t);

/*
 * Returns the 64-bit key of a (tenant, message, recipient) pair: a hash
 * with each field's length mixed in, so no two pairs of fields run together.
 * Stable across restarts and builds. Any thread.
 */
uint64_t pxd_first_open_key(struct pxd_sv tenant, struct pxd_sv message, struct pxd_sv recipient);

/*
 * Records an open of <key> at <now_s> (Unix seconds) and returns true when
 * it is the first: the key was not in the table, or last seen a window or
 * more ago. The entry keeps the last-seen time, so a window is measured from
 * the latest open. When the key's bucket is full, the entry seen longest ago
 * makes room (counted in <st>->evicted unless it had expired anyway). Two
 * threads recording the same new key at the same instant may both get true.
 * Allocates nothing, takes no lock, makes no syscall; any thread, with its
 * own <st>.
 */
bool pxd_first_open_check(struct pxd_first_open *t, uint64_t key, int64_t now_s,
			  struct pxd_first_open_stats *st);

/*
 * Returns true when <key> was recorded less than a window before <now_s>,
 * without recording anything: the s2s dedup table (daemon/endpoints/
 * api_state.c, a second table of this kind) looks first and records with
 * pxd_first_open_check() only once the event is journaled, so a refused
 * event can be sent again. Any thread; no lock, no allocation.
 */
bool pxd_first_open_seen(const struct pxd_first_open *t, uint64_t key, int64_t now_s);

/* Returns how many entries were seen within the window before <now_s>. Cold path (scans). */
size_t pxd_first_open_live(const struct pxd_first_open *t, int64_t now_s);

/*
 * Writes the live entries to <path>: a versioned, CRC-32-checked file
 * written to "<path>.tmp", fsynced and renamed over <path>, so a crash leaves
 * either the old file or the new one. May run while threads check (each
 * entry is read atomically). Returns 0 or -errno (the old file is kept).
 */
int pxd_first_open_save(const struct pxd_first_open *t, const char *path, int64_t now_s);

/*
 * Adds the entries saved in <path> that are still within the window at
 * <now_s>; the table may have a different size than the one saved. Returns
 * 0, -ENOENT (no file: a first start), -EINVAL (not a first-open file, other
 * version, bad checksum or size: start empty and say so) or another -errno.
 * Main thread, before checkers start.
 */
int pxd_first_open_load(struct pxd_first_open *t, const char *path, int64_t now_s);

#endif
