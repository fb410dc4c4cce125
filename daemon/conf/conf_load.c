// SPDX-License-Identifier: MIT
/*
 * conf_load.c - loading a configuration: defaults, the file (or the embedded
 * default), command-line overrides and the whole-config checks, in that
 * order. The modules beside it do each step. Main thread only.
 */
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/conf/conf_check.h"
#include "daemon/conf/conf_ini.h"
#include "daemon/conf/conf_keys.h"
#include "daemon/conf/conf_reload.h"
#include "daemon/conf/conf_section.h"

#define CONF_THREADS_MAX 256
#define CONF_EMBEDDED "(embedded)"

static const char default_text[] = "[server]\n"
				   "listen = 127.0.0.1:8080\n"
				   "admin_listen = 127.0.0.1:9180\n"
				   "data_dir = ./var/pixeld\n"
				   "cors_origins = *\n"
				   "\n"
				   "[destination \"events\"]\n"
				   "type = jsonl\n"
				   "path = events.jsonl\n";

static int set_defaults(struct pxd_conf_parse *p)
{
	const struct pxd_conf_key *k;

	for (size_t i = 0; (k = pxd_conf_key_at(i)); i++) {
		const char *def = pxd_conf_key_default(k);

		if (def &&
		    pxd_conf_key_set(p, p->conf, k, pxd_conf_section_name(pxd_conf_key_section(k)),
				     def, pxd_conf_at_line(0)))
			return p->rc;
	}
	for (enum pxd_conf_section s = 0; s < PXD_CONF_SECTION_COUNT; s++) {
		const struct pxd_conf_section_module *m = pxd_conf_section_module(s);

		if (m)
			m->defaults(p->conf);
	}
	return 0;
}

static int apply_override(struct pxd_conf_parse *p, const char *key, const char *flag,
			  const char *value)
{
	const struct pxd_conf_key *k = pxd_conf_key_find(PXD_CONF_SECTION_SERVER, key);
	struct pxd_conf_origin at = { .flag = flag };

	if (!value)
		return 0;
	p->where[pxd_conf_key_row(k)] = at;
	return pxd_conf_key_set(p, p->conf, k, "server", value, at);
}

/* Both loads: a reload also checks the result against <running> and <current>. */
static int load(const char *path, const struct pxd_conf_overrides *ov,
		const struct pxd_conf *running, const struct pxd_conf *current,
		struct pxd_conf *conf, char *err, size_t errlen)
{
	struct pxd_conf_parse p = { .conf = conf, .err = err, .errlen = err ? errlen : 0 };
	char *text = NULL;
	int rc;

	if (p.errlen)
		err[0] = '\0';
	memset(conf, 0, sizeof(*conf));
	if (path && strlen(path) >= sizeof(conf->path)) {
		pxd_conf_say(p.err, p.errlen, "%.64s...: the config path is too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(conf->path, sizeof(conf->path), "%s", path ? path : CONF_EMBEDDED);
	rc = set_defaults(&p);
	if (rc)
		return rc;
	if (path) {
		rc = pxd_conf_ini_read_file(path, &text, &p.len, p.err, p.errlen);
		if (rc)
			return rc;
		p.text = text;
	} else {
		p.text = default_text;
		p.len = sizeof(default_text) - 1;
	}
	rc = pxd_conf_ini_parse(&p);
	if (text) {
		/* The text may hold the admin key or adapters' tokens. */
		explicit_bzero(text, p.len);
		free(text);
	}
	if (rc)
		return rc;
	if (ov) {
		rc = apply_override(&p, "listen", "--listen", ov->listen);
		if (!rc)
			rc = apply_override(&p, "admin_listen", "--admin", ov->admin_listen);
		if (!rc)
			rc = apply_override(&p, "data_dir", "--data-dir", ov->data_dir);
		if (rc)
			return rc;
	}
	rc = pxd_conf_check_whole(&p);
	if (!rc && running)
		rc = pxd_conf_reload_check(&p, running, current);
	return rc;
}

int pxd_conf_load(const char *path, const struct pxd_conf_overrides *ov, struct pxd_conf *conf,
		  char *err, size_t errlen)
{
	return load(path, ov, NULL, NULL, conf, err, errlen);
}

int pxd_conf_load_reload(const char *path, const struct pxd_conf_overrides *ov,
			 const struct pxd_conf *running, const struct pxd_conf *current,
			 struct pxd_conf *conf, char *err, size_t errlen)
{
	return load(path, ov, running, current, conf, err, errlen);
}

const char *pxd_conf_default_text(void)
{
	return default_text;
}

const char *pxd_conf_dest_get(const struct pxd_conf_dest *d, const char *key, int *line)
{
	for (size_t i = 0; i < d->nkv; i++) {
		if (strcmp(d->kv[i].key, key) == 0) {
			if (line)
				*line = d->kv[i].line;
			return d->kv[i].value;
		}
	}
	if (line)
		*line = d->line;
	return NULL;
}

unsigned pxd_conf_threads(const struct pxd_conf *conf)
{
	long n;

	if (conf->threads)
		return conf->threads;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > CONF_THREADS_MAX ? CONF_THREADS_MAX : (unsigned)n;
}
