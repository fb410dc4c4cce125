// SPDX-License-Identifier: MIT
#include "daemon/conf/conf_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void pxd_conf_say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int pxd_conf_fail(struct pxd_conf_parse *p, struct pxd_conf_origin at, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (p->rc)
		return p->rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at.flag)
		pxd_conf_say(p->err, p->errlen, "%s: %s", at.flag, msg);
	else if (at.line > 0)
		pxd_conf_say(p->err, p->errlen, "%s:%d: %s", p->conf->path, at.line, msg);
	else
		pxd_conf_say(p->err, p->errlen, "%s: %s", p->conf->path, msg);
	p->rc = -EINVAL;
	return p->rc;
}

/* Cut at PXD_CONF_QUOTE_MAX bytes so that a message stays one short line. */
const char *pxd_conf_quote(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	size_t i;

	out[o++] = '"';
	for (i = 0; i < n && i < PXD_CONF_QUOTE_MAX && o + 6 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			out[o++] = '\\';
		out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

int pxd_conf_read_full(int fd, char *buf, size_t len, size_t *got)
{
	ssize_t r;

	*got = 0;
	while (*got < len) {
		r = read(fd, buf + *got, len - *got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

int pxd_conf_open_regular(const char *path, struct stat *st, const char *hint, char *err,
			  size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int rc;

	if (fd < 0) {
		rc = -errno;
		pxd_conf_say(err, errlen, "%s: cannot open: %s; %s", path, strerror(-rc), hint);
		return rc;
	}
	if (fstat(fd, st) != 0) {
		rc = -errno;
		pxd_conf_say(err, errlen, "%s: cannot stat: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	if (!S_ISREG(st->st_mode)) {
		pxd_conf_say(err, errlen, "%s: not a regular file; %s", path, hint);
		close(fd);
		return -EINVAL;
	}
	return fd;
}
