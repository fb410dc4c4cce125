/* SPDX-License-Identifier: MIT */
/*
 * conf_email.h - the [email] section of the configuration: its keys, defaults and
 * validation. conf.c hands every key of [email] here. Main thread only.
 */
#ifndef PXD_CONF_EMAIL_H
#define PXD_CONF_EMAIL_H

#include <stddef.h>

struct pxd_conf_email {
	int enabled;
};

/* Fills <c> with the defaults. */
void pxd_conf_email_defaults(struct pxd_conf_email *c);

/*
 * Sets <key> to <value>. Returns 0, -ENOENT for an unknown key, or -EINVAL
 * with <err> saying what is wrong with the value and what to write instead
 * (the caller prefixes "file:line: email.<key>: ").
 */
int pxd_conf_email_set(struct pxd_conf_email *c, const char *key, const char *value, char *err,
		      size_t errlen);

/* Checks the section as a whole after the file is read. Returns 0 or -EINVAL with <err>. */
int pxd_conf_email_check(const struct pxd_conf_email *c, char *err, size_t errlen);

#endif
