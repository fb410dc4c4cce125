/* SPDX-License-Identifier: MIT */
/*
 * conf_tenant.h - the [tenant "NAME"] sections: which Host names belong to a
 * customer, its browser origins, the destinations its events go to, whether
 * it is paused, what an event without consent means, and its API keys.
 * Parsed by daemon/tenant/conf_tenant.c on the main thread; read-only after
 * the load, so any thread may read it. No section: one implicit tenant,
 * server.tenant, on every host server.hosts allows (today's behaviour).
 */
#ifndef PXD_CONF_TENANT_H
#define PXD_CONF_TENANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PXD_CONF_TENANT_MAX 32
#define PXD_CONF_TENANT_NAME_MAX 64
#define PXD_CONF_TENANT_HOSTS 16
#define PXD_CONF_TENANT_HOST_MAX 262 /* 253 bytes of name, ":65535" */
#define PXD_CONF_TENANT_ORIGINS 16
#define PXD_CONF_TENANT_ORIGIN_MAX 256
#define PXD_CONF_TENANT_DESTS 32
#define PXD_CONF_TENANT_KEYS 8
#define PXD_CONF_TENANT_KEY_MAX 256

/* What an event that carries no consent value means for one class of destination. */
enum pxd_tenant_consent {
	PXD_TENANT_CONSENT_UNSET = 0, /* left unset: each destination's own rule */
	PXD_TENANT_CONSENT_GRANTED,
	PXD_TENANT_CONSENT_DENIED,
};

/* Platform cookies a tenant keeps alive server-side (restore_cookies; bits). */
enum pxd_tenant_restore {
	PXD_TENANT_RESTORE_FBP = 1 << 0, /* Meta's browser id _fbp */
	PXD_TENANT_RESTORE_FBC = 1 << 1, /* Meta's click id _fbc, from fbclid */
};

/* What an anonymous request keeps of the client address. */
enum pxd_tenant_anon_ip {
	PXD_TENANT_ANON_IP_DROP = 0,
	PXD_TENANT_ANON_IP_TRUNCATE, /* IPv4 /24, IPv6 /48 */
};

struct pxd_conf_tenant {
	char name[PXD_CONF_TENANT_NAME_MAX];
	int line; /* of the section header */
	/* Lowercase "t.shop.example", "*.shop.example" (any depth below it), each
	 * optionally ":PORT"; without a port the Host's port is ignored. */
	char hosts[PXD_CONF_TENANT_HOSTS][PXD_CONF_TENANT_HOST_MAX];
	size_t nhosts;
	char cors_origins[PXD_CONF_TENANT_ORIGINS][PXD_CONF_TENANT_ORIGIN_MAX]; /* none: server's */
	size_t ncors_origins;
	char dests[PXD_CONF_TENANT_DESTS][PXD_CONF_TENANT_NAME_MAX]; /* [destination] names */
	size_t ndests;
	bool paused;			    /* API 402 tenant_paused; pixels answered and counted */
	enum pxd_tenant_consent consent_ad; /* ad_storage, ad_user_data, ad_personalization */
	enum pxd_tenant_consent consent_analytics;			/* analytics_storage */
	char write_keys[PXD_CONF_TENANT_KEYS][PXD_CONF_TENANT_KEY_MAX]; /* resolved secrets */
	size_t nwrite_keys;
	char secret_keys[PXD_CONF_TENANT_KEYS][PXD_CONF_TENANT_KEY_MAX];
	size_t nsecret_keys;
	char cookie_name[PXD_CONF_TENANT_NAME_MAX];   /* first-party id cookie; "": none */
	char cookie_domain[PXD_CONF_TENANT_HOST_MAX]; /* "": the host's registrable domain */
	uint64_t cookie_max_age_s;
	uint64_t cookie_refresh_s; /* Max-Age renewed once the cookie is this old */
	bool anonymous;		   /* every request as with X-Pixeld-Anonymous: 1 */
	enum pxd_tenant_anon_ip anonymous_ip;
	bool honor_gpc;		  /* Sec-GPC: 1 or DNT: 1 denies ad consent */
	unsigned restore_cookies; /* enum pxd_tenant_restore bits */
	/* Token bucket of each of its keys: per second and depth; set from
	 * [s2s] key_rate/key_burst by the whole-config check unless given. */
	uint32_t key_rate; /* 0: unlimited */
	uint32_t key_burst;
	bool key_rate_set;
	bool key_burst_set;
	/* Dropped by a reload: kept (no hosts, no keys) so the positions the
	 * per-tenant counters use stay those of the running tenants. */
	bool retired;
};

struct pxd_conf_tenants {
	struct pxd_conf_tenant t[PXD_CONF_TENANT_MAX];
	size_t n;
};

/*
 * Opens a [tenant "<name>"] section at <line>. Returns it, or NULL with <err>
 * (name taken, too many tenants).
 */
struct pxd_conf_tenant *pxd_conf_tenant_add(struct pxd_conf_tenants *c, const char *name, int line,
					    char *err, size_t errlen);

/*
 * Sets key <key> of one tenant. Returns 0, -ENOENT for an unknown key, or
 * -EINVAL with <err> saying what is wrong and what to write instead.
 */
int pxd_conf_tenant_set(struct pxd_conf_tenant *t, const char *key, const char *value, char *err,
			size_t errlen);

/*
 * Sets <t>'s restore_cookies from "_fbp, _fbc" (either, both, or "none").
 * Returns 0, or -EINVAL with <err>. In daemon/tenant/conf_restore.c.
 */
int pxd_conf_tenant_restore(struct pxd_conf_tenant *t, const char *value, char *err, size_t errlen);

/* Checks one section when it ends: it has hosts. 0 or -EINVAL with <err>. */
int pxd_conf_tenant_check(const struct pxd_conf_tenant *t, char *err, size_t errlen);

#endif
