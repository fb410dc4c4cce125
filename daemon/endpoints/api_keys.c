// SPDX-License-Identifier: MIT
/*
 * Key -> tenant: each tenant's write_keys and secret_keys, or [server]'s
 * without [tenant] sections (then every key is server.tenant's), compared in
 * constant time. Any thread; reads the generation it is given only.
 */
#include "api_state.h"

#include <errno.h>
#include <string.h>

/* Compares <key> with every byte of <want> whatever the lengths: no early
 * exit, so the time depends on the configured key's length only. */
static bool same_key(struct pxd_sv key, const char *want)
{
	size_t wlen = strlen(want);
	unsigned char diff = key.n != wlen;

	for (size_t i = 0; i < wlen; i++)
		diff |= (unsigned char)((i < key.n ? key.p[i] : 0) ^ want[i]);
	return diff == 0;
}

/* The keys of <kind> in one list: <keys>[<n>] of rows <stride> bytes apart. */
struct key_list {
	const char *keys;
	size_t n;
	size_t stride;
};

static struct key_list tenant_keys(const struct pxd_conf_tenant *t, enum pxd_api_kind kind)
{
	return (struct key_list){
		.keys = kind == PXD_API_WRITE ? t->write_keys[0] : t->secret_keys[0],
		.n = kind == PXD_API_WRITE ? t->nwrite_keys : t->nsecret_keys,
		.stride = PXD_CONF_TENANT_KEY_MAX,
	};
}

static struct key_list server_keys(const struct pxd_conf *conf, enum pxd_api_kind kind)
{
	return (struct key_list){
		.keys = kind == PXD_API_WRITE ? conf->write_keys[0] : conf->secret_keys[0],
		.n = kind == PXD_API_WRITE ? conf->nwrite_keys : conf->nsecret_keys,
		.stride = PXD_CONF_API_KEY_MAX,
	};
}

/* Compares <key> with every key of <l> (no early exit); the first match is
 * bucket <base> + its rank. Returns whether any matched. */
static bool match_list(struct pxd_sv key, struct key_list l, unsigned base, bool found,
		       unsigned *bucket)
{
	bool any = false;

	for (size_t i = 0; i < l.n; i++) {
		bool match = same_key(key, l.keys + i * l.stride);

		if (match && !found && !any)
			*bucket = base + (unsigned)i;
		any |= match;
	}
	return any;
}

bool pxd_api_keys_configured(const struct pxd_conf *conf, enum pxd_api_kind kind)
{
	if (!conf->tenants.n)
		return server_keys(conf, kind).n != 0;
	for (size_t t = 0; t < conf->tenants.n; t++)
		if (tenant_keys(&conf->tenants.t[t], kind).n)
			return true;
	return false;
}

int pxd_api_key_lookup(const struct pxd_conf *conf, enum pxd_api_kind kind, struct pxd_sv key,
		       struct pxd_api_key *out)
{
	const struct pxd_conf_tenant *owner = NULL;
	unsigned bucket = 0;
	bool found = false;

	if (!pxd_api_keys_configured(conf, kind))
		return -ENOENT;
	if (!conf->tenants.n) {
		found = match_list(key, server_keys(conf, kind), 0, false, &bucket);
	} else {
		for (size_t t = 0; t < conf->tenants.n; t++) {
			const struct pxd_conf_tenant *ten = &conf->tenants.t[t];
			bool m = match_list(key, tenant_keys(ten, kind),
					    (unsigned)t * PXD_CONF_TENANT_KEYS, found, &bucket);

			if (m && !found)
				owner = ten;
			found |= m;
		}
	}
	if (!found || !key.n)
		return -EACCES;
	out->bucket = bucket;
	out->tenant = pxd_sv_cstr(owner ? owner->name : conf->tenant);
	out->rate = owner ? owner->key_rate : conf->s2s.key_rate;
	out->burst = owner ? owner->key_burst : conf->s2s.key_burst;
	return 0;
}
