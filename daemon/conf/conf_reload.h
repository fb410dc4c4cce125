/* SPDX-License-Identifier: MIT */
/*
 * conf_reload.h - what a reload may change. Compares a freshly loaded file
 * with the running configuration: a key that needs a restart is refused
 * with its file:line; destinations are put in the running order, the order
 * the dispatchers and counters index them by (a removed one retired in
 * place: conf.h; new ones after); tenants keep their positions
 * (per-tenant counters). Private to
 * daemon/conf/. Main thread only.
 */
#ifndef PXD_CONF_RELOAD_H
#define PXD_CONF_RELOAD_H

#include "daemon/conf/conf_parse.h"

/*
 * Checks <p>'s configuration against <running> (the start-up one) and
 * <current> (the generation in force), then reorders its destinations and
 * tenants as above. Returns 0, or -EINVAL with the error recorded in <p>.
 */
int pxd_conf_reload_check(struct pxd_conf_parse *p, const struct pxd_conf *running,
			  const struct pxd_conf *current);

#endif
