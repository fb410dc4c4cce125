/* SPDX-License-Identifier: MIT */
/*
 * conf_check.h - the checks that span keys, run once the file and the
 * command-line overrides are in: the journal directory, the quota against
 * the segment size, the two listen addresses, the admin key, and each
 * section module's own check. Private to daemon/conf/. Main thread only.
 */
#ifndef PXD_CONF_CHECK_H
#define PXD_CONF_CHECK_H

#include "daemon/conf/conf_parse.h"

/* Returns 0, or -EINVAL recorded in <p> at the line of the key to change. */
int pxd_conf_check_whole(struct pxd_conf_parse *p);

#endif
