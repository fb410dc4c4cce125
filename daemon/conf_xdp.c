// SPDX-License-Identifier: MIT
#include "conf_xdp.h"

#include <errno.h>

void pxd_conf_xdp_defaults(struct pxd_conf_xdp *c)
{
	c->enabled = 0;
}

int pxd_conf_xdp_set(struct pxd_conf_xdp *c, const char *key, const char *value, char *err,
		      size_t errlen)
{
	(void)c;
	(void)key;
	(void)value;
	(void)err;
	(void)errlen;
	return -ENOENT;
}

int pxd_conf_xdp_check(const struct pxd_conf_xdp *c, char *err, size_t errlen)
{
	(void)c;
	(void)err;
	(void)errlen;
	return 0;
}
