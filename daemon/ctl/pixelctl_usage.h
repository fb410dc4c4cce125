/* SPDX-License-Identifier: MIT */
/*
 * pixelctl_usage.h - `pixelctl usage [--tenant T] [--since YYYY-MM-DD]
 * [--json]`: per-day, per-tenant totals for billing (events accepted and
 * refused, bytes, cookies set, extended and restored) from the running
 * pixeld (GET /admin/usage), or from data_dir/usage.tsv when pixeld is not
 * running. Runs in the pixelctl process, on its only thread.
 */
#ifndef PXD_PIXELCTL_USAGE_H
#define PXD_PIXELCTL_USAGE_H

#include "conf.h"

/* Runs `pixelctl usage` (<argv>[0] == "usage"). Returns the exit status: 0, 1 or 2 (usage). */
int pxd_pixelctl_usage_main(int argc, char **argv, const struct pxd_conf *conf);

#endif
