/* SPDX-License-Identifier: MIT */
/*
 * pixelctl_dlq.h - `pixelctl dlq ...`: lists and shows dead letters by
 * reading <data_dir>/dlq directly (no daemon needed), and asks the running
 * pixeld to replay them (POST /admin/dlq/replay), since only the daemon may
 * enqueue events. Runs in the pixelctl process, on its only thread.
 */
#ifndef PXD_PIXELCTL_DLQ_H
#define PXD_PIXELCTL_DLQ_H

#include "conf.h"

/*
 * Runs `pixelctl dlq` with <argv>[0] == "dlq":
 *   list [--dest D] [--since T]    one row per dead letter, oldest first
 *   show ID                        every field of one, the event as stored
 *   replay [--dest D] [--since T]  re-enqueue those not replayed before
 * T is RFC 3339 ("2024-11-22T18:00:00Z") or a duration back from now ("1h",
 * "30m", "7d"); replay sends it to pixeld as an absolute RFC 3339 time, in
 * the body {"dest":D,"since":T} (members left out when not given), and
 * prints the answer's {"replayed":N,"skipped":M}. Output goes to stdout,
 * diagnostics to stderr. Returns the exit status: 0, 1 (no such dead letter,
 * unreadable files, pixeld unreachable or refusing) or 2 (usage). list and
 * show read <conf>->data_dir, so they must run as a user who can (pixeld's).
 */
int pxd_pixelctl_dlq_main(int argc, char **argv, const struct pxd_conf *conf);

#endif
