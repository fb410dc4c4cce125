// SPDX-License-Identifier: MIT
#include "conf_email.h"

#include <errno.h>

void pxd_conf_email_defaults(struct pxd_conf_email *c)
{
	c->enabled = 0;
}

int pxd_conf_email_set(struct pxd_conf_email *c, const char *key, const char *value, char *err,
		      size_t errlen)
{
	(void)c;
	(void)key;
	(void)value;
	(void)err;
	(void)errlen;
	return -ENOENT;
}

int pxd_conf_email_check(const struct pxd_conf_email *c, char *err, size_t errlen)
{
	(void)c;
	(void)err;
	(void)errlen;
	return 0;
}
