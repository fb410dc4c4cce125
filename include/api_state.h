/* SPDX-License-Identifier: MIT */
/*
 * api_state.h - what the keyed ways in (POST /s2s/events, the Segment-
 * compatible /v1/) share across ingest threads: the key -> tenant lookup,
 * one token bucket per key, and the event_id dedup table with its state
 * file. Init, load, save and free: the main thread; lookups, buckets and
 * dedup: any ingest thread, lock-free (one compare-and-swap at most).
 */
#ifndef PXD_API_STATE_H
#define PXD_API_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "first_open.h"
#include "strview.h"

enum pxd_api_kind {
	PXD_API_WRITE = 0,  /* write_keys: Segment-compatible /v1/ */
	PXD_API_SECRET,	    /* secret_keys: POST /s2s/events */
	PXD_API_KIND_COUNT, /* number of key kinds; keep last */
};

/* Token buckets per kind: one per key of every tenant (or of [server]). */
#define PXD_API_BUCKETS (PXD_CONF_TENANT_MAX * PXD_CONF_TENANT_KEYS)
_Static_assert(PXD_API_BUCKETS >= PXD_CONF_MAX_LIST, "a bucket for each [server] key");

/* Who a key belongs to: its tenant, its token bucket and the bucket's rate. */
struct pxd_api_key {
	struct pxd_sv tenant;
	unsigned bucket;
	uint32_t rate;	/* tokens per second; 0: unlimited */
	uint32_t burst; /* bucket depth; 0: twice <rate> */
};

struct pxd_api {
	const struct pxd_conf *conf;
	/* Per key: high 32 bits milli-tokens, low 32 bits the last refill in
	 * monotonic ms (mod 2^32), so one CAS updates both. A bucket is a key's
	 * position (tenant, rank in its list): a reload that keeps the position
	 * keeps the tokens. */
	uint64_t buckets[PXD_API_KIND_COUNT][PXD_API_BUCKETS];
	struct pxd_first_open *dedup; /* NULL with s2s.dedup_window = 0 */
	char dedup_path[4096];
};

/*
 * Sets up <api> for <conf> and loads the dedup state (a missing file is a
 * first start; a damaged one is logged and the table starts empty). Returns
 * 0, or -ENOMEM / -ENAMETOOLONG with <err> saying what to change. Main thread.
 */
int pxd_api_init(struct pxd_api *api, const struct pxd_conf *conf, char *err, size_t errlen);

/* Saves the dedup state when <save> and releases it. Accepts a zeroed <api>. Main thread. */
void pxd_api_fini(struct pxd_api *api, bool save);

/*
 * Finds <key> among the configured keys of <kind> in <conf> (the
 * generation the request is served under): each tenant's write_keys or
 * secret_keys, or [server]'s without [tenant] sections. Compares every one
 * in constant time (no early exit, so timing tells nothing of how much of a
 * key matched). Returns 0 with <out> filled (<out>->tenant points into
 * <conf>), -ENOENT when no key of <kind> is configured (the API is off) or
 * -EACCES. The one place keys map to tenants. Any thread.
 */
int pxd_api_key_lookup(const struct pxd_conf *conf, enum pxd_api_kind kind, struct pxd_sv key,
		       struct pxd_api_key *out);

/* Whether <conf> has any key of <kind> (else that API answers 404). Any thread. */
bool pxd_api_keys_configured(const struct pxd_conf *conf, enum pxd_api_kind kind);

/*
 * Takes one token from the bucket of <key> at monotonic <now_ms> (<key>'s
 * rate per second and burst deep: its tenant's key_rate and key_burst, by
 * default [s2s]'s). Returns true when the request may go on,
 * false when the bucket is empty. The rate is at least 1/s, so a token is
 * back within a second: the refusal table's Retry-After: 1 always holds.
 * Any thread.
 */
bool pxd_api_rate_take(struct pxd_api *api, enum pxd_api_kind kind, const struct pxd_api_key *key,
		       int64_t now_ms);

/* The dedup key of <event_id> of <tenant> coming in through <source> (see event.h). */
uint64_t pxd_api_dedup_key(struct pxd_sv tenant, unsigned source, struct pxd_sv event_id);

#endif
