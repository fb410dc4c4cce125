/* SPDX-License-Identifier: MIT */
/*
 * admin_client.h - how pixelctl talks to a running pixeld: HTTP requests to
 * the admin listener named in the same configuration, with the admin key.
 * Blocking (libcurl easy); for the CLI only.
 */
#ifndef PXD_ADMIN_CLIENT_H
#define PXD_ADMIN_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

#include <stddef.h>

#include "buf.h"
#include "conf.h"

/*
 * Sends <method> <path> (with <body> when not NULL) to <conf>'s admin
 * listener and collects the answer in <out>. Returns 0 with <*status> set,
 * -ECONNREFUSED when pixeld is not running there, or another -errno; <err>
 * says which address was tried and what to check.
 */
int pxd_admin_request(const struct pxd_conf *conf, const char *method, const char *path,
		      const char *body, size_t body_len, struct pxd_buf *out, long *status,
		      char *err, size_t errlen);

/*
 * GETs <path> from the admin API for the pixelctl command <what>. Returns 0
 * with *doc the parsed answer, or with *doc NULL after printing the answer as
 * it came when <raw> (--json); 1 after printing to stderr what went wrong
 * (no answer, a status other than 200, unreadable JSON).
 */
int pxd_admin_get_json(const struct pxd_conf *conf, const char *path, const char *what, bool raw,
		       json_t **doc);

#endif
