// SPDX-License-Identifier: MIT
/*
 * The [nats] configuration section and the keys of a `type = nats`
 * destination: defaults, one parser per kind of value (server list, file,
 * secret, token, count, duration) whose errors quote the value, and the
 * whole-section check. Main thread, at load and in the nats adapter's init.
 */
#include "conf_nats.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "conf.h"
#include "conf_value.h"

void pxd_conf_nats_defaults(struct pxd_conf_nats *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->servers[0], sizeof(c->servers[0]), "nats://127.0.0.1:4222");
	c->nservers = 1;
	snprintf(c->stream, sizeof(c->stream), "PIXELD");
	snprintf(c->subject, sizeof(c->subject), "pixeld");
	c->replicas = 1;
	c->duplicate_window_s = 120;
	c->max_pending = 4096;
	c->ack_wait_ms = 30000;
	c->max_deliver = -1;
	c->connect_timeout_ms = 2000;
}

static int parse_servers(struct pxd_conf_nats *c, const char *value, char *err, size_t errlen)
{
	const char *p = value;

	c->nservers = 0;
	while (*p) {
		size_t n;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, ", ");
		if (!n)
			break;
		if (c->nservers == PXD_CONF_NATS_MAX_SERVERS || n >= PXD_CONF_NATS_URL_MAX ||
		    (strncmp(p, "nats://", 7) && strncmp(p, "tls://", 6))) {
			snprintf(err, errlen,
				 "\"%s\" is not a list of at most %d URLs; write e.g. "
				 "nats://10.0.0.1:4222, nats://10.0.0.2:4222",
				 value, PXD_CONF_NATS_MAX_SERVERS);
			return -EINVAL;
		}
		memcpy(c->servers[c->nservers], p, n);
		c->servers[c->nservers++][n] = '\0';
		p += n;
	}
	if (c->nservers)
		return 0;
	snprintf(err, errlen, "is empty; write e.g. nats://127.0.0.1:4222");
	return -EINVAL;
}

/* A stream name or subject prefix: letters, digits, _ and - (no dots, wildcards or spaces). */
static int parse_token(char *out, size_t cap, const char *value, bool dots, char *err,
		       size_t errlen)
{
	size_t n = strlen(value);

	for (size_t i = 0; i < n; i++) {
		char ch = value[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		    (dots && ch == '.' && i && i + 1 < n))
			continue;
		n = 0;
		break;
	}
	if (!n || n >= cap) {
		snprintf(err, errlen, "\"%s\" must be 1 to %zu of A-Z a-z 0-9 _ -%s", value,
			 cap - 1, dots ? " (and inner dots)" : "");
		return -EINVAL;
	}
	memcpy(out, value, n + 1);
	return 0;
}

static int parse_count(uint32_t *out, const char *value, uint64_t min, uint64_t max, char *err,
		       size_t errlen)
{
	uint64_t v;

	if (pxd_conf_value_uint(value, &v) || v < min || v > max) {
		snprintf(err, errlen, "\"%s\" is not a number from %llu to %llu", value,
			 (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_duration(uint32_t *ms_out, const char *value, uint64_t min_ms, uint64_t max_ms,
			  char *err, size_t errlen)
{
	uint64_t ms;
	int rc = pxd_conf_value_duration_ms(value, &ms);

	if (rc || ms < min_ms || ms > max_ms) {
		snprintf(err, errlen, "\"%s\" %s; write %s, from %llums to %llus", value,
			 rc == -EDOM ? "has no unit" : "is not a duration in range",
			 PXD_CONF_DURATION_HINT, (unsigned long long)min_ms,
			 (unsigned long long)max_ms / 1000);
		return -EINVAL;
	}
	*ms_out = (uint32_t)ms;
	return 0;
}

static int parse_path(char *out, size_t cap, const char *value, char *err, size_t errlen)
{
	size_t n = strlen(value);

	if (n >= cap) {
		snprintf(err, errlen, "is longer than %zu bytes; use a shorter path", cap - 1);
		return -EINVAL;
	}
	memcpy(out, value, n + 1);
	return 0;
}

static int set_one(struct pxd_conf_nats *c, const char *key, const char *value, char *err,
		   size_t errlen)
{
	uint32_t v = 0;
	int rc;

	if (!strcmp(key, "servers"))
		return parse_servers(c, value, err, errlen);
	if (!strcmp(key, "creds"))
		return parse_path(c->creds, sizeof(c->creds), value, err, errlen);
	if (!strcmp(key, "nkey_seed"))
		return parse_path(c->nkey_seed, sizeof(c->nkey_seed), value, err, errlen);
	if (!strcmp(key, "tls_ca"))
		return parse_path(c->tls_ca, sizeof(c->tls_ca), value, err, errlen);
	if (!strcmp(key, "user"))
		return parse_token(c->user, sizeof(c->user), value, false, err, errlen);
	if (!strcmp(key, "password"))
		return pxd_conf_secret(value, c->password, sizeof(c->password), err, errlen)
			   ? -EINVAL
			   : 0;
	if (!strcmp(key, "stream"))
		return parse_token(c->stream, sizeof(c->stream), value, false, err, errlen);
	if (!strcmp(key, "subject"))
		return parse_token(c->subject, sizeof(c->subject), value, true, err, errlen);
	if (!strcmp(key, "replicas"))
		return parse_count(&c->replicas, value, 1, 5, err, errlen);
	if (!strcmp(key, "max_pending"))
		return parse_count(&c->max_pending, value, 1, 1000000, err, errlen);
	if (!strcmp(key, "duplicate_window")) {
		rc = parse_duration(&v, value, 1000, 7 * 86400000ull, err, errlen);
		c->duplicate_window_s = v / 1000;
		return rc;
	}
	if (!strcmp(key, "ack_wait"))
		return parse_duration(&c->ack_wait_ms, value, 1000, 3600000, err, errlen);
	if (!strcmp(key, "connect_timeout"))
		return parse_duration(&c->connect_timeout_ms, value, 100, 60000, err, errlen);
	if (!strcmp(key, "max_deliver")) {
		if (!strcmp(value, "-1")) {
			c->max_deliver = -1;
			return 0;
		}
		rc = parse_count(&v, value, 1, 1000000, err, errlen);
		c->max_deliver = (int32_t)v;
		return rc;
	}
	return -ENOENT;
}

int pxd_conf_nats_set(struct pxd_conf_nats *c, const char *key, const char *value, char *err,
		      size_t errlen)
{
	int rc = set_one(c, key, value, err, errlen);
	struct pxd_conf_nats_raw *r;

	if (rc)
		return rc;
	for (size_t i = 0; i < c->nraw; i++)
		if (!strcmp(c->raw[i].key, key)) {
			snprintf(c->raw[i].value, sizeof(c->raw[i].value), "%s", value);
			return 0;
		}
	if (c->nraw == ARRAY_SIZE(c->raw))
		return 0; /* every key fits: there are fewer than PXD_CONF_NATS_MAX_RAW */
	r = &c->raw[c->nraw++];
	snprintf(r->key, sizeof(r->key), "%s", key);
	snprintf(r->value, sizeof(r->value), "%s", value);
	return 0;
}

int pxd_conf_nats_check(const struct pxd_conf_nats *c, char *err, size_t errlen)
{
	if (c->user[0] && !c->password[0]) {
		snprintf(err, errlen, "user \"%s\" has no password; set password (file:PATH works)",
			 c->user);
		return -EINVAL;
	}
	if (c->creds[0] && c->nkey_seed[0]) {
		snprintf(err, errlen, "creds and nkey_seed are both set; keep one of them");
		return -EINVAL;
	}
	return 0;
}
