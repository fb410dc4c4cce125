// SPDX-License-Identifier: MIT
#include "conf_tls.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf_value.h"

#define ROTATION_MIN_S 60u
#define ROTATION_MAX_S (7u * 86400u)

void pxd_conf_tls_defaults(struct pxd_conf_tls *c)
{
	memset(c, 0, sizeof(*c));
	c->ticket_rotation_s = 3600;
}

int pxd_conf_tls_set(struct pxd_conf_tls *c, const char *key, const char *value, char *err,
		     size_t errlen)
{
	if (strcmp(key, "default_certificate") == 0) {
		if (strlen(value) >= sizeof(c->default_cert)) {
			snprintf(err, errlen,
				 "the name is longer than %zu bytes; use a section's name",
				 sizeof(c->default_cert) - 1);
			return -EINVAL;
		}
		c->refuse_unknown = strcmp(value, "none") == 0;
		snprintf(c->default_cert, sizeof(c->default_cert), "%s",
			 c->refuse_unknown ? "" : value);
		return 0;
	}
	if (strcmp(key, "ticket_rotation") == 0) {
		uint64_t s = 0;

		if (pxd_conf_value_duration_s(value, &s) || s < ROTATION_MIN_S ||
		    s > ROTATION_MAX_S) {
			snprintf(err, errlen,
				 "\"%.32s\" is not a duration from 1m to 7d; write e.g. 1h or 12h",
				 value);
			return -EINVAL;
		}
		c->ticket_rotation_s = (uint32_t)s;
		return 0;
	}
	return -ENOENT;
}

struct pxd_conf_cert *pxd_conf_tls_add_cert(struct pxd_conf_tls *c, const char *name, int line,
					    char *err, size_t errlen)
{
	struct pxd_conf_cert *cert;

	for (size_t i = 0; i < c->ncerts; i++) {
		if (strcmp(c->certs[i].name, name) == 0) {
			snprintf(err, errlen,
				 "the name is taken (line %d); give each certificate its own name",
				 c->certs[i].line);
			return NULL;
		}
	}
	if (c->ncerts == PXD_CONF_TLS_MAX_CERTS || strlen(name) >= PXD_CONF_TLS_NAME_MAX) {
		snprintf(err, errlen, "more than %d certificates or a name over %d bytes",
			 PXD_CONF_TLS_MAX_CERTS, PXD_CONF_TLS_NAME_MAX - 1);
		return NULL;
	}
	cert = &c->certs[c->ncerts++];
	memset(cert, 0, sizeof(*cert));
	snprintf(cert->name, sizeof(cert->name), "%s", name);
	cert->line = line;
	return cert;
}

/* An exact DNS name or "*." and one: labels of a-z 0-9 -, no empty label. */
static bool host_pattern_ok(const char *h)
{
	size_t label = 0;

	if (h[0] == '*') {
		if (h[1] != '.')
			return false;
		h += 2;
	}
	if (!*h || strlen(h) > 253)
		return false;
	for (; *h; h++) {
		if (*h == '.') {
			if (!label)
				return false;
			label = 0;
		} else if (islower((unsigned char)*h) || isdigit((unsigned char)*h) || *h == '-') {
			label++;
		} else {
			return false;
		}
	}
	return label > 0;
}

static int set_hosts(struct pxd_conf_cert *cert, const char *value, char *err, size_t errlen)
{
	const char *p = value;

	cert->nhosts = 0;
	while (*p) {
		char *h;
		size_t len;

		p += strspn(p, " \t,");
		len = strcspn(p, ",");
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (!len)
			break;
		if (cert->nhosts == PXD_CONF_TLS_MAX_HOSTS || len >= PXD_CONF_TLS_HOST_MAX) {
			snprintf(err, errlen,
				 "more than %d names or a name over 253 bytes; split the "
				 "certificate's names over two sections",
				 PXD_CONF_TLS_MAX_HOSTS);
			return -EINVAL;
		}
		h = cert->hosts[cert->nhosts];
		for (size_t i = 0; i < len; i++)
			h[i] = (char)tolower((unsigned char)p[i]);
		h[len] = '\0';
		if (!host_pattern_ok(h)) {
			snprintf(err, errlen,
				 "\"%.64s\" is not a host name; write exact names like "
				 "t.shop.example or wildcards like *.shop.example",
				 h);
			return -EINVAL;
		}
		cert->nhosts++;
		p += strcspn(p, ",");
	}
	return 0;
}

static int set_path(char *out, const char *value, char *err, size_t errlen)
{
	size_t n = strlen(value);

	if (n == 0 || n >= PXD_CONF_TLS_PATH_MAX) {
		snprintf(err, errlen, "use a file path of 1 to %d bytes, e.g. /etc/pixeld/t.pem",
			 PXD_CONF_TLS_PATH_MAX - 1);
		return -EINVAL;
	}
	memcpy(out, value, n + 1);
	return 0;
}

int pxd_conf_tls_cert_set(struct pxd_conf_cert *cert, const char *key, const char *value, char *err,
			  size_t errlen)
{
	if (strcmp(key, "cert") == 0)
		return set_path(cert->cert, value, err, errlen);
	if (strcmp(key, "key") == 0)
		return set_path(cert->key, value, err, errlen);
	if (strcmp(key, "hosts") == 0)
		return set_hosts(cert, value, err, errlen);
	return -ENOENT;
}

int pxd_conf_tls_cert_check(const struct pxd_conf_cert *cert, char *err, size_t errlen)
{
	const char *missing = !cert->cert[0]  ? "cert"
			      : !cert->key[0] ? "key"
			      : !cert->nhosts ? "hosts"
					      : NULL;

	if (!missing)
		return 0;
	snprintf(err, errlen, "no %s; every certificate needs cert, key and hosts", missing);
	return -EINVAL;
}

int pxd_conf_tls_check(const struct pxd_conf_tls *c, bool listening, char *err, size_t errlen)
{
	bool found = !c->default_cert[0];

	for (size_t i = 0; i < c->ncerts; i++)
		if (strcmp(c->certs[i].name, c->default_cert) == 0)
			found = true;
	if (!found) {
		snprintf(err, errlen,
			 "default_certificate: \"%s\" names no [certificate] section; use one of "
			 "their names or none",
			 c->default_cert);
		return -EINVAL;
	}
	if (listening && !c->ncerts) {
		snprintf(err, errlen,
			 "server.tls_listen is set but there is no [certificate \"NAME\"] "
			 "section; add one with cert, key and hosts");
		return -EINVAL;
	}
	return 0;
}
