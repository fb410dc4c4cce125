/* SPDX-License-Identifier: MIT */
/*
 * batch_split.h - for platforms that take different events in different
 * requests (Mixpanel /import, /engage and /groups; Amplitude's events,
 * Identify and Group Identify APIs; TikTok's web and offline event
 * sources): one request carries the batch's events of the same key as its
 * first, and the others come back as unsent (retry.h PXD_RETRY_UNSENT), so
 * they go again at once in a request of their own, as GA4 does per client.
 * No state; adapters call it from their dispatcher thread. Only adapters/
 * includes it.
 */
#ifndef PXD_BATCH_SPLIT_H
#define PXD_BATCH_SPLIT_H

#include "adapter.h"

/* Which request item <it> goes in (an endpoint or event source; 0 for
 * most), from its line or its parsed event. */
typedef int pxd_split_key_fn(const struct pxd_dest *dest, const struct pxd_batch_item *it);

typedef int pxd_split_build_fn(struct pxd_dest *dest, const struct pxd_batch *b,
			       struct pxd_request *req);
typedef void pxd_split_classify_fn(struct pxd_dest *dest, const struct pxd_batch *b,
				   const struct pxd_response *resp, struct pxd_outcome *out);

/*
 * Runs <build> over the events of <b> whose <key> is that of the first
 * event (all of <b> when they share one, or, for an adapter that takes
 * parsed events, when an item has none, without copying). Returns what <build> returns, or -ENOMEM.
 */
int pxd_split_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req,
		    pxd_split_key_fn *key, pxd_split_build_fn *build);

/*
 * Runs <classify> over the same events as pxd_split_build() and gives the
 * others a RETRY PXD_RETRY_UNSENT outcome naming <platform>. When the part
 * sent was refused as a whole (bisect.h), every event gets that refusal, so
 * the dispatcher bisects the whole batch; its halves split again the same
 * way until each is of one key.
 */
void pxd_split_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			const struct pxd_response *resp, struct pxd_outcome *out,
			pxd_split_key_fn *key, pxd_split_classify_fn *classify,
			const char *platform);

#endif
