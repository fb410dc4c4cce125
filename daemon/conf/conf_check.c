// SPDX-License-Identifier: MIT
#include "daemon/conf/conf_check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "daemon/conf/conf_keys.h"
#include "daemon/conf/conf_section.h"

static struct pxd_conf_origin where_of(const struct pxd_conf_parse *p,
				       enum pxd_conf_section section, const char *key)
{
	return p->where[pxd_conf_key_row(pxd_conf_key_find(section, key))];
}

static bool is_set(struct pxd_conf_origin o)
{
	return o.line > 0 || o.flag;
}

static bool is_loopback(const struct pxd_conf_addr *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;

	if (a->ss.ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
	       (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && sin6->sin6_addr.s6_addr[12] == 127);
}

/* Same port, and the same address or one of them the wildcard of the same family. */
static bool addrs_clash(const struct pxd_conf_addr *a, const struct pxd_conf_addr *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)&b->ss;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&a->ss;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&b->ss;

	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_INET)
		return a4->sin_port && a4->sin_port == b4->sin_port &&
		       (a4->sin_addr.s_addr == b4->sin_addr.s_addr ||
			a4->sin_addr.s_addr == htonl(INADDR_ANY) ||
			b4->sin_addr.s_addr == htonl(INADDR_ANY));
	return a6->sin6_port && a6->sin6_port == b6->sin6_port &&
	       (IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr) ||
		IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) || IN6_IS_ADDR_UNSPECIFIED(&b6->sin6_addr));
}

static int check_modules(struct pxd_conf_parse *p)
{
	char why[512] = "";

	for (enum pxd_conf_section s = 0; s < PXD_CONF_SECTION_COUNT; s++) {
		const struct pxd_conf_section_module *m = pxd_conf_section_module(s);

		if (m && m->check(p->conf, why, sizeof(why)))
			return pxd_conf_fail(p, pxd_conf_at_line(p->section_line[s]), "[%s]: %s",
					     m->name, why);
	}
	return 0;
}

/*
 * A `type = nats` destination takes the [nats] keys it does not set itself.
 * In role ingest the one destination is the JetStream publisher "nats"
 * (its journal cursor): the [destination] blocks are for the dispatch
 * processes, which may read the same file.
 */
static int nats_dests(struct pxd_conf_parse *p)
{
	struct pxd_conf *c = p->conf;
	int line = p->section_line[PXD_CONF_SECTION_NATS];

	if (c->ack == PXD_ACK_REPLICATED && c->role != PXD_ROLE_INGEST)
		return pxd_conf_fail(p, where_of(p, PXD_CONF_SECTION_JOURNAL, "ack"),
				     "journal.ack: replicated needs server.role = ingest (the "
				     "answer waits for the JetStream PubAck); use fast or durable");
	if (c->role == PXD_ROLE_INGEST) {
		memset(&c->dests[0], 0, sizeof(c->dests[0]));
		snprintf(c->dests[0].name, sizeof(c->dests[0].name), "nats");
		snprintf(c->dests[0].type, sizeof(c->dests[0].type), "nats");
		c->dests[0].line = line;
		c->ndests = 1;
	}
	for (size_t i = 0; i < c->ndests; i++) {
		struct pxd_conf_dest *d = &c->dests[i];

		if (strcmp(d->type, "nats"))
			continue;
		for (size_t k = 0; k < c->nats.nraw; k++) {
			const struct pxd_conf_nats_raw *r = &c->nats.raw[k];
			int at;

			if (pxd_conf_dest_get(d, r->key, &at))
				continue;
			if (d->nkv == PXD_CONF_MAX_DEST_KEYS)
				return pxd_conf_fail(p, pxd_conf_at_line(d->line),
						     "destination.%s: too many keys with those of "
						     "[nats]; set fewer",
						     d->name);
			snprintf(d->kv[d->nkv].key, sizeof(d->kv[d->nkv].key), "%s", r->key);
			snprintf(d->kv[d->nkv].value, sizeof(d->kv[d->nkv].value), "%s", r->value);
			d->kv[d->nkv++].line = line;
		}
	}
	return 0;
}

int pxd_conf_check_whole(struct pxd_conf_parse *p)
{
	struct pxd_conf *c = p->conf;
	struct pxd_conf_origin admin = where_of(p, PXD_CONF_SECTION_SERVER, "admin_listen");
	char why[512] = "";
	int n;

	if (!is_set(where_of(p, PXD_CONF_SECTION_JOURNAL, "dir"))) {
		n = snprintf(c->journal_dir, sizeof(c->journal_dir), "%s%sjournal", c->data_dir,
			     c->data_dir[strlen(c->data_dir) - 1] == '/' ? "" : "/");
		if (n < 0 || (size_t)n >= sizeof(c->journal_dir))
			return pxd_conf_fail(
			    p, where_of(p, PXD_CONF_SECTION_SERVER, "data_dir"),
			    "server.data_dir: too long to hold journal/; use a shorter path");
	}
	if (c->max_bytes && c->max_bytes < c->segment_bytes)
		return pxd_conf_fail(
		    p, where_of(p, PXD_CONF_SECTION_JOURNAL, "max_bytes"),
		    "journal.max_bytes: %llu bytes is less than one segment (%llu); use 0 or at "
		    "least journal.segment_bytes",
		    (unsigned long long)c->max_bytes, (unsigned long long)c->segment_bytes);
	if (!is_set(admin))
		admin = where_of(p, PXD_CONF_SECTION_SERVER, "listen");
	if (addrs_clash(&c->listen, &c->admin_listen))
		return pxd_conf_fail(p, admin,
				     "server.admin_listen: \"%s\" clashes with server.listen "
				     "\"%s\"; give the admin API its own port",
				     c->admin_listen.text, c->listen.text);
	if (c->tls_listen.text[0] && (addrs_clash(&c->tls_listen, &c->listen) ||
				      addrs_clash(&c->tls_listen, &c->admin_listen)))
		return pxd_conf_fail(p, where_of(p, PXD_CONF_SECTION_SERVER, "tls_listen"),
				     "server.tls_listen: \"%s\" clashes with server.listen or "
				     "server.admin_listen; give HTTPS its own port",
				     c->tls_listen.text);
	/* An admin API without a key is for loopback only (conf.h). */
	if (!c->admin_key[0] && !is_loopback(&c->admin_listen))
		return pxd_conf_fail(p, admin,
				     "server.admin_listen: \"%s\" is not loopback and "
				     "server.admin_key is empty; set admin_key or listen on "
				     "127.0.0.1",
				     c->admin_listen.text);
	n = 0;
	if (pxd_conf_tenants_check(c, &n, why, sizeof(why)))
		return pxd_conf_fail(p, pxd_conf_at_line(n), "%s", why);
	n = nats_dests(p);
	return n ? n : check_modules(p);
}
