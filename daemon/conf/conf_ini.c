// SPDX-License-Identifier: MIT
#include "daemon/conf/conf_ini.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_tls.h"
#include "conf_value.h"
#include "daemon/conf/conf_keys.h"
#include "daemon/conf/conf_section.h"
#include "strview.h"

#define CONF_FILE_MAX (1u << 20)
/* Room for a key and a list of 64 items of 255 bytes with their separators. */
#define CONF_LINE_MAX 20480

static const char *section_label(const struct pxd_conf_parse *p, char *buf, size_t len)
{
	if (p->section == PXD_CONF_SECTION_DEST) {
		snprintf(buf, len, "destination.%s", p->dest->name);
		return buf;
	}
	if (p->section == PXD_CONF_SECTION_CERT) {
		snprintf(buf, len, "certificate.%s", p->cert->name);
		return buf;
	}
	if (p->section == PXD_CONF_SECTION_TENANT) {
		snprintf(buf, len, "tenant.%s", p->tenant->name);
		return buf;
	}
	return pxd_conf_section_name(p->section);
}

/* Hands a key to its section's module (or a [certificate]'s to conf_tls.c, a [tenant]'s to
 * conf_tenant.c); -ENOENT from the module means an unknown key. */
static int set_delegated(struct pxd_conf_parse *p, const struct pxd_conf_section_module *m,
			 const char *label, const char *name, const char *value)
{
	char why[512] = "";
	int rc = m ? m->set(p->conf, name, value, why, sizeof(why))
		 : p->section == PXD_CONF_SECTION_TENANT
		     ? pxd_conf_tenant_set(p->tenant, name, value, why, sizeof(why))
		     : pxd_conf_tls_cert_set(p->cert, name, value, why, sizeof(why));

	if (rc == -ENOENT)
		return pxd_conf_fail(
		    p, pxd_conf_at_line(p->lineno),
		    "%s.%s: unknown key; see scripts/pixeld.ini.example for the keys of [%s]",
		    label, name, label);
	if (rc)
		return pxd_conf_fail(p, pxd_conf_at_line(p->lineno), "%s.%s: %s", label, name, why);
	return 0;
}

/* A key no table knows: an error in [server] and [journal], an adapter's key in a destination. */
static int set_other(struct pxd_conf_parse *p, const char *label, const char *name,
		     const char *value)
{
	struct pxd_conf_dest *d = p->dest;
	struct pxd_conf_kv *kv;
	char keys[512];

	if (p->section != PXD_CONF_SECTION_DEST) {
		pxd_conf_key_list(p->section, keys, sizeof(keys));
		return pxd_conf_fail(p, pxd_conf_at_line(p->lineno),
				     "%s.%s: unknown key; [%s] takes %s", label, name, label, keys);
	}
	if (d->nkv == PXD_CONF_MAX_DEST_KEYS)
		return pxd_conf_fail(
		    p, pxd_conf_at_line(p->lineno),
		    "%s.%s: more than %d keys in one destination; remove unused keys", label, name,
		    PXD_CONF_MAX_DEST_KEYS);
	/* Adapter keys often hold tokens: the value is never quoted. */
	if (strlen(value) >= sizeof(kv->value))
		return pxd_conf_fail(p, pxd_conf_at_line(p->lineno),
				     "%s.%s: the value is longer than %zu bytes; shorten it", label,
				     name, sizeof(kv->value) - 1);
	kv = &d->kv[d->nkv++];
	snprintf(kv->key, sizeof(kv->key), "%s", name);
	snprintf(kv->value, sizeof(kv->value), "%s", value);
	kv->line = p->lineno;
	return 0;
}

static int remember_key(struct pxd_conf_parse *p, const char *label, const char *name)
{
	struct pxd_conf_origin at = pxd_conf_at_line(p->lineno);
	size_t n = strlen(name);

	if (n == 0)
		return pxd_conf_fail(p, at, "%s: a key has no name; write key = value", label);
	if (n >= PXD_CONF_NAME_MAX)
		return pxd_conf_fail(
		    p, at, "%s: the key \"%.*s...\" is longer than %d bytes; check its spelling",
		    label, PXD_CONF_QUOTE_MAX, name, PXD_CONF_NAME_MAX - 1);
	for (size_t i = 0; i < p->nseen; i++) {
		if (strcmp(p->seen[i].key, name) == 0)
			return pxd_conf_fail(
			    p, at, "%s.%s: set again (first at line %d); keep one of the two",
			    label, name, p->seen[i].line);
	}
	if (p->nseen == PXD_CONF_SEEN_MAX)
		return pxd_conf_fail(p, at, "%s.%s: more than %d keys in one section", label, name,
				     PXD_CONF_SEEN_MAX);
	memcpy(p->seen[p->nseen].key, name, n + 1);
	p->seen[p->nseen++].line = p->lineno;
	return 0;
}

/*
 * inih's handler: returns nonzero to go on, 0 to stop at this line. inih cuts
 * <section> at 49 bytes, so the reader tracks the header itself.
 */
static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct pxd_conf_parse *p = user;
	struct pxd_conf_origin at = pxd_conf_at_line(p->lineno);
	const struct pxd_conf_section_module *m = pxd_conf_section_module(p->section);
	const struct pxd_conf_key *k;
	char label[PXD_CONF_NAME_MAX + 16];
	const char *l;

	(void)section;
	if (p->section == PXD_CONF_SECTION_NONE)
		return !pxd_conf_fail(p, at,
				      "%s: the key comes before any section; put it under "
				      "[server] or another section",
				      name);
	l = section_label(p, label, sizeof(label));
	if (remember_key(p, l, name))
		return 0;
	if (m || p->section == PXD_CONF_SECTION_CERT || p->section == PXD_CONF_SECTION_TENANT)
		return !set_delegated(p, m, l, name, value);
	k = pxd_conf_key_find(p->section, name);
	if (!k)
		return !set_other(p, l, name, value);
	if (p->section == PXD_CONF_SECTION_DEST)
		return !pxd_conf_key_set(p, p->dest, k, l, value, at);
	p->where[pxd_conf_key_row(k)] = at;
	return !pxd_conf_key_set(p, p->conf, k, l, value, at);
}

/* Runs when a section ends (at the next header or at the end of the text). */
static int close_section(struct pxd_conf_parse *p)
{
	char why[256];

	if (p->section == PXD_CONF_SECTION_DEST && !p->dest->type[0])
		return pxd_conf_fail(
		    p, pxd_conf_at_line(p->dest->line),
		    "destination.%s: no type; add type = jsonl (or another adapter's type)",
		    p->dest->name);
	if (p->section == PXD_CONF_SECTION_CERT &&
	    pxd_conf_tls_cert_check(p->cert, why, sizeof(why)))
		return pxd_conf_fail(p, pxd_conf_at_line(p->cert->line), "certificate.%s: %s",
				     p->cert->name, why);
	if (p->section == PXD_CONF_SECTION_TENANT &&
	    pxd_conf_tenant_check(p->tenant, why, sizeof(why)))
		return pxd_conf_fail(p, pxd_conf_at_line(p->tenant->line), "tenant.%s: %s",
				     p->tenant->name, why);
	return 0;
}

/*
 * Reads NAME out of a [<kind> "NAME"] header <hdr> into <name>. Returns 0, or
 * p->rc after saying what is wrong.
 */
static int section_name(struct pxd_conf_parse *p, struct pxd_sv hdr, const char *kind,
			struct pxd_sv *name)
{
	struct pxd_conf_origin at = pxd_conf_at_line(p->lineno);
	struct pxd_sv rest = pxd_sv_make(hdr.p + strlen(kind), hdr.n - strlen(kind));
	size_t blanks = strspn(rest.p, " \t");

	if (blanks == 0 || blanks + 2 > rest.n || rest.p[blanks] != '"' ||
	    rest.p[rest.n - 1] != '"')
		return pxd_conf_fail(p, at, "[%.*s]: not a %s header; write [%s \"NAME\"]",
				     (int)hdr.n, hdr.p, kind, kind);
	*name = pxd_sv_make(rest.p + blanks + 1, rest.n - blanks - 2);
	if (!pxd_conf_value_is_name(name->p, name->n))
		return pxd_conf_fail(
		    p, at, "[%.*s]: \"%.*s\" is not a %s name; use 1 to 63 of a-z 0-9 _ -",
		    (int)hdr.n, hdr.p, (int)PXD_MIN(name->n, PXD_CONF_QUOTE_MAX), name->p, kind);
	return 0;
}

static int open_certificate(struct pxd_conf_parse *p, struct pxd_sv hdr)
{
	char name[PXD_CONF_NAME_MAX];
	char why[256];
	struct pxd_sv sv;

	if (section_name(p, hdr, "certificate", &sv))
		return p->rc;
	memcpy(name, sv.p, sv.n);
	name[sv.n] = '\0';
	p->cert = pxd_conf_tls_add_cert(&p->conf->tls, name, p->lineno, why, sizeof(why));
	if (!p->cert)
		return pxd_conf_fail(p, pxd_conf_at_line(p->lineno), "certificate.%s: %s", name,
				     why);
	p->section = PXD_CONF_SECTION_CERT;
	return 0;
}

static int open_tenant(struct pxd_conf_parse *p, struct pxd_sv hdr)
{
	char name[PXD_CONF_NAME_MAX];
	char why[256];
	struct pxd_sv sv;

	if (section_name(p, hdr, "tenant", &sv))
		return p->rc;
	memcpy(name, sv.p, sv.n);
	name[sv.n] = '\0';
	p->tenant = pxd_conf_tenant_add(&p->conf->tenants, name, p->lineno, why, sizeof(why));
	if (!p->tenant)
		return pxd_conf_fail(p, pxd_conf_at_line(p->lineno), "tenant.%s: %s", name, why);
	p->section = PXD_CONF_SECTION_TENANT;
	return 0;
}

static int open_destination(struct pxd_conf_parse *p, struct pxd_sv hdr)
{
	struct pxd_conf *c = p->conf;
	struct pxd_conf_origin at = pxd_conf_at_line(p->lineno);
	struct pxd_sv name;
	struct pxd_conf_dest *d;

	if (section_name(p, hdr, "destination", &name))
		return p->rc;
	for (size_t i = 0; i < c->ndests; i++) {
		if (pxd_sv_eq_lit(name, c->dests[i].name))
			return pxd_conf_fail(p, at,
					     "destination.%s: the name is taken (line %d); give "
					     "each destination its own name",
					     c->dests[i].name, c->dests[i].line);
	}
	if (c->ndests == PXD_CONF_MAX_DESTS)
		return pxd_conf_fail(
		    p, at, "destination.%.*s: more than %d destinations; merge some of them",
		    (int)name.n, name.p, PXD_CONF_MAX_DESTS);
	d = &c->dests[c->ndests++];
	memset(d, 0, sizeof(*d));
	memcpy(d->name, name.p, name.n);
	d->line = p->lineno;
	p->dest = d;
	p->section = PXD_CONF_SECTION_DEST;
	return 0;
}

static int unknown_section(struct pxd_conf_parse *p, struct pxd_sv hdr)
{
	char names[256];
	size_t o = 0;

	for (enum pxd_conf_section s = PXD_CONF_SECTION_SERVER; s < PXD_CONF_SECTION_DEST; s++)
		o += (size_t)snprintf(names + o, sizeof(names) - o, "%s[%s]", o ? ", " : "",
				      pxd_conf_section_name(s));
	return pxd_conf_fail(p, pxd_conf_at_line(p->lineno),
			     "[%.*s]: unknown section; use %s, [certificate \"NAME\"], "
			     "[tenant \"NAME\"] or [destination \"NAME\"]",
			     (int)PXD_MIN(hdr.n, (size_t)PXD_CONF_QUOTE_MAX), hdr.p, names);
}

/* <line> starts with '['. inih reads the same line after us and only switches its section. */
static int open_section(struct pxd_conf_parse *p, const char *line)
{
	const char *end = strchr(line, ']');
	const char *rest;
	struct pxd_sv hdr;

	if (close_section(p))
		return p->rc;
	if (!end)
		return pxd_conf_fail(p, pxd_conf_at_line(p->lineno),
				     "the section header has no ]; write it like [server]");
	rest = end + 1 + strspn(end + 1, " \t\r");
	if (*rest && *rest != ';' && *rest != '#')
		return pxd_conf_fail(p, pxd_conf_at_line(p->lineno),
				     "text after the section header's ]; put comments after ; "
				     "or #");
	hdr = pxd_sv_make(line + 1, (size_t)(end - line - 1));
	p->nseen = 0;
	for (enum pxd_conf_section s = PXD_CONF_SECTION_SERVER; s < PXD_CONF_SECTION_DEST; s++) {
		if (!pxd_sv_eq_lit(hdr, pxd_conf_section_name(s)))
			continue;
		if (p->section_line[s])
			return pxd_conf_fail(
			    p, pxd_conf_at_line(p->lineno),
			    "[%s]: the section is repeated (first at line %d); merge them",
			    pxd_conf_section_name(s), p->section_line[s]);
		p->section_line[s] = p->lineno;
		p->section = s;
		return 0;
	}
	if (pxd_sv_starts_with(hdr, "destination"))
		return open_destination(p, hdr);
	if (pxd_sv_starts_with(hdr, "certificate"))
		return open_certificate(p, hdr);
	if (pxd_sv_starts_with(hdr, "tenant"))
		return open_tenant(p, hdr);
	return unknown_section(p, hdr);
}

/*
 * inih's reader: hands out one line of the text per call, so that p->lineno is
 * the line inih is on when it calls on_pair. Leading blanks are dropped, which
 * turns inih's continuation lines off: an indented key is just a key.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct pxd_conf_parse *p = stream;
	const char *s = p->text + p->pos;
	const char *nl;
	size_t n;

	if (p->rc || p->pos >= p->len)
		return NULL;
	nl = memchr(s, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - s) : p->len - p->pos;
	p->pos += n + (nl != NULL);
	p->lineno++;
	if (p->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}
	if (memchr(s, '\0', n)) {
		pxd_conf_fail(p, pxd_conf_at_line(p->lineno),
			      "the line holds a NUL byte; is this a text file?");
		return NULL;
	}
	if (n >= (size_t)num) {
		pxd_conf_fail(p, pxd_conf_at_line(p->lineno),
			      "the line is longer than %d bytes; shorten it", num - 1);
		return NULL;
	}
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	memcpy(str, s, n);
	str[n] = '\0';
	if (str[0] == '[' && open_section(p, str))
		return NULL;
	return str;
}

/*
 * Debian's inih exports its build options as globals. The default 200-byte
 * line (the size of inih's on-stack line buffer) is too short for origin
 * lists, and the rest of a file after its first error only adds noise.
 */
int pxd_conf_ini_parse(struct pxd_conf_parse *p)
{
	int max_line = ini_max_line;
	bool stop = ini_stop_on_first_error;
	int rc;

	ini_max_line = CONF_LINE_MAX;
	ini_stop_on_first_error = true;
	rc = ini_parse_stream(read_line, p, on_pair, p);
	ini_max_line = max_line;
	ini_stop_on_first_error = stop;
	if (p->rc)
		return p->rc;
	if (rc == -2) {
		pxd_conf_say(p->err, p->errlen, "%s: out of memory while parsing", p->conf->path);
		return -ENOMEM;
	}
	if (rc > 0)
		return pxd_conf_fail(p, pxd_conf_at_line(rc),
				     "expected key = value, [section] or a comment; write key = "
				     "value (comments start with ; or #)");
	return close_section(p);
}

int pxd_conf_ini_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int rc = 0;
	int fd;

	fd = pxd_conf_open_regular(path, &st, "check the path given with --config", err, errlen);
	if (fd < 0)
		return fd;
	if (st.st_size > CONF_FILE_MAX) {
		rc = -EINVAL;
		pxd_conf_say(err, errlen, "%s: larger than 1 MiB; give the INI file", path);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		pxd_conf_say(err, errlen, "%s: out of memory", path);
		goto out;
	}
	rc = pxd_conf_read_full(fd, buf, (size_t)st.st_size, &n);
	if (rc) {
		pxd_conf_say(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
		goto out;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}
