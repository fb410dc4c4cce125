/* SPDX-License-Identifier: MIT */
/*
 * conf_xdp.h - the [xdp] section of the configuration: its keys, defaults and
 * validation. conf.c hands every key of [xdp] here. Main thread only.
 */
#ifndef PXD_CONF_XDP_H
#define PXD_CONF_XDP_H

#include <stddef.h>

struct pxd_conf_xdp {
	int enabled;
};

/* Fills <c> with the defaults. */
void pxd_conf_xdp_defaults(struct pxd_conf_xdp *c);

/*
 * Sets <key> to <value>. Returns 0, -ENOENT for an unknown key, or -EINVAL
 * with <err> saying what is wrong with the value and what to write instead
 * (the caller prefixes "file:line: xdp.<key>: ").
 */
int pxd_conf_xdp_set(struct pxd_conf_xdp *c, const char *key, const char *value, char *err,
		      size_t errlen);

/* Checks the section as a whole after the file is read. Returns 0 or -EINVAL with <err>. */
int pxd_conf_xdp_check(const struct pxd_conf_xdp *c, char *err, size_t errlen);

#endif
