/* SPDX-License-Identifier: MIT */
/*
 * pixelctl_pixel.h - `pixelctl pixel ...`: minting email open-pixel URLs
 * (one, or one per CSV row) and checking a token, with the keys named in the
 * [email] section. Runs in the pixelctl process, on its only thread.
 */
#ifndef PXD_PIXELCTL_PIXEL_H
#define PXD_PIXELCTL_PIXEL_H

#include "conf.h"

/*
 * Runs `pixelctl pixel` with <argv>[0] == "pixel":
 *   sign --campaign C --message M --recipient R [--ttl 400d] [--meta k=v]...
 *        [--tenant T] [--base-url URL] [--html]
 *   sign --csv FILE [--base-url URL] [--html]
 *   verify URL|TOKEN
 * Output goes to stdout, diagnostics to stderr. Returns the exit status: 0,
 * 1 (a token that does not verify, a value out of limits, unreadable keys or
 * CSV) or 2 (usage). Reads the key files of <conf>->email, so it must run as
 * a user who can read them.
 */
int pxd_pixelctl_pixel_main(int argc, char **argv, const struct pxd_conf *conf);

#endif
