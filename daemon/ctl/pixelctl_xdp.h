/* SPDX-License-Identifier: MIT */
/*
 * pixelctl_xdp.h - the pixelctl commands for the XDP filter: xdp status,
 * xdp stats, xdp detach, block, unblock, blocks, allow, unallow, allows and
 * lists reload. They work on the maps pinned under [xdp] pin_dir, whether or
 * not pixeld is running, so they need root (CAP_BPF). pixelctl's main
 * thread only.
 */
#ifndef PXD_PIXELCTL_XDP_H
#define PXD_PIXELCTL_XDP_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"

/* Returns true when <word> (pixelctl's command word) is one of the commands above. */
bool pxd_pixelctl_xdp_handles(const char *word);

/* Writes one usage line per command to <out>. */
void pxd_pixelctl_xdp_usage(FILE *out);

/*
 * Runs the command in <argv> (argv[0] is the command word, e.g. "xdp" or
 * "block"; <argc> counts it) against the pins <conf> names. Prints results
 * on stdout and failures on stderr, one line saying what failed and what to
 * do. Returns the process exit status: 0 on success, 1 when the command
 * failed or XDP is not running, 2 for a usage error.
 */
int pxd_pixelctl_xdp_main(int argc, char **argv, const struct pxd_conf *conf);

#endif
