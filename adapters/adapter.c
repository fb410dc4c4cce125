// SPDX-License-Identifier: MIT
/*
 * The adapter registry: the table of destination types, lookup by config
 * name, and the event filter of a destination. Read-only; any thread.
 */
#include "adapter.h"

#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "event_line.h"

static const struct pxd_adapter *const registry[] = {
	&pxd_adapter_jsonl,	 &pxd_adapter_meta,	&pxd_adapter_ga4,
	&pxd_adapter_google_ads, &pxd_adapter_tiktok,	&pxd_adapter_webhook,
	&pxd_adapter_linkedin,	 &pxd_adapter_snapchat, &pxd_adapter_pinterest,
	&pxd_adapter_reddit,	 &pxd_adapter_segment,	&pxd_adapter_amplitude,
	&pxd_adapter_mixpanel,	 &pxd_adapter_posthog,	&pxd_adapter_nats,
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

/* Segment's identify, group and alias calls: not conversions (event.h). */
static bool is_profile_call(const char *event, size_t len)
{
	return (len == 8 && !memcmp(event, "Identify", 8)) ||
	       (len == 5 && !memcmp(event, "Group", 5)) || (len == 5 && !memcmp(event, "Alias", 5));
}

bool pxd_dest_wants(const struct pxd_dest *dest, const char *event, size_t len,
		    struct pxd_sv tenant)
{
	const struct pxd_conf_dest *c = dest->conf;
	bool mine = !c->ntenants;

	for (size_t i = 0; i < c->ntenants && !mine; i++)
		mine = pxd_sv_eq_lit(tenant, c->tenants[i]);
	if (!mine)
		return false;
	if (!c->nevents)
		return !(dest->adapter->flags & PXD_ADAPTER_AD) || !is_profile_call(event, len);
	for (size_t i = 0; i < c->nevents; i++)
		if (strlen(c->events[i]) == len && memcmp(c->events[i], event, len) == 0)
			return true;
	return false;
}

/* True when the array <list> holds the string <type>. */
static bool lists(const json_t *list, const char *type)
{
	for (size_t i = 0; i < json_array_size(list); i++)
		if (json_is_string(json_array_get(list, i)) &&
		    !strcmp(json_string_value(json_array_get(list, i)), type))
			return true;
	return false;
}

/* True when the array <list> of a line holds the string <type>. */
static bool lists_line(const struct pxd_jv *list, const char *type)
{
	struct pxd_jv_iter it;
	struct pxd_jv v;

	pxd_jv_iter_init(&it, list);
	while (pxd_jv_next(&it, NULL, &v))
		if (pxd_jv_eq(&v, type))
			return true;
	return false;
}

bool pxd_dest_takes_line(const struct pxd_dest *dest, const struct pxd_event_line *ev)
{
	const struct pxd_jv *to = &ev->top[PXD_LINE_TO];
	const struct pxd_jv *not_to = &ev->top[PXD_LINE_NOT_TO];

	if (dest->adapter->flags & PXD_ADAPTER_LOCAL)
		return true;
	if (to->type && !lists_line(to, dest->adapter->type))
		return false;
	return !not_to->type || !lists_line(not_to, dest->adapter->type);
}

bool pxd_dest_takes(const struct pxd_dest *dest, const json_t *ev)
{
	const json_t *to = json_object_get(ev, "to");
	const json_t *not_to = json_object_get(ev, "not_to");

	if (dest->adapter->flags & PXD_ADAPTER_LOCAL)
		return true;
	if (to && !lists(to, dest->adapter->type))
		return false;
	return !not_to || !lists(not_to, dest->adapter->type);
}
