// SPDX-License-Identifier: MIT
/*
 * The [email] configuration section: defaults, one setter per key (key list
 * kid:file, base URL, tenant, durations, table size, state file) whose
 * errors quote the value, and the whole-section check. Main thread, at load.
 */
#include "conf_email.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "conf_value.h"

#define DAY_S 86400u

void pxd_conf_email_defaults(struct pxd_conf_email *c)
{
	memset(c, 0, sizeof(*c));
	c->default_ttl_s = 400 * DAY_S;
	c->first_open_window_s = 30 * DAY_S;
	c->dedup_slots = 1u << 20;
	c->scanner_window_s = 60;
}

static bool kid_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-';
}

static bool tenant_char(char ch)
{
	return kid_char(ch) || ch == '.';
}

/* Parses one "kid:file" entry of <len> bytes at <s> into <k>. */
static int parse_key_entry(struct pxd_conf_email_key *k, const char *s, size_t len, char *err,
			   size_t errlen)
{
	const char *colon = memchr(s, ':', len);
	size_t kidlen;
	size_t pathlen;

	if (!colon) {
		snprintf(err, errlen,
			 "\"%.*s\" is not kid:file; write e.g. k2025:/etc/pixeld/k2025.key",
			 (int)len, s);
		return -EINVAL;
	}
	kidlen = (size_t)(colon - s);
	pathlen = len - kidlen - 1;
	if (kidlen == 0 || kidlen > PXD_CONF_EMAIL_KID_MAX) {
		snprintf(err, errlen, "key id \"%.*s\" must be 1..%d characters", (int)kidlen, s,
			 PXD_CONF_EMAIL_KID_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < kidlen; i++) {
		if (!kid_char(s[i])) {
			snprintf(err, errlen, "key id \"%.*s\" may hold only A-Z a-z 0-9 _ -",
				 (int)kidlen, s);
			return -EINVAL;
		}
	}
	if (pathlen == 0 || pathlen >= sizeof(k->path)) {
		snprintf(err, errlen, "key \"%.*s\": the file path must be 1..%zu bytes",
			 (int)kidlen, s, sizeof(k->path) - 1);
		return -EINVAL;
	}
	memcpy(k->kid, s, kidlen);
	k->kid[kidlen] = '\0';
	memcpy(k->path, colon + 1, pathlen);
	k->path[pathlen] = '\0';
	return 0;
}

static int set_keys(struct pxd_conf_email *c, const char *value, char *err, size_t errlen)
{
	struct pxd_conf_email_key keys[PXD_CONF_EMAIL_MAX_KEYS];
	size_t n = 0;
	const char *p = value;

	while (*p) {
		const char *end;
		size_t len;
		int ret;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		end = p + strcspn(p, ",");
		len = (size_t)(end - p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (n == PXD_CONF_EMAIL_MAX_KEYS) {
			snprintf(err, errlen,
				 "more than %d keys; remove retired keys from the list",
				 PXD_CONF_EMAIL_MAX_KEYS);
			return -EINVAL;
		}
		ret = parse_key_entry(&keys[n], p, len, err, errlen);
		if (ret)
			return ret;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(keys[i].kid, keys[n].kid) == 0) {
				snprintf(err, errlen,
					 "key id \"%s\" is listed twice; give each key its own id",
					 keys[n].kid);
				return -EINVAL;
			}
		}
		n++;
		p = end;
	}
	/* An empty list turns email tokens off. */
	memcpy(c->keys, keys, n * sizeof(keys[0]));
	c->nkeys = n;
	c->enabled = n > 0;
	return 0;
}

static int set_base_url(struct pxd_conf_email *c, const char *value, char *err, size_t errlen)
{
	size_t len = strlen(value);
	size_t scheme;

	while (len && value[len - 1] == '/')
		len--;
	if (strncmp(value, "https://", 8) == 0)
		scheme = 8;
	else if (strncmp(value, "http://", 7) == 0)
		scheme = 7;
	else
		scheme = 0;
	if (!scheme || len <= scheme || len > PXD_CONF_EMAIL_BASE_URL_MAX) {
		snprintf(
		    err, errlen,
		    "\"%s\" is not a base URL; write e.g. https://t.example.com (at most %d bytes)",
		    value, PXD_CONF_EMAIL_BASE_URL_MAX);
		return -EINVAL;
	}
	/* The URL goes verbatim into HTML attributes and JSON strings. */
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)value[i];

		if (ch <= 0x20 || ch >= 0x7f || strchr("\"'<>\\`", ch)) {
			snprintf(err, errlen,
				 "\"%s\" holds a space, quote, angle bracket or non-ASCII byte; "
				 "percent-encode it",
				 value);
			return -EINVAL;
		}
	}
	memcpy(c->base_url, value, len);
	c->base_url[len] = '\0';
	return 0;
}

static int set_duration(uint32_t *out, const char *value, uint32_t min_s, uint32_t max_s, char *err,
			size_t errlen)
{
	uint64_t v;
	int rc = pxd_conf_value_duration_s(value, &v);

	if (rc || v < min_s || v > max_s) {
		snprintf(err, errlen, "\"%s\" %s; write %s, whole seconds from %u to %u", value,
			 rc == -EDOM	 ? "has no unit"
			 : rc == -EINVAL ? "is not a duration"
					 : "is out of range",
			 PXD_CONF_DURATION_HINT, min_s, max_s);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int set_slots(struct pxd_conf_email *c, const char *value, char *err, size_t errlen)
{
	uint64_t v;

	if (pxd_conf_value_uint(value, &v) || v < PXD_CONF_EMAIL_SLOTS_MIN ||
	    v > PXD_CONF_EMAIL_SLOTS_MAX || (v & (v - 1))) {
		snprintf(err, errlen,
			 "\"%s\" is not a power of two from %u to %u; write e.g. 1048576", value,
			 PXD_CONF_EMAIL_SLOTS_MIN, PXD_CONF_EMAIL_SLOTS_MAX);
		return -EINVAL;
	}
	c->dedup_slots = (uint32_t)v;
	return 0;
}

static int set_tenant(struct pxd_conf_email *c, const char *value, char *err, size_t errlen)
{
	size_t len = strlen(value);
	bool ok = len <= PXD_CONF_EMAIL_TENANT_MAX;

	for (size_t i = 0; ok && i < len; i++)
		ok = tenant_char(value[i]);
	if (!ok) {
		snprintf(err, errlen, "\"%s\" is not a tenant name: 0..%d of A-Z a-z 0-9 . _ -",
			 value, PXD_CONF_EMAIL_TENANT_MAX);
		return -EINVAL;
	}
	memcpy(c->tenant, value, len + 1);
	return 0;
}

static int set_path(char *out, size_t outlen, const char *value, char *err, size_t errlen)
{
	size_t len = strlen(value);

	if (len >= outlen) {
		snprintf(err, errlen, "the path is longer than %zu bytes", outlen - 1);
		return -EINVAL;
	}
	memcpy(out, value, len + 1);
	return 0;
}

int pxd_conf_email_set(struct pxd_conf_email *c, const char *key, const char *value, char *err,
		       size_t errlen)
{
	if (strcmp(key, "keys") == 0)
		return set_keys(c, value, err, errlen);
	if (strcmp(key, "base_url") == 0)
		return set_base_url(c, value, err, errlen);
	if (strcmp(key, "tenant") == 0)
		return set_tenant(c, value, err, errlen);
	if (strcmp(key, "default_ttl") == 0)
		return set_duration(&c->default_ttl_s, value, 3600, PXD_CONF_EMAIL_TTL_MAX_S, err,
				    errlen);
	if (strcmp(key, "first_open_window") == 0)
		return set_duration(&c->first_open_window_s, value, 60, PXD_CONF_EMAIL_TTL_MAX_S,
				    err, errlen);
	if (strcmp(key, "scanner_window") == 0)
		return set_duration(&c->scanner_window_s, value, 0, 3600, err, errlen);
	if (strcmp(key, "dedup_slots") == 0)
		return set_slots(c, value, err, errlen);
	if (strcmp(key, "state_file") == 0)
		return set_path(c->state_file, sizeof(c->state_file), value, err, errlen);
	return -ENOENT;
}

int pxd_conf_email_check(const struct pxd_conf_email *c, char *err, size_t errlen)
{
	/* Minting needs a URL to print; verifying alone does not. */
	if (!c->enabled && c->base_url[0]) {
		snprintf(
		    err, errlen,
		    "email.base_url is set but email.keys is not; add keys = kid:file to mint");
		return -EINVAL;
	}
	return 0;
}
