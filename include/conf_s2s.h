/* SPDX-License-Identifier: MIT */
/*
 * conf_s2s.h - the [s2s] section of the configuration: what the keyed ways
 * in (POST /s2s/events and the Segment-compatible /v1/) share: the event_id
 * dedup window, table and state file, and the per-key token bucket. The keys
 * themselves are server.write_keys and server.secret_keys. conf.c hands every
 * key of [s2s] here. Main thread only; read-only once loaded.
 */
#ifndef PXD_CONF_S2S_H
#define PXD_CONF_S2S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PXD_CONF_S2S_SLOTS_MIN 1024u
#define PXD_CONF_S2S_SLOTS_MAX (1u << 26) /* 512 MiB of dedup table */
#define PXD_CONF_S2S_WINDOW_MAX_S (30u * 86400u)
#define PXD_CONF_S2S_RATE_MAX 1000000u /* events per second per key */

struct pxd_conf_s2s {
	uint32_t dedup_window_s; /* 0: no dedup */
	uint32_t dedup_slots;	 /* power of two */
	bool dedup_beacons;	 /* POST /e events with an event_id are deduplicated too */
	char state_file[4096];	 /* empty: <data_dir>/s2s_dedup.state */
	uint32_t key_rate;	 /* requests per second per key; 0: unlimited */
	uint32_t key_burst;	 /* bucket size; 0: twice key_rate */
};

/* Fills <c> with the defaults: window 24h, 1048576 slots, no beacons, 100/s, burst 0. */
void pxd_conf_s2s_defaults(struct pxd_conf_s2s *c);

/*
 * Sets <key> to <value>. Returns 0, -ENOENT for an unknown key, or -EINVAL
 * with <err> saying what is wrong with the value and what to write instead
 * (the caller prefixes "file:line: s2s.<key>: ").
 */
int pxd_conf_s2s_set(struct pxd_conf_s2s *c, const char *key, const char *value, char *err,
		     size_t errlen);

/* Checks the section as a whole after the file is read. Returns 0 or -EINVAL with <err>. */
int pxd_conf_s2s_check(const struct pxd_conf_s2s *c, char *err, size_t errlen);

/* Returns the bucket size in force: key_burst, or twice key_rate when 0. */
uint32_t pxd_conf_s2s_burst(const struct pxd_conf_s2s *c);

#endif
