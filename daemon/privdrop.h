/* SPDX-License-Identifier: MIT */
/*
 * privdrop.h - giving up root once start-up is done: the listeners are
 * bound, XDP is attached and the data directories exist. pixeld then runs as
 * server.user, keeping only CAP_BPF and CAP_NET_ADMIN when XDP is attached
 * (bot blocking updates the pinned deny map at run time). Main thread,
 * before the other threads start.
 */
#ifndef PXD_PRIVDROP_H
#define PXD_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Switches to <user>: hands <ndirs> directories (recursively) to it, drops
 * supplementary groups, sets gid and uid, and keeps CAP_BPF + CAP_NET_ADMIN
 * when <keep_bpf>. Returns 0 (also when <user> is empty or pixeld is not
 * root: nothing to drop), or -errno with <err> saying which step failed.
 */
int pxd_privdrop(const char *user, const char *const *dirs, size_t ndirs, bool keep_bpf, char *err,
		 size_t errlen);

#endif
