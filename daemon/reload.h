/* SPDX-License-Identifier: MIT */
/*
 * reload.h - live reconfiguration (SIGHUP, pixelctl reload): the file is
 * loaded and checked as a whole as the next generation (conf_live.h), what
 * needs a restart is refused with its file:line, certificates are checked,
 * a new or changed destination restarts the dispatcher pool, then the [xdp]
 * rates, certificates and log settings are applied and the generation is
 * published to the ingest threads and dispatchers. A refusal
 * leaves everything as it ran. Main thread only.
 */
#ifndef PXD_RELOAD_H
#define PXD_RELOAD_H

#include <stddef.h>

#include "daemon.h"

/*
 * Reloads <path> (NULL: the embedded default) with <ov> into <d>. Returns 0
 * (logged with the new generation) or -errno with <err> (also logged and
 * kept for /admin/status) naming file:line and what to do. Answers a queued
 * POST /admin/reload with the outcome. <boot> is what d->conf points at and
 * <dest_names> the /metrics destination labels: a reload that adds or
 * changes destinations writes their sections and names there
 * (dispatch_pool.h).
 */
int pxd_reload_run(struct pxd_daemon *d, struct pxd_conf *boot, const char **dest_names,
		   const char *path, const struct pxd_conf_overrides *ov, char *err, size_t errlen);

/*
 * Once privileges are dropped: loads <path> as a reload would, as the user
 * pixeld now runs as, and warns, naming the file and what to do, when that
 * user cannot read it or a file: secret in it (a reload would be refused).
 */
void pxd_reload_check_readable(struct pxd_daemon *d, const char *path,
			       const struct pxd_conf_overrides *ov);

#endif
