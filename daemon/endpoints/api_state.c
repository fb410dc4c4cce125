// SPDX-License-Identifier: MIT
/*
 * The keyed APIs' shared state: per-key token buckets (one CAS per request)
 * and the event_id dedup table, a first-open table of its own saved to
 * s2s.state_file across restarts. Buckets and dedup keys: any ingest thread;
 * init and fini: the main thread.
 */
#include "api_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "log.h"

#define RATE_TRIES 8

int pxd_api_init(struct pxd_api *api, const struct pxd_conf *conf, char *err, size_t errlen)
{
	const struct pxd_conf_s2s *cs = &conf->s2s;
	int rc;

	memset(api, 0, sizeof(*api));
	api->conf = conf;
	if (!cs->dedup_window_s)
		return 0;
	if ((size_t)snprintf(api->dedup_path, sizeof(api->dedup_path), "%s%s",
			     cs->state_file[0] ? cs->state_file : conf->data_dir,
			     cs->state_file[0] ? "" : "/s2s_dedup.state") >=
	    sizeof(api->dedup_path)) {
		snprintf(err, errlen, "s2s.state_file: path too long; use a shorter one");
		return -ENAMETOOLONG;
	}
	rc = pxd_first_open_init(&api->dedup, cs->dedup_slots, cs->dedup_window_s);
	if (rc) {
		snprintf(err, errlen, "s2s.dedup_slots %u: %s; lower it", cs->dedup_slots,
			 strerror(-rc));
		return rc;
	}
	rc = pxd_first_open_load(api->dedup, api->dedup_path, pxd_now_ms() / 1000);
	if (rc == -EINVAL)
		pxd_log_warn("s2s",
			     "dedup state %s is damaged or of another version; starting empty",
			     api->dedup_path);
	else if (rc && rc != -ENOENT)
		pxd_log_warn("s2s", "cannot read dedup state %s: %s; starting empty",
			     api->dedup_path, strerror(-rc));
	return 0;
}

void pxd_api_fini(struct pxd_api *api, bool save)
{
	int rc;

	if (api->dedup && save) {
		rc = pxd_first_open_save(api->dedup, api->dedup_path, pxd_now_ms() / 1000);
		if (rc)
			pxd_log_warn("s2s",
				     "cannot save dedup state to %s: %s; after this restart "
				     "repeated event_ids are journaled again",
				     api->dedup_path, strerror(-rc));
	}
	pxd_first_open_free(api->dedup);
	api->dedup = NULL;
}

bool pxd_api_rate_take(struct pxd_api *api, enum pxd_api_kind kind, const struct pxd_api_key *key,
		       int64_t now_ms)
{
	uint64_t *b = &api->buckets[kind][key->bucket % PXD_API_BUCKETS];
	uint64_t cap = (uint64_t)(key->burst ? key->burst : 2 * key->rate) * 1000;
	uint32_t now = (uint32_t)now_ms;

	if (!key->rate)
		return true;
	for (int i = 0; i < RATE_TRIES; i++) {
		uint64_t w = __atomic_load_n(b, __ATOMIC_RELAXED);
		/* 0 is a bucket never used: it starts full. */
		uint64_t milli = w ? w >> 32 : cap;
		uint32_t elapsed = w ? now - (uint32_t)w : 0;
		uint64_t next;

		/* key_rate tokens a second are key_rate milli-tokens a millisecond. */
		milli += (uint64_t)elapsed * key->rate;
		if (milli > cap)
			milli = cap;
		if (milli < 1000)
			return false;
		next = (milli - 1000) << 32 | now;
		if (!next)
			next = 1;
		if (__atomic_compare_exchange_n(b, &w, next, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return true;
	}
	/* Other threads keep winning this bucket: let the request through
	 * rather than refuse it for contention. */
	return true;
}

uint64_t pxd_api_dedup_key(struct pxd_sv tenant, unsigned source, struct pxd_sv event_id)
{
	char s = (char)('0' + source);

	return pxd_first_open_key(tenant, pxd_sv_make(&s, 1), event_id);
}
