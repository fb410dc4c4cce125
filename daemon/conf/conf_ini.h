/* SPDX-License-Identifier: MIT */
/*
 * conf_ini.h - reading the INI text (libinih): the file, its lines and
 * sections, duplicate keys, and handing each key = value to its section's
 * table or module. Private to daemon/conf/. Main thread only.
 */
#ifndef PXD_CONF_INI_H
#define PXD_CONF_INI_H

#include "daemon/conf/conf_parse.h"

/*
 * Reads the regular file <path> (at most 1 MiB) into a malloc'd, NUL-ended
 * <text> of <len> bytes. Returns 0 or -errno with <err> saying what to do.
 */
int pxd_conf_ini_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen);

/* Parses <p>->text into <p>->conf. Returns 0, -EINVAL (recorded in <p>) or -ENOMEM. */
int pxd_conf_ini_parse(struct pxd_conf_parse *p);

#endif
