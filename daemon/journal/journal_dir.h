/* SPDX-License-Identifier: MIT */
/*
 * journal_dir.h - what the journal's reader and recovery share with the
 * directory listing (journal_dir.c) beyond journal_format.h: listing a stream
 * already open as a directory descriptor. Any thread; no state.
 */
#ifndef PXD_JOURNAL_DIR_H
#define PXD_JOURNAL_DIR_H

#include <stddef.h>

#include "journal_format.h"

/* Opens <path> as a directory (O_RDONLY | O_DIRECTORY). Returns the fd or -errno. */
int pxd_journal_dir_open(const char *path);

/*
 * pxd_journal_segments_list() on the stream directory open at <dfd>, which
 * stays open and unchanged (the listing reads a dup of it). Same results.
 */
int pxd_journal_segments_list_at(int dfd, struct pxd_journal_seg **out, size_t *n);

#endif
