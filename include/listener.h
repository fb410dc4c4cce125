/* SPDX-License-Identifier: MIT */
/*
 * listener.h - listening sockets: one SO_REUSEPORT socket per ingest thread
 * on the public address (the kernel spreads connections over them) and the
 * admin socket. Main thread, before the ingest threads start.
 */
#ifndef PXD_LISTENER_H
#define PXD_LISTENER_H

#include "conf.h"

/*
 * Opens <n> sockets bound to <addr> into <fds>. Port 0 is resolved by the
 * first bind and reused by the rest, and written back into <addr>->text.
 * Returns 0, or -errno with <err> saying which address failed and why.
 */
int pxd_listener_open(struct pxd_conf_addr *addr, unsigned n, int *fds, char *err, size_t errlen);

#endif
