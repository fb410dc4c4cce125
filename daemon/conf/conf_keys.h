/* SPDX-License-Identifier: MIT */
/*
 * conf_keys.h - the key tables of [server], [journal] and the keys common to
 * every [destination]: where each value goes, its range, default and the
 * hint its error ends with, and the setters that parse values with the one
 * grammar (conf_value.h). Private to daemon/conf/. Main thread only.
 */
#ifndef PXD_CONF_KEYS_H
#define PXD_CONF_KEYS_H

#include "daemon/conf/conf_parse.h"

struct pxd_conf_key;

/* Returns row <i> of the [server] and [journal] table, or NULL past its end. */
const struct pxd_conf_key *pxd_conf_key_at(size_t i);

/* Returns the row of <name> in <section> (server, journal or destination), or NULL. */
const struct pxd_conf_key *pxd_conf_key_find(enum pxd_conf_section section, const char *name);

/* Returns the index of [server]/[journal] row <k> in the table (for pxd_conf_parse.where). */
size_t pxd_conf_key_row(const struct pxd_conf_key *k);

/* Returns the row's key name and section. */
const char *pxd_conf_key_name(const struct pxd_conf_key *k);
enum pxd_conf_section pxd_conf_key_section(const struct pxd_conf_key *k);

/* Returns where row <k>'s value lives in struct pxd_conf: <off> and <size> bytes. */
void pxd_conf_key_field(const struct pxd_conf_key *k, size_t *off, size_t *size);

/* Returns the row's built-in default, or NULL when it has none. */
const char *pxd_conf_key_default(const struct pxd_conf_key *k);

/*
 * Sets key <k> from <value> into <base> (struct pxd_conf, or struct
 * pxd_conf_dest for destination keys). On a refusal records "<label>.<key>:
 * <quoted value> <problem>; <hint>" at <at> (a flag's name replaces the
 * label) and returns -EINVAL.
 */
int pxd_conf_key_set(struct pxd_conf_parse *p, void *base, const struct pxd_conf_key *k,
		     const char *label, const char *value, struct pxd_conf_origin at);

/* Writes the comma list of the keys of <section> into <out>. */
void pxd_conf_key_list(enum pxd_conf_section section, char *out, size_t outlen);

#endif
