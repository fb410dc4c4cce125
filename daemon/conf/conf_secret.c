// SPDX-License-Identifier: MIT
/*
 * conf_secret.c - secret values: literal, file:PATH or env:NAME, and the one
 * reader of secret files (the admin key, adapters' tokens, email key files),
 * with the one mode check. Main thread only (getenv).
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler.h"
#include "daemon/conf/conf_parse.h"

int pxd_conf_secret_file(const char *path, void *buf, size_t cap, size_t *len, char *err,
			 size_t errlen)
{
	struct stat st;
	size_t n = 0;
	int rc = 0;
	int fd;

	*len = 0;
	fd = pxd_conf_open_regular(path, &st, "point it at the secret's file", err, errlen);
	if (fd < 0)
		return fd;
	if (st.st_mode & 077) {
		rc = -EPERM;
		pxd_conf_say(err, errlen,
			     "%s: group or others may access it (mode %03o); run chmod 600 %s",
			     path, (unsigned)(st.st_mode & 0777), path);
		goto out;
	}
	if ((uint64_t)st.st_size > cap) {
		rc = -ENAMETOOLONG;
		pxd_conf_say(err, errlen, "%s: the secret is longer than %zu bytes", path,
			     cap ? cap - 1 : 0);
		goto out;
	}
	rc = pxd_conf_read_full(fd, buf, (size_t)st.st_size, &n);
	if (rc) {
		pxd_conf_say(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
		goto out;
	}
	if (n && ((char *)buf)[n - 1] == '\n')
		n--;
	*len = n;
out:
	close(fd);
	if (rc)
		explicit_bzero(buf, cap);
	return rc;
}

static int secret_env(const char *name, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *v;
	size_t n;

	if (!name[0]) {
		pxd_conf_say(err, errlen, "env: names no variable; write env:NAME");
		return -EINVAL;
	}
	v = getenv(name);
	if (!v) {
		pxd_conf_say(err, errlen, "env:%s is not set; export %s before starting pixeld",
			     name, name);
		return -ENOENT;
	}
	n = strlen(v);
	if (n == 0) {
		pxd_conf_say(err, errlen, "env:%s is empty; give it the secret", name);
		return -EINVAL;
	}
	if (n >= outlen) {
		pxd_conf_say(err, errlen, "env:%s: the secret is longer than %zu bytes", name,
			     outlen - 1);
		return -ENAMETOOLONG;
	}
	memcpy(out, v, n + 1);
	return 0;
}

/* A C string: the file's bytes less one newline, neither empty nor holding a NUL. */
static int secret_text_file(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	char why[512];
	size_t n;
	int rc = pxd_conf_secret_file(path, out, outlen, &n, why, sizeof(why));

	if (!rc && n == outlen) {
		snprintf(why, sizeof(why), "%s: the secret is longer than %zu bytes", path,
			 outlen - 1);
		explicit_bzero(out, outlen);
		rc = -ENAMETOOLONG;
	}
	if (!rc && (n == 0 || memchr(out, '\0', n))) {
		snprintf(why, sizeof(why), "%s: empty or holds a NUL byte; write the secret in it",
			 path);
		explicit_bzero(out, outlen);
		rc = -EINVAL;
	}
	if (rc) {
		pxd_conf_say(err, errlen, "file:%s", why);
		return rc;
	}
	out[n] = '\0';
	return 0;
}

int pxd_conf_secret(const char *value, char *out, size_t outlen, char *err, size_t errlen)
{
	size_t n;

	if (outlen == 0) {
		pxd_conf_say(err, errlen, "no room for the secret");
		return -ENAMETOOLONG;
	}
	out[0] = '\0';
	if (strncmp(value, "file:", 5) == 0)
		return secret_text_file(value + 5, out, outlen, err, errlen);
	if (strncmp(value, "env:", 4) == 0)
		return secret_env(value + 4, out, outlen, err, errlen);
	n = strlen(value);
	if (n >= outlen) {
		pxd_conf_say(err, errlen,
			     "the secret is longer than %zu bytes; check it, it is used as written",
			     outlen - 1);
		return -ENAMETOOLONG;
	}
	memcpy(out, value, n + 1);
	return 0;
}
