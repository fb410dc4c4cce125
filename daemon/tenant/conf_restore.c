// SPDX-License-Identifier: MIT
/*
 * conf_restore.c - a tenant's restore_cookies key (conf_tenant.h): which of
 * Meta's first-party cookies pixeld keeps alive. Main thread, at load.
 */
#include "conf_tenant.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"

int pxd_conf_tenant_restore(struct pxd_conf_tenant *t, const char *value, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = { { "_fbp", PXD_TENANT_RESTORE_FBP }, { "_fbc", PXD_TENANT_RESTORE_FBC } };
	const char *p = value;
	unsigned bits = 0;

	while (*p) {
		size_t len;
		unsigned bit = 0;

		p += strspn(p, " \t,");
		len = strcspn(p, " \t,");
		if (!len)
			break;
		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			if (strlen(names[i].name) == len && memcmp(p, names[i].name, len) == 0)
				bit = names[i].bit;
		if (!bit && !(len == 4 && memcmp(p, "none", 4) == 0)) {
			snprintf(err, errlen,
				 "\"%.*s\" is not a cookie pixeld restores; write _fbp, _fbc, both "
				 "(\"_fbp, _fbc\") or none",
				 (int)(len > 64 ? 64 : len), p);
			return -EINVAL;
		}
		bits |= bit;
		p += len;
	}
	t->restore_cookies = bits;
	return 0;
}
