/* SPDX-License-Identifier: MIT */
/*
 * jsonl_tail.h - the event_ids already at the end of a JSONL sink's file,
 * read once when the sink first opens it, so the replay after a crash (which
 * starts at the last saved watermark, before what the sink wrote last) does
 * not write them again. Also finds a last line a crash left without its
 * newline. Owned by one sink, on its dispatcher thread.
 */
#ifndef PXD_JSONL_TAIL_H
#define PXD_JSONL_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How much of the file's end is read: more than a watermark save interval
 * of writes at any rate the sink reaches (see README, exactly-once scope). */
#define PXD_JSONL_TAIL_BYTES (64u << 20)

struct pxd_jsonl_tail {
	uint64_t *ids; /* open addressing of id hashes; 0 = free */
	size_t cap;    /* a power of two, or 0 when empty */
	size_t n;
};

/*
 * Reads the last PXD_JSONL_TAIL_BYTES of the file open on <fd> (read
 * access) and adds the event_id of every whole line to <t>. Sets <*whole> to
 * the size of the file up to its last newline (what remains after it is a
 * line a crash cut short). Returns 0, -ENOMEM, or the -errno of reading.
 */
int pxd_jsonl_tail_load(struct pxd_jsonl_tail *t, int fd, off_t *whole);

/* Whether canonical line <line> (<len> bytes) has an event_id in <t>. */
bool pxd_jsonl_tail_has(const struct pxd_jsonl_tail *t, const char *line, size_t len);

/* Frees the set. Accepts a zeroed struct. */
void pxd_jsonl_tail_free(struct pxd_jsonl_tail *t);

#endif
