// SPDX-License-Identifier: MIT
#include "daemon/conf/conf_section.h"

#include "conf_email.h"
#include "conf_nats.h"
#include "conf_s2s.h"
#include "conf_tls.h"
#include "conf_xdp.h"

static void xdp_defaults(struct pxd_conf *c)
{
	pxd_conf_xdp_defaults(&c->xdp);
}

static int xdp_set(struct pxd_conf *c, const char *key, const char *value, char *err, size_t errlen)
{
	return pxd_conf_xdp_set(&c->xdp, key, value, err, errlen);
}

static int xdp_check(const struct pxd_conf *c, char *err, size_t errlen)
{
	return pxd_conf_xdp_check(&c->xdp, err, errlen);
}

static void email_defaults(struct pxd_conf *c)
{
	pxd_conf_email_defaults(&c->email);
}

static int email_set(struct pxd_conf *c, const char *key, const char *value, char *err,
		     size_t errlen)
{
	return pxd_conf_email_set(&c->email, key, value, err, errlen);
}

static int email_check(const struct pxd_conf *c, char *err, size_t errlen)
{
	return pxd_conf_email_check(&c->email, err, errlen);
}

static void nats_defaults(struct pxd_conf *c)
{
	pxd_conf_nats_defaults(&c->nats);
}

static int nats_set(struct pxd_conf *c, const char *key, const char *value, char *err,
		    size_t errlen)
{
	return pxd_conf_nats_set(&c->nats, key, value, err, errlen);
}

static int nats_check(const struct pxd_conf *c, char *err, size_t errlen)
{
	return pxd_conf_nats_check(&c->nats, err, errlen);
}

static void s2s_defaults(struct pxd_conf *c)
{
	pxd_conf_s2s_defaults(&c->s2s);
}

static int s2s_set(struct pxd_conf *c, const char *key, const char *value, char *err, size_t errlen)
{
	return pxd_conf_s2s_set(&c->s2s, key, value, err, errlen);
}

static int s2s_check(const struct pxd_conf *c, char *err, size_t errlen)
{
	return pxd_conf_s2s_check(&c->s2s, err, errlen);
}

static void tls_defaults(struct pxd_conf *c)
{
	pxd_conf_tls_defaults(&c->tls);
}

static int tls_set(struct pxd_conf *c, const char *key, const char *value, char *err, size_t errlen)
{
	return pxd_conf_tls_set(&c->tls, key, value, err, errlen);
}

static int tls_check(const struct pxd_conf *c, char *err, size_t errlen)
{
	return pxd_conf_tls_check(&c->tls, c->tls_listen.text[0] != '\0', err, errlen);
}

static const struct pxd_conf_section_module modules[PXD_CONF_SECTION_COUNT] = {
	[PXD_CONF_SECTION_XDP] = { "xdp", xdp_defaults, xdp_set, xdp_check },
	[PXD_CONF_SECTION_EMAIL] = { "email", email_defaults, email_set, email_check },
	[PXD_CONF_SECTION_NATS] = { "nats", nats_defaults, nats_set, nats_check },
	[PXD_CONF_SECTION_S2S] = { "s2s", s2s_defaults, s2s_set, s2s_check },
	[PXD_CONF_SECTION_TLS] = { "tls", tls_defaults, tls_set, tls_check },
};

static const char *const table_names[PXD_CONF_SECTION_COUNT] = {
	[PXD_CONF_SECTION_SERVER] = "server",
	[PXD_CONF_SECTION_JOURNAL] = "journal",
};

const struct pxd_conf_section_module *pxd_conf_section_module(enum pxd_conf_section section)
{
	if ((unsigned)section >= PXD_CONF_SECTION_COUNT || !modules[section].name)
		return NULL;
	return &modules[section];
}

const char *pxd_conf_section_name(enum pxd_conf_section section)
{
	const struct pxd_conf_section_module *m = pxd_conf_section_module(section);

	if (m)
		return m->name;
	return (unsigned)section < PXD_CONF_SECTION_COUNT ? table_names[section] : NULL;
}
