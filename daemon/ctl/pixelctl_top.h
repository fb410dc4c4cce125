/* SPDX-License-Identifier: MIT */
/*
 * pixelctl_top.h - `pixelctl top`: rates per endpoint, tenant and
 * destination from /admin/stream, redrawn each second with plain ANSI
 * escapes (no curses; works over ssh). pixelctl's thread.
 */
#ifndef PXD_PIXELCTL_TOP_H
#define PXD_PIXELCTL_TOP_H

#include "conf.h"

/* argv[0] is "top". Returns the exit status: 0 (interrupted, or -n frames
 * drawn), 1 when pixeld cannot be read, 2 for a usage error. */
int pxd_pixelctl_top_main(int argc, char **argv, const struct pxd_conf *conf);

#endif
