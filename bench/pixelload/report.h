/* SPDX-License-Identifier: MIT */
/*
 * report.h - what pixelload tells: the progress line while it runs, the
 * totals merged over the workers, the summary on stdout and the --json
 * result. main thread only; the progress line reads the workers' pub_
 * atomics, the rest runs after they are joined.
 */
#ifndef PL_REPORT_H
#define PL_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "options.h"
#include "request.h"

/**
 * Prints the progress line of the <n> running workers <ws> at <t> s on
 * stderr when <tty>; <last> holds the answered count of the previous line
 * (the rate is the difference) and is updated either way.
 */
void pl_report_progress(struct pl_worker *ws, unsigned n, double t, uint64_t *last, bool tty);

/** Adds the counts and histograms of <s> to <into>. */
void pl_report_merge(struct pl_stats *into, const struct pl_stats *s);

/** Prints the summary of the run: what was sent, answered, failed, latencies, warnings. */
void pl_report_summary(const struct pl_opts *o, const struct pl_stats *st, double elapsed);

/**
 * Writes the whole result to --json: config, totals, status counts, errors,
 * kinds, latency percentiles, the per-second series of the joined workers
 * <ws>, and with --idle what was answered at ready (<idle_ready>). Returns 0,
 * -ENOMEM, or -EIO after a line on stderr saying the file cannot be written.
 */
int pl_report_json(const struct pl_opts *o, const struct pl_pool *pool, const struct pl_stats *st,
		   struct pl_worker *ws, double elapsed, double cpu_s, uint64_t idle_ready);

#endif
