/* SPDX-License-Identifier: MIT */
/*
 * log.h - structured log lines on stderr, as text "ts level component:
 * message" or one JSON object per line (server.log_format, for journald and
 * Loki). Owns the level threshold, the format and the per-site rate limiter;
 * never sees PII or secrets (callers pass hashes or nothing). Any thread:
 * each line is one write(2) so lines from different threads never interleave.
 */
#ifndef PXD_LOG_H
#define PXD_LOG_H

#include <stdint.h>

#include "compiler.h"

enum pxd_log_level {
	PXD_LOG_ERR = 0,
	PXD_LOG_WARN,
	PXD_LOG_INFO,
	PXD_LOG_DEBUG,
};

enum pxd_log_format {
	PXD_LOG_FORMAT_TEXT = 0,
	PXD_LOG_FORMAT_JSON, /* {"ts":…,"level":…,"component":…,"msg":…} */
};

/* Sets the threshold; lines above it are dropped. Call before threads start. */
void pxd_log_set_level(enum pxd_log_level level);

/* Parses "err|warn|info|debug"; returns 0 or -EINVAL. */
int pxd_log_level_parse(const char *s, enum pxd_log_level *out);

/* Parses "text|json"; returns 0 or -EINVAL. */
int pxd_log_format_parse(const char *s, enum pxd_log_format *out);

/* Sets the line format. Call before threads start. */
void pxd_log_set_format(enum pxd_log_format format);

/* Writes one line to stderr: "<iso-time> <level> <component>: <message>", or
 * in JSON the same four fields with the message escaped. A message longer
 * than a line (about 1 KiB) is cut, never split. */
void pxd_log(enum pxd_log_level level, const char *component, const char *fmt, ...)
    pxd_printf(3, 4);

/*
 * A rate limit for log lines on hot paths: at most one line per <interval_ms>
 * per site; the lines skipped in between are counted and reported on the next
 * line that goes out. One per call site, owned by one thread.
 */
struct pxd_log_ratelimit {
	uint64_t next_ns;
	uint64_t suppressed;
};

/* Returns true when the caller may log now (and how many were suppressed). */
int pxd_log_ratelimit_ok(struct pxd_log_ratelimit *rl, uint64_t interval_ms, uint64_t *suppressed);

#define pxd_log_err(comp, ...) pxd_log(PXD_LOG_ERR, comp, __VA_ARGS__)
#define pxd_log_warn(comp, ...) pxd_log(PXD_LOG_WARN, comp, __VA_ARGS__)
#define pxd_log_info(comp, ...) pxd_log(PXD_LOG_INFO, comp, __VA_ARGS__)
#define pxd_log_debug(comp, ...) pxd_log(PXD_LOG_DEBUG, comp, __VA_ARGS__)

#endif
