/* SPDX-License-Identifier: MIT */
/*
 * console_xdp.h - the console's XDP view and actions, through the pinned
 * maps (as pixelctl does): verdict counters and the deny entries with their
 * time left for the snapshot (console thread), block and unblock for
 * POST /admin/xdp/block|unblock (the admin listener's thread). Cold paths:
 * each call opens and closes the pins.
 */
#ifndef PXD_CONSOLE_XDP_H
#define PXD_CONSOLE_XDP_H

#include "buf.h"
#include "http_reply.h"

#define PXD_CONSOLE_BLOCKS_MAX 200 /* deny entries shown */

/* Appends ,"counters":[...],"blocks":[...] for the filter pinned under
 * <pin_dir>; nothing when it cannot be opened. Console thread. */
void pxd_console_xdp_json(const char *pin_dir, struct pxd_buf *out);

/* POST /admin/xdp/block {"cidr":"198.51.100.0/24","ttl_s":600} (ttl_s
 * optional: until unblocked) and POST /admin/xdp/unblock {"cidr":...}. */
void pxd_ep_admin_xdp_block(struct pxd_reqctx *rc);
void pxd_ep_admin_xdp_unblock(struct pxd_reqctx *rc);

#endif
