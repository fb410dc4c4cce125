// SPDX-License-Identifier: MIT
/*
 * conf_tenant.c - the keys of a [tenant "NAME"] section (conf_tenant.h).
 * Values follow conf_value.h; keys are resolved as secrets like every other
 * (literal, file:, env:). Main thread only.
 */
#include "conf_tenant.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "conf_s2s.h"
#include "conf_value.h"

struct pxd_conf_tenant *pxd_conf_tenant_add(struct pxd_conf_tenants *c, const char *name, int line,
					    char *err, size_t errlen)
{
	struct pxd_conf_tenant *t;

	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->t[i].name, name) == 0) {
			snprintf(err, errlen,
				 "the name is taken (line %d); give each tenant its own name",
				 c->t[i].line);
			return NULL;
		}
	}
	if (c->n == PXD_CONF_TENANT_MAX) {
		snprintf(err, errlen, "more than %d tenants; run a second pixeld for the rest",
			 PXD_CONF_TENANT_MAX);
		return NULL;
	}
	t = &c->t[c->n++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->line = line;
	memcpy(t->cookie_name, "_pxid", sizeof("_pxid"));
	t->cookie_max_age_s = 400 * 86400; /* Chrome's cap */
	t->cookie_refresh_s = 7 * 86400;
	return t;
}

/*
 * Calls <item> for each comma-separated item of <value> (blanks trimmed,
 * lowercased unless <keep_case>), at most <max> of at most <cap> bytes.
 */
static int each_item(const char *value, size_t max, size_t cap, bool keep_case,
		     int (*item)(void *ctx, size_t i, char *s, char *err, size_t errlen), void *ctx,
		     size_t *count, char *err, size_t errlen)
{
	const char *p = value;
	char buf[PXD_CONF_VALUE_MAX];
	int rc;

	*count = 0;
	while (*p) {
		size_t len;

		p += strspn(p, " \t,");
		len = strcspn(p, ",");
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (!len)
			break;
		if (*count == max || len >= cap || len >= sizeof(buf)) {
			snprintf(err, errlen, "more than %zu items or one over %zu bytes", max,
				 cap - 1);
			return -EINVAL;
		}
		for (size_t i = 0; i < len; i++)
			buf[i] = keep_case || p[i] < 'A' || p[i] > 'Z' ? p[i] : (char)(p[i] + 32);
		buf[len] = '\0';
		rc = item(ctx, *count, buf, err, errlen);
		explicit_bzero(buf, len);
		if (rc)
			return rc;
		(*count)++;
		p += strcspn(p, ",");
	}
	return 0;
}

static int item_host(void *ctx, size_t i, char *s, char *err, size_t errlen)
{
	struct pxd_conf_tenant *t = ctx;
	const char *name = strncmp(s, "*.", 2) == 0 ? s + 2 : s;
	const char *problem =
	    strchr(name, '*') ? "has a * that is not a leading *." : pxd_conf_value_hostport(name);

	if (problem) {
		snprintf(err, errlen,
			 "\"%.64s\" %s; write t.shop.example, *.shop.example or "
			 "t.shop.example:8443",
			 s, problem);
		return -EINVAL;
	}
	memcpy(t->hosts[i], s, strlen(s) + 1);
	return 0;
}

static int item_origin(void *ctx, size_t i, char *s, char *err, size_t errlen)
{
	struct pxd_conf_tenant *t = ctx;
	const char *host = strncmp(s, "https://", 8) == 0  ? s + 8
			   : strncmp(s, "http://", 7) == 0 ? s + 7
							   : NULL;

	if (strcmp(s, "*") != 0 && (!host || pxd_conf_value_hostport(host))) {
		snprintf(err, errlen,
			 "\"%.64s\" is not an origin; write https://shop.example (scheme and "
			 "host, no path) or *",
			 s);
		return -EINVAL;
	}
	memcpy(t->cors_origins[i], s, strlen(s) + 1);
	return 0;
}

static int item_dest(void *ctx, size_t i, char *s, char *err, size_t errlen)
{
	struct pxd_conf_tenant *t = ctx;

	if (!pxd_conf_value_is_name(s, strlen(s))) {
		snprintf(err, errlen,
			 "\"%.64s\" is not a destination name; use 1 to 63 of a-z 0-9 _ -", s);
		return -EINVAL;
	}
	memcpy(t->dests[i], s, strlen(s) + 1);
	return 0;
}

static int item_key(char (*keys)[PXD_CONF_TENANT_KEY_MAX], size_t i, const char *s, char *err,
		    size_t errlen)
{
	/* -ENOENT would read as an unknown key: any failure is a bad value here. */
	return pxd_conf_secret(s, keys[i], PXD_CONF_TENANT_KEY_MAX, err, errlen) ? -EINVAL : 0;
}

static int item_write_key(void *ctx, size_t i, char *s, char *err, size_t errlen)
{
	return item_key(((struct pxd_conf_tenant *)ctx)->write_keys, i, s, err, errlen);
}

static int item_secret_key(void *ctx, size_t i, char *s, char *err, size_t errlen)
{
	return item_key(((struct pxd_conf_tenant *)ctx)->secret_keys, i, s, err, errlen);
}

static int set_bool(bool *out, const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
		*out = value[0] == 't';
		return 0;
	}
	snprintf(err, errlen, "\"%.64s\" is not true or false", value);
	return -EINVAL;
}

static int set_consent(enum pxd_tenant_consent *out, const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "granted") == 0)
		*out = PXD_TENANT_CONSENT_GRANTED;
	else if (strcmp(value, "denied") == 0)
		*out = PXD_TENANT_CONSENT_DENIED;
	else if (strcmp(value, "unset") == 0)
		*out = PXD_TENANT_CONSENT_UNSET;
	else {
		snprintf(err, errlen, "\"%.64s\" is not granted, denied or unset", value);
		return -EINVAL;
	}
	return 0;
}

/* A cookie name is an RFC 6265 token; "" turns the cookie off. */
static int set_cookie_name(struct pxd_conf_tenant *t, const char *value, char *err, size_t errlen)
{
	size_t n = strlen(value);
	bool ok = n < sizeof(t->cookie_name);

	for (size_t i = 0; ok && i < n; i++)
		ok = (value[i] >= 'a' && value[i] <= 'z') || (value[i] >= 'A' && value[i] <= 'Z') ||
		     (value[i] >= '0' && value[i] <= '9') || value[i] == '_' || value[i] == '-';
	if (!ok) {
		snprintf(err, errlen,
			 "\"%.64s\" is not a cookie name; use up to 63 of A-Z a-z 0-9 _ -, or "
			 "nothing for no cookie",
			 value);
		return -EINVAL;
	}
	memcpy(t->cookie_name, value, n + 1);
	return 0;
}

static int set_cookie_domain(struct pxd_conf_tenant *t, const char *value, char *err, size_t errlen)
{
	if (strchr(value, ':') || pxd_conf_value_hostport(value) || value[0] == '[') {
		snprintf(err, errlen, "\"%.64s\" is not a domain; write shop.example (no port)",
			 value);
		return -EINVAL;
	}
	memcpy(t->cookie_domain, value, strlen(value) + 1);
	return 0;
}

/* A cookie lifetime: a duration from 1 s to 400 days (browsers cap Max-Age there). */
static int set_days(uint64_t *out, const char *value, char *err, size_t errlen)
{
	uint64_t s = 0;

	if (pxd_conf_value_duration_s(value, &s) || s == 0 || s > 400 * 86400) {
		snprintf(err, errlen, "\"%.64s\" is not a duration from 1s to 400d, e.g. 7d",
			 value);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

static int set_anon_ip(enum pxd_tenant_anon_ip *out, const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "drop") == 0 || strcmp(value, "truncate") == 0) {
		*out = value[0] == 'd' ? PXD_TENANT_ANON_IP_DROP : PXD_TENANT_ANON_IP_TRUNCATE;
		return 0;
	}
	snprintf(err, errlen, "\"%.64s\" is not drop or truncate (IPv4 /24, IPv6 /48)", value);
	return -EINVAL;
}

/* key_rate and key_burst read as [s2s] reads its own: one grammar, one range. */
static int set_key_limit(struct pxd_conf_tenant *t, const char *key, const char *value, char *err,
			 size_t errlen)
{
	struct pxd_conf_s2s s;
	int rc = pxd_conf_s2s_set(&s, key, value, err, errlen);

	if (rc)
		return rc;
	if (key[4] == 'r') {
		t->key_rate = s.key_rate;
		t->key_rate_set = true;
	} else {
		t->key_burst = s.key_burst;
		t->key_burst_set = true;
	}
	return 0;
}

int pxd_conf_tenant_set(struct pxd_conf_tenant *t, const char *key, const char *value, char *err,
			size_t errlen)
{
	if (strcmp(key, "hosts") == 0)
		return each_item(value, PXD_CONF_TENANT_HOSTS, PXD_CONF_TENANT_HOST_MAX, false,
				 item_host, t, &t->nhosts, err, errlen);
	if (strcmp(key, "cors_origins") == 0)
		return each_item(value, PXD_CONF_TENANT_ORIGINS, PXD_CONF_TENANT_ORIGIN_MAX, false,
				 item_origin, t, &t->ncors_origins, err, errlen);
	if (strcmp(key, "destinations") == 0)
		return each_item(value, PXD_CONF_TENANT_DESTS, PXD_CONF_TENANT_NAME_MAX, false,
				 item_dest, t, &t->ndests, err, errlen);
	if (strcmp(key, "write_keys") == 0)
		return each_item(value, PXD_CONF_TENANT_KEYS, PXD_CONF_VALUE_MAX, true,
				 item_write_key, t, &t->nwrite_keys, err, errlen);
	if (strcmp(key, "secret_keys") == 0)
		return each_item(value, PXD_CONF_TENANT_KEYS, PXD_CONF_VALUE_MAX, true,
				 item_secret_key, t, &t->nsecret_keys, err, errlen);
	if (strcmp(key, "paused") == 0)
		return set_bool(&t->paused, value, err, errlen);
	if (strcmp(key, "consent_ad") == 0)
		return set_consent(&t->consent_ad, value, err, errlen);
	if (strcmp(key, "consent_analytics") == 0)
		return set_consent(&t->consent_analytics, value, err, errlen);
	if (strcmp(key, "anonymous") == 0)
		return set_bool(&t->anonymous, value, err, errlen);
	if (strcmp(key, "honor_gpc") == 0)
		return set_bool(&t->honor_gpc, value, err, errlen);
	if (strcmp(key, "anonymous_ip") == 0)
		return set_anon_ip(&t->anonymous_ip, value, err, errlen);
	if (strcmp(key, "cookie_name") == 0)
		return set_cookie_name(t, value, err, errlen);
	if (strcmp(key, "cookie_domain") == 0)
		return set_cookie_domain(t, value, err, errlen);
	if (strcmp(key, "cookie_max_age") == 0)
		return set_days(&t->cookie_max_age_s, value, err, errlen);
	if (strcmp(key, "cookie_refresh") == 0)
		return set_days(&t->cookie_refresh_s, value, err, errlen);
	if (strcmp(key, "restore_cookies") == 0)
		return pxd_conf_tenant_restore(t, value, err, errlen);
	if (strcmp(key, "key_rate") == 0 || strcmp(key, "key_burst") == 0)
		return set_key_limit(t, key, value, err, errlen);
	return -ENOENT;
}

int pxd_conf_tenant_check(const struct pxd_conf_tenant *t, char *err, size_t errlen)
{
	if (t->nhosts)
		return 0;
	snprintf(err, errlen, "no hosts; every tenant needs hosts = its host names");
	return -EINVAL;
}

static struct pxd_conf_dest *dest_named(struct pxd_conf *c, const char *name)
{
	for (size_t i = 0; i < c->ndests; i++)
		if (strcmp(c->dests[i].name, name) == 0)
			return &c->dests[i];
	return NULL;
}

/* Returns the tenant before <t> that lists host pattern <h> too, or NULL. */
static const struct pxd_conf_tenant *host_taken(const struct pxd_conf *c,
						const struct pxd_conf_tenant *t, const char *h)
{
	for (const struct pxd_conf_tenant *o = c->tenants.t; o <= t; o++)
		for (size_t k = 0; k < o->nhosts; k++)
			if ((o != t || o->hosts[k] < h) && strcmp(o->hosts[k], h) == 0)
				return o;
	return NULL;
}

/* Whether <a>, key <i> of <t>'s write (or secret) keys, repeats one of <t>'s
 * before it or one of an earlier tenant's; <owner> names whose. */
static bool key_repeats(const struct pxd_conf *c, const struct pxd_conf_tenant *t, const char *a,
			size_t i, bool write, const char **owner)
{
	for (const struct pxd_conf_tenant *o = c->tenants.t; o <= t; o++) {
		const char(*ok)[PXD_CONF_TENANT_KEY_MAX] = write ? o->write_keys : o->secret_keys;
		size_t n = o == t ? i : write ? o->nwrite_keys : o->nsecret_keys;

		for (size_t k = 0; k < n; k++) {
			if (strcmp(ok[k], a) == 0) {
				*owner = o->name;
				return true;
			}
		}
	}
	return false;
}

/* A key picks one tenant: refuses one that two tenants (or one, twice) list. */
static int key_taken(const struct pxd_conf *c, const struct pxd_conf_tenant *t, char *err,
		     size_t errlen)
{
	const char *owner = NULL;

	for (int write = 0; write < 2; write++) {
		const char(*keys)[PXD_CONF_TENANT_KEY_MAX] = write ? t->write_keys : t->secret_keys;
		size_t n = write ? t->nwrite_keys : t->nsecret_keys;

		for (size_t i = 0; i < n; i++) {
			if (!key_repeats(c, t, keys[i], i, write, &owner))
				continue;
			/* The key itself stays out of the message: it is a secret. */
			snprintf(err, errlen,
				 "tenant.%s.%s: key %zu is tenant %s's too; a key picks one "
				 "tenant, give each its own",
				 t->name, write ? "write_keys" : "secret_keys", i + 1, owner);
			return -EINVAL;
		}
	}
	return 0;
}

int pxd_conf_tenants_check(struct pxd_conf *c, int *line, char *err, size_t errlen)
{
	if (c->tenants.n && c->nhosts) {
		*line = c->tenants.t[0].line;
		snprintf(err, errlen,
			 "server.hosts: with [tenant] sections each tenant's hosts decide; remove "
			 "server.hosts and list its names in a tenant");
		return -EINVAL;
	}
	if (c->tenants.n && (c->nwrite_keys || c->nsecret_keys)) {
		*line = c->tenants.t[0].line;
		snprintf(err, errlen,
			 "server.%s: with [tenant] sections a key picks its tenant; move the keys "
			 "into the tenants' write_keys and secret_keys",
			 c->nwrite_keys ? "write_keys" : "secret_keys");
		return -EINVAL;
	}
	for (size_t i = 0; i < c->tenants.n; i++) {
		struct pxd_conf_tenant *t = &c->tenants.t[i];

		*line = t->line;
		if (!t->key_rate_set)
			t->key_rate = c->s2s.key_rate;
		if (!t->key_burst_set)
			t->key_burst = c->s2s.key_burst;
		for (size_t k = 0; k < t->nhosts; k++) {
			const struct pxd_conf_tenant *o = host_taken(c, t, t->hosts[k]);

			if (o) {
				snprintf(err, errlen,
					 "tenant.%s.hosts: %s is tenant %s's too (line %d); a "
					 "host belongs to one tenant",
					 t->name, t->hosts[k], o->name, o->line);
				return -EINVAL;
			}
		}
		if (key_taken(c, t, err, errlen))
			return -EINVAL;
		for (size_t k = 0; k < t->ndests; k++) {
			struct pxd_conf_dest *d = dest_named(c, t->dests[k]);

			if (!d) {
				snprintf(err, errlen,
					 "tenant.%s.destinations: no [destination \"%s\"]; add "
					 "the section or remove the name",
					 t->name, t->dests[k]);
				return -EINVAL;
			}
			/* Listed twice by one tenant: once in the destination's list. */
			if (!d->ntenants || strcmp(d->tenants[d->ntenants - 1], t->name) != 0)
				memcpy(d->tenants[d->ntenants++], t->name, sizeof(t->name));
		}
	}
	for (size_t i = 0; c->tenants.n && i < c->ndests; i++) {
		if (c->dests[i].ntenants)
			continue;
		*line = c->dests[i].line;
		snprintf(err, errlen,
			 "destination.%s: no tenant lists it, so it would receive nothing; add it "
			 "to a tenant's destinations or remove it",
			 c->dests[i].name);
		return -EINVAL;
	}
	return 0;
}
