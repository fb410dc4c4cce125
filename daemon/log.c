// SPDX-License-Identifier: MIT
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum pxd_log_level threshold = PXD_LOG_INFO;
static enum pxd_log_format format = PXD_LOG_FORMAT_TEXT;

static const char *const level_names[] = {
	[PXD_LOG_ERR] = "error",
	[PXD_LOG_WARN] = "warn",
	[PXD_LOG_INFO] = "info",
	[PXD_LOG_DEBUG] = "debug",
};

void pxd_log_set_level(enum pxd_log_level level)
{
	threshold = level;
}

int pxd_log_level_parse(const char *s, enum pxd_log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0 || (i == PXD_LOG_ERR && strcmp(s, "err") == 0)) {
			*out = (enum pxd_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

int pxd_log_format_parse(const char *s, enum pxd_log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = PXD_LOG_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = PXD_LOG_FORMAT_JSON;
	else
		return -EINVAL;
	return 0;
}

void pxd_log_set_format(enum pxd_log_format f)
{
	format = f;
}

/* Appends <s> to <out> (capacity <cap>, length <n>), cut to fit; returns the
 * new length. */
static size_t append(char *out, size_t n, size_t cap, const char *s)
{
	size_t len = strnlen(s, cap - n);

	memcpy(out + n, s, len);
	return n + len;
}

/* Appends <s> to <out> (capacity <cap>, length <n>) as JSON string content:
 * quote, backslash and control bytes escaped; stops before overflowing.
 * Returns the new length. */
static size_t json_escape(char *out, size_t n, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s && n + 6 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			memcpy(out + n, "\\u00", 4);
			out[n + 4] = hex[c >> 4];
			out[n + 5] = hex[c & 15];
			n += 6;
		} else {
			out[n++] = (char)c;
		}
	}
	return n;
}

void pxd_log(enum pxd_log_level level, const char *component, const char *fmt, ...)
{
	char msg[1024];
	char line[2048];
	char
	    stamp[96]; /* room for any int gmtime_r could give, to keep -Wformat-truncation quiet */
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t n;

	if (level > threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	if (format == PXD_LOG_FORMAT_JSON) {
		n = (size_t)snprintf(line, sizeof(line),
				     "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"", stamp,
				     level_names[level]);
		n = json_escape(line, n, sizeof(line) - 16, component);
		memcpy(line + n, "\",\"msg\":\"", 9);
		n = json_escape(line, n + 9, sizeof(line) - 3, msg);
		line[n++] = '"';
		line[n++] = '}';
	} else {
		n = (size_t)snprintf(line, sizeof(line), "%s %s ", stamp, level_names[level]);
		n = append(line, n, sizeof(line) - 1, component);
		n = append(line, n, sizeof(line) - 1, ": ");
		n = append(line, n, sizeof(line) - 1, msg);
	}
	line[n++] = '\n';
	/* One write per line keeps threads' lines whole; a short write to a
	 * closed stderr is nothing we can report anywhere. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

int pxd_log_ratelimit_ok(struct pxd_log_ratelimit *rl, uint64_t interval_ms, uint64_t *suppressed)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (now < rl->next_ns) {
		rl->suppressed++;
		return 0;
	}
	rl->next_ns = now + interval_ms * 1000000ull;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return 1;
}
