/* SPDX-License-Identifier: MIT */
/*
 * pixelctl_tail.h - `pixelctl tail`: the canonical events as pixeld accepts
 * them, followed from /admin/stream until interrupted. pixelctl's thread.
 */
#ifndef PXD_PIXELCTL_TAIL_H
#define PXD_PIXELCTL_TAIL_H

#include "conf.h"

/* argv[0] is "tail". Returns the exit status: 0 (interrupted, or --count
 * reached), 1 when pixeld cannot be read, 2 for a usage error. */
int pxd_pixelctl_tail_main(int argc, char **argv, const struct pxd_conf *conf);

#endif
