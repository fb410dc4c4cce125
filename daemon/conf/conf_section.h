/* SPDX-License-Identifier: MIT */
/*
 * conf_section.h - the sections whose keys a module of their own parses
 * ([xdp] in daemon/xdp/conf_xdp.c, [email] in daemon/email/conf_email.c,
 * [s2s] in daemon/endpoints/conf_s2s.c, [tls] in daemon/tls/conf_tls.c, [nats] in
 * daemon/nats/conf_nats.c).
 * Adding such a section is one row in conf_section.c and a value of enum
 * pxd_conf_section. Private to daemon/conf/. Main thread only.
 */
#ifndef PXD_CONF_SECTION_H
#define PXD_CONF_SECTION_H

#include "daemon/conf/conf_parse.h"

/*
 * A section module. <set> returns 0, -ENOENT for a key it does not know, or
 * -EINVAL with <err> saying what is wrong and what to write; <check> runs
 * once the file is read, returning 0 or -EINVAL with <err>.
 */
struct pxd_conf_section_module {
	const char *name;
	void (*defaults)(struct pxd_conf *c);
	int (*set)(struct pxd_conf *c, const char *key, const char *value, char *err,
		   size_t errlen);
	int (*check)(const struct pxd_conf *c, char *err, size_t errlen);
};

/* Returns the module of <section>, or NULL for a section with a key table. */
const struct pxd_conf_section_module *pxd_conf_section_module(enum pxd_conf_section section);

/* Returns the name written in the header ("server", "xdp"), or NULL for destinations. */
const char *pxd_conf_section_name(enum pxd_conf_section section);

#endif
