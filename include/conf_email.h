/* SPDX-License-Identifier: MIT */
/*
 * conf_email.h - the [email] section of the configuration: the open-pixel
 * signing keys (kid:file), minting defaults, first-open dedup and open
 * classification settings, with their defaults and validation. conf.c hands
 * every key of [email] here. Main thread only; read-only once loaded.
 */
#ifndef PXD_CONF_EMAIL_H
#define PXD_CONF_EMAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PXD_CONF_EMAIL_MAX_KEYS 8
#define PXD_CONF_EMAIL_KID_MAX 8     /* bytes of a key id: [A-Za-z0-9_-] */
#define PXD_CONF_EMAIL_TENANT_MAX 63 /* bytes of a tenant name: [A-Za-z0-9._-] */
#define PXD_CONF_EMAIL_BASE_URL_MAX 511
#define PXD_CONF_EMAIL_TTL_MAX_S (3650u * 86400u) /* tokens live at most 10 years */
#define PXD_CONF_EMAIL_SLOTS_MIN 1024u
#define PXD_CONF_EMAIL_SLOTS_MAX (1u << 26) /* 512 MiB of first-open table */

/* One `kid:file` entry of `keys =`; the file holds the secret (mode 0600). */
struct pxd_conf_email_key {
	char kid[PXD_CONF_EMAIL_KID_MAX + 1];
	char path[4096];
};

struct pxd_conf_email {
	bool enabled; /* `keys` names at least one key; an empty list turns tokens off */
	struct pxd_conf_email_key keys[PXD_CONF_EMAIL_MAX_KEYS]; /* keys[0] signs, all verify */
	size_t nkeys;
	char base_url[PXD_CONF_EMAIL_BASE_URL_MAX + 1]; /* minted URLs: <base_url>/o/<token>.gif */
	char tenant[PXD_CONF_EMAIL_TENANT_MAX + 1]; /* stamped into minted tokens; may be empty */
	uint32_t default_ttl_s;			    /* token lifetime when a request names none */
	uint32_t first_open_window_s;		    /* props.first_open dedup window */
	uint32_t dedup_slots;			    /* first-open table size, power of two */
	uint32_t scanner_window_s; /* a scanner-range fetch this soon after issue is a scanner */
	char state_file[4096]; /* first-open table file; empty: <data_dir>/email_first_open.state */
};

/* Fills <c> with the defaults: no keys, ttl 400d, window 30d, 1048576 slots, scanner 60s. */
void pxd_conf_email_defaults(struct pxd_conf_email *c);

/*
 * Sets <key> to <value>. Returns 0, -ENOENT for an unknown key, or -EINVAL
 * with <err> saying what is wrong with the value and what to write instead
 * (the caller prefixes "file:line: email.<key>: ").
 */
int pxd_conf_email_set(struct pxd_conf_email *c, const char *key, const char *value, char *err,
		       size_t errlen);

/* Checks the section as a whole after the file is read. Returns 0 or -EINVAL with <err>. */
int pxd_conf_email_check(const struct pxd_conf_email *c, char *err, size_t errlen);

#endif
