// SPDX-License-Identifier: MIT
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum pxd_log_level threshold = PXD_LOG_INFO;

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

void pxd_log(enum pxd_log_level level, const char *component, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;
	int m;

	if (level > threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec / 1000000, level_names[level], component);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line keeps threads' lines whole; a short write to a
	 * closed stderr is nothing we can report anywhere. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
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
