/* SPDX-License-Identifier: MIT */
/*
 * pixelctl_reload.h - `pixelctl reload`: asks the running pixeld to load its
 * configuration file again (POST /admin/reload, as SIGHUP does) and prints
 * the outcome: the new generation, or the refusal with its file:line; and
 * `pixelctl journal drop DEST`, which lets a destination a reload removed
 * give up its journal backlog. Runs in the pixelctl process, on its only
 * thread.
 */
#ifndef PXD_PIXELCTL_RELOAD_H
#define PXD_PIXELCTL_RELOAD_H

#include "conf.h"

/*
 * Runs `pixelctl reload [--json]` (<argv>[0] == "reload") against <conf>'s
 * admin listener. Returns the exit status: 0 (applied), 1 (refused, or
 * pixeld unreachable), 2 (usage).
 */
int pxd_pixelctl_reload_main(int argc, char **argv, const struct pxd_conf *conf);

/*
 * Runs `pixelctl journal drop DEST` (<argv>[0] == "journal", <argv>[1] ==
 * "drop"). Returns the exit status: 0, 1 (refused: DEST still configured or
 * unknown; pixeld unreachable), 2 (usage).
 */
int pxd_pixelctl_journal_drop(int argc, char **argv, const struct pxd_conf *conf);

#endif
