/* SPDX-License-Identifier: MIT */
/*
 * pixelctl_tls.h - `pixelctl tls status`: the certificates the running
 * pixeld serves (GET /admin/tls), with subject, names, expiry and days left.
 * Runs in the pixelctl process, on its only thread.
 */
#ifndef PXD_PIXELCTL_TLS_H
#define PXD_PIXELCTL_TLS_H

#include "conf.h"

/*
 * Runs `pixelctl tls` with <argv>[0] == "tls": `status [--json]` prints one
 * row per certificate (or the raw answer). Returns the exit status: 0, 1
 * (pixeld unreachable or refusing, a certificate expired) or 2 (usage).
 */
int pxd_pixelctl_tls_main(int argc, char **argv, const struct pxd_conf *conf);

#endif
