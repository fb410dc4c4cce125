// SPDX-License-Identifier: MIT
/*
 * conf_reload.c - the reload rules of conf_reload.h: which [server] and
 * [journal] keys a reload may change (every other one needs a restart:
 * listeners, threads, journal, user, ...), which sections need a restart
 * as a whole, and the destinations and tenants kept where the running
 * process indexes them (removed ones retired in place, new ones after).
 * Main thread only.
 */
#include "daemon/conf/conf_reload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf/conf_keys.h"
#include "daemon/conf/conf_section.h"

/* The [server]/[journal] keys read through the live generation (conf_live.h)
 * or applied by the reload itself; a key missing here needs a restart. */
static const char *const reloadable[] = {
	"cors_origins", "hosts", "write_keys", "secret_keys", "log_level", "log_format",
};

static bool is_reloadable(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(reloadable); i++)
		if (strcmp(reloadable[i], name) == 0)
			return true;
	return false;
}

static int restart_needed(struct pxd_conf_parse *p, struct pxd_conf_origin at, const char *what)
{
	return pxd_conf_fail(p, at,
			     "%s: changed, and it needs a restart; put the running value back "
			     "and reload, or restart pixeld",
			     what);
}

static int check_keys(struct pxd_conf_parse *p, const struct pxd_conf *running)
{
	const struct pxd_conf *c = p->conf;
	const struct pxd_conf_key *k;

	for (size_t i = 0; (k = pxd_conf_key_at(i)); i++) {
		const char *name = pxd_conf_key_name(k);
		size_t off, size;
		char what[96];

		if (is_reloadable(name))
			continue;
		pxd_conf_key_field(k, &off, &size);
		/* 0 is "80% of the free space", filled in at start. */
		if (off == offsetof(struct pxd_conf, max_bytes) && running->max_bytes_auto &&
		    c->max_bytes == 0)
			continue;
		if (memcmp((const char *)c + off, (const char *)running + off, size) == 0)
			continue;
		snprintf(what, sizeof(what), "%s.%s",
			 pxd_conf_section_name(pxd_conf_key_section(k)), name);
		return restart_needed(p, p->where[pxd_conf_key_row(k)], what);
	}
	return 0;
}

/* Sections a reload cannot apply: [email] (keys loaded at start), [nats] (the
 * connection), and [s2s]'s dedup table; key_rate and key_burst do change. */
static int check_sections(struct pxd_conf_parse *p, const struct pxd_conf *running)
{
	const struct pxd_conf *c = p->conf;
	struct pxd_conf_s2s a = c->s2s, b = running->s2s;

	if (memcmp(&c->email, &running->email, sizeof(c->email)))
		return restart_needed(p, pxd_conf_at_line(p->section_line[PXD_CONF_SECTION_EMAIL]),
				      "[email]");
	if (memcmp(&c->nats, &running->nats, sizeof(c->nats)))
		return restart_needed(p, pxd_conf_at_line(p->section_line[PXD_CONF_SECTION_NATS]),
				      "[nats]");
	a.key_rate = b.key_rate = 0;
	a.key_burst = b.key_burst = 0;
	if (memcmp(&a, &b, sizeof(a)))
		return restart_needed(
		    p, pxd_conf_at_line(p->section_line[PXD_CONF_SECTION_S2S]),
		    "[s2s] dedup_window, dedup_slots, dedup_beacons or state_file");
	return 0;
}

static const struct pxd_conf_dest *dest_named(const struct pxd_conf *c, const char *name)
{
	for (size_t i = 0; i < c->ndests; i++)
		if (strcmp(c->dests[i].name, name) == 0)
			return &c->dests[i];
	return NULL;
}

/* The first key of <a>'s adapter keys that <b> lacks or has another value for, or NULL. */
static const char *kv_differs(const struct pxd_conf_dest *a, const struct pxd_conf_dest *b)
{
	for (size_t i = 0; i < a->nkv; i++) {
		const char *v = pxd_conf_dest_get(b, a->kv[i].key, NULL);

		if (!v || strcmp(v, a->kv[i].value) != 0)
			return a->kv[i].key;
	}
	return NULL;
}

bool pxd_conf_dest_same(const struct pxd_conf_dest *a, const struct pxd_conf_dest *b)
{
	return strcmp(a->type, b->type) == 0 && a->batch_max_events == b->batch_max_events &&
	       a->linger_ms == b->linger_ms && a->linger_set == b->linger_set &&
	       !kv_differs(a, b) && !kv_differs(b, a);
}

/* Role dispatch runs one JetStream consumer per destination, started with
 * the process: a new or changed destination needs a restart there. Every
 * other role restarts the dispatcher pool for it
 * (daemon/delivery/dispatch_pool.c); role ingest has the one publisher. */
static int check_dests(struct pxd_conf_parse *p, const struct pxd_conf *running)
{
	const struct pxd_conf *c = p->conf;

	for (size_t i = 0; running->role == PXD_ROLE_DISPATCH && i < c->ndests; i++) {
		const struct pxd_conf_dest *f = &c->dests[i];
		const struct pxd_conf_dest *r = dest_named(running, f->name);

		if (r && pxd_conf_dest_same(f, r))
			continue;
		return pxd_conf_fail(p, pxd_conf_at_line(f->line),
				     "destination.%s: %s in role dispatch needs a restart (each "
				     "destination is a JetStream consumer); put the running "
				     "section back and reload, or restart pixeld",
				     f->name,
				     r ? "changing a destination" : "adding a destination");
	}
	return 0;
}

/*
 * Puts <p>'s destinations in <running>'s order, the dispatchers' slots; one
 * the file no longer has stays in its slot as <running> has it, retired; new
 * ones take the next slots.
 */
static int order_dests(struct pxd_conf_parse *p, const struct pxd_conf *running)
{
	struct pxd_conf *c = p->conf;
	struct pxd_conf_dest *tmp = malloc(PXD_CONF_MAX_DESTS * sizeof(*tmp));
	size_t n = running->ndests;

	if (!tmp)
		return pxd_conf_fail(p, pxd_conf_at_line(0), "out of memory");
	for (size_t i = 0; i < running->ndests; i++) {
		const struct pxd_conf_dest *f = dest_named(c, running->dests[i].name);

		tmp[i] = f ? *f : running->dests[i];
		if (f)
			continue;
		if (running->role == PXD_ROLE_DISPATCH) {
			free(tmp);
			return pxd_conf_fail(p, pxd_conf_at_line(0),
					     "destination.%s: in role dispatch its JetStream "
					     "consumer runs until a restart; put the section back "
					     "and reload, or restart pixeld",
					     running->dests[i].name);
		}
		/* Listed by one tenant no event has, "": it takes nothing. */
		tmp[i].retired = true;
		tmp[i].ntenants = 1;
		tmp[i].tenants[0][0] = '\0';
	}
	for (size_t i = 0; i < c->ndests; i++) {
		if (dest_named(running, c->dests[i].name))
			continue;
		if (n == PXD_CONF_MAX_DESTS) {
			free(tmp);
			return pxd_conf_fail(p, pxd_conf_at_line(c->dests[i].line),
					     "destination.%s: more than %d destinations with the "
					     "removed ones this process keeps (their journal "
					     "cursors); restart pixeld",
					     c->dests[i].name, PXD_CONF_MAX_DESTS);
		}
		tmp[n++] = c->dests[i];
	}
	memcpy(c->dests, tmp, n * sizeof(*tmp));
	c->ndests = n;
	free(tmp);
	return 0;
}

static const struct pxd_conf_tenant *tenant_named(const struct pxd_conf_tenants *c,
						  const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!c->t[i].retired && strcmp(c->t[i].name, name) == 0)
			return &c->t[i];
	return NULL;
}

/*
 * Each tenant of <current> keeps its position (a dropped one stays there,
 * retired: no hosts, no keys, no counters shown); new ones come after.
 */
static int order_tenants(struct pxd_conf_parse *p, const struct pxd_conf *current)
{
	struct pxd_conf_tenants *c = &p->conf->tenants;
	struct pxd_conf_tenants *out = calloc(1, sizeof(*out));
	size_t n = current->tenants.n;

	if (!out)
		return pxd_conf_fail(p, pxd_conf_at_line(0), "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct pxd_conf_tenant *t = tenant_named(c, current->tenants.t[i].name);

		if (t) {
			out->t[i] = *t;
			continue;
		}
		memcpy(out->t[i].name, current->tenants.t[i].name, sizeof(out->t[i].name));
		out->t[i].retired = true;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (tenant_named(&current->tenants, c->t[i].name))
			continue;
		if (n == PXD_CONF_TENANT_MAX) {
			free(out);
			return pxd_conf_fail(p, pxd_conf_at_line(c->t[i].line),
					     "tenant.%s: more than %d tenants with those this "
					     "process ran (a dropped tenant keeps its place until "
					     "a restart); restart pixeld",
					     c->t[i].name, PXD_CONF_TENANT_MAX);
		}
		out->t[n++] = c->t[i];
	}
	out->n = n;
	*c = *out;
	explicit_bzero(out, sizeof(*out));
	free(out);
	return 0;
}

int pxd_conf_reload_check(struct pxd_conf_parse *p, const struct pxd_conf *running,
			  const struct pxd_conf *current)
{
	int rc = check_keys(p, running);

	if (!rc)
		rc = check_sections(p, running);
	if (!rc)
		rc = check_dests(p, running);
	if (!rc)
		rc = order_dests(p, running);
	if (!rc)
		rc = order_tenants(p, current);
	return rc;
}
