// SPDX-License-Identifier: MIT
#include "adapter.h"

#include <stdio.h>
#include <string.h>

#include "compiler.h"

static const struct pxd_adapter *const registry[] = {
	&pxd_adapter_jsonl,	 &pxd_adapter_meta,   &pxd_adapter_ga4,
	&pxd_adapter_google_ads, &pxd_adapter_tiktok, &pxd_adapter_webhook,
};

const struct pxd_adapter *pxd_adapter_find(const char *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(registry); i++)
		if (strcmp(registry[i]->type, type) == 0)
			return registry[i];
	return NULL;
}

void pxd_adapter_types(char *out, size_t outlen)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(registry) && off < outlen; i++) {
		int n = snprintf(out + off, outlen - off, "%s%s", i ? ", " : "", registry[i]->type);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

bool pxd_dest_wants(const struct pxd_dest *dest, const char *event, size_t len)
{
	const struct pxd_conf_dest *c = dest->conf;

	if (!c->nevents)
		return true;
	for (size_t i = 0; i < c->nevents; i++)
		if (strlen(c->events[i]) == len && memcmp(c->events[i], event, len) == 0)
			return true;
	return false;
}
