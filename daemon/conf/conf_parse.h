/* SPDX-License-Identifier: MIT */
/*
 * conf_parse.h - the state of one configuration load, shared by the modules
 * of daemon/conf/ (INI reader, key tables, section modules, whole-config
 * checks) and private to them. Records where each value came from and the
 * first error, as "file:line: ...". Main thread only.
 */
#ifndef PXD_CONF_PARSE_H
#define PXD_CONF_PARSE_H

#include <stddef.h>

#include "compiler.h"
#include "conf.h"

#define PXD_CONF_KEYS_MAX 64 /* rows of the [server]/[journal] table (conf_keys.c) */
#define PXD_CONF_SEEN_MAX 128
#define PXD_CONF_QUOTE_MAX 64

/* The sections a file may have; the delegated ones are in conf_section.c. */
enum pxd_conf_section {
	PXD_CONF_SECTION_NONE = 0,
	PXD_CONF_SECTION_SERVER,
	PXD_CONF_SECTION_JOURNAL,
	PXD_CONF_SECTION_XDP,
	PXD_CONF_SECTION_EMAIL,
	PXD_CONF_SECTION_NATS,
	PXD_CONF_SECTION_S2S,
	PXD_CONF_SECTION_TLS,
	PXD_CONF_SECTION_DEST,
	PXD_CONF_SECTION_CERT,	 /* [certificate "NAME"], parsed by daemon/tls/conf_tls.c */
	PXD_CONF_SECTION_TENANT, /* [tenant "NAME"], parsed by daemon/tenant/conf_tenant.c */
	PXD_CONF_SECTION_COUNT,	 /* number of section kinds; keep last */
};

/* Where a value came from: a line of the file, a command-line flag, or neither (default). */
struct pxd_conf_origin {
	int line;
	const char *flag;
};

struct pxd_conf_seen {
	char key[PXD_CONF_NAME_MAX];
	int line;
};

struct pxd_conf_parse {
	struct pxd_conf *conf;
	const char *text;
	size_t len;
	size_t pos;
	int lineno;
	enum pxd_conf_section section;
	int section_line[PXD_CONF_SECTION_COUNT];
	struct pxd_conf_dest *dest;
	struct pxd_conf_cert *cert;
	struct pxd_conf_tenant *tenant;
	struct pxd_conf_seen seen[PXD_CONF_SEEN_MAX];
	size_t nseen;
	struct pxd_conf_origin where[PXD_CONF_KEYS_MAX]; /* per row of the key table */
	char *err;
	size_t errlen;
	int rc;
};

/* Formats into <err> (<errlen> may be 0: nothing is written). */
void pxd_conf_say(char *err, size_t errlen, const char *fmt, ...) pxd_printf(3, 4);

/*
 * Records the first error of a load as "<file>:<line>: ...", "<flag>: ..." or,
 * for a default, "<file>: ..." and returns -EINVAL. Later errors are dropped:
 * the first one is the one to fix.
 */
int pxd_conf_fail(struct pxd_conf_parse *p, struct pxd_conf_origin at, const char *fmt, ...)
    pxd_printf(3, 4);

/* Writes <n> bytes of <s> double-quoted into <out>, cut and with control bytes as '?'. */
const char *pxd_conf_quote(const char *s, size_t n, char *out, size_t outlen);

struct stat;

/*
 * Opens <path> for reading and fstats the open file into <st> (so what is
 * checked is what is read), refusing anything but a regular file; O_NONBLOCK
 * keeps a FIFO named by mistake from hanging the load. Returns the
 * descriptor, or -errno with <err> naming <path> and ending with <hint>
 * (-EINVAL: not a regular file).
 */
int pxd_conf_open_regular(const char *path, struct stat *st, const char *hint, char *err,
			  size_t errlen);

/* Reads up to <len> bytes of <fd> into <buf>, fewer at end of file; returns 0 or -errno. */
int pxd_conf_read_full(int fd, char *buf, size_t len, size_t *got);

/* Returns the origin of a line of the file. */
static inline struct pxd_conf_origin pxd_conf_at_line(int line)
{
	return (struct pxd_conf_origin){ .line = line };
}

#endif
