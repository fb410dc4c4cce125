// SPDX-License-Identifier: MIT
/*
 * batch_split.c - one request per key of a mixed batch (batch_split.h):
 * picks the events of the first event's key, and spreads the answer back
 * over the whole batch. Called from dispatcher threads.
 */
#include "adapters/batch_split.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bisect.h"
#include "payload.h"
#include "retry.h"

/* The events of <b> whose key is the first's, in <sub> (<b> itself when all
 * are). <*idx> (freed by the caller; NULL when <sub> is <b>) maps
 * sub->items[k] back to b->items[(*idx)[k]]. Returns 0 or -ENOMEM. */
static int pick(struct pxd_dest *dest, const struct pxd_batch *b, pxd_split_key_fn *key,
		struct pxd_batch *sub, size_t **idx)
{
	size_t same = 0;
	int first;

	*sub = *b;
	*idx = NULL;
	/* Without parsed events a tree adapter has nothing to split on: the
	 * inner hooks see the whole batch (and build refuses it). */
	for (size_t i = 0; !(dest->adapter->flags & PXD_ADAPTER_READS_LINE) && i < b->n; i++)
		if (!b->items[i].ev)
			return 0;
	if (!b->n)
		return 0;
	first = key(dest, &b->items[0]);
	for (size_t i = 0; i < b->n; i++)
		same += key(dest, &b->items[i]) == first;
	if (same == b->n)
		return 0;
	sub->items = malloc(same * sizeof(*sub->items));
	*idx = malloc(same * sizeof(**idx));
	if (!sub->items || !*idx) {
		free(sub->items);
		free(*idx);
		*idx = NULL;
		return -ENOMEM;
	}
	sub->n = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (key(dest, &b->items[i]) != first)
			continue;
		(*idx)[sub->n] = i;
		sub->items[sub->n++] = b->items[i];
	}
	return 0;
}

int pxd_split_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req,
		    pxd_split_key_fn *key, pxd_split_build_fn *build)
{
	struct pxd_batch sub;
	size_t *idx;
	int rc = pick(dest, b, key, &sub, &idx);

	if (!rc)
		rc = build(dest, &sub, req);
	if (idx)
		free(sub.items);
	free(idx);
	return rc;
}

void pxd_split_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			const struct pxd_response *resp, struct pxd_outcome *out,
			pxd_split_key_fn *key, pxd_split_classify_fn *classify,
			const char *platform)
{
	struct pxd_outcome *part = NULL;
	struct pxd_batch sub;
	size_t *idx;
	int rc = pick(dest, b, key, &sub, &idx);

	if (!rc && !idx) {
		/* One key: the answer is the whole batch's. */
		classify(dest, b, resp, out);
		return;
	}
	if (!rc)
		part = malloc(sub.n * sizeof(*part));
	if (!part) {
		/* Which events were sent is not known now: all go again. */
		pxd_payload_outcomes(out, b->n, PXD_DELIVERY_RETRY, 0,
				     "%s: out of memory reading the answer", platform);
		goto out;
	}
	classify(dest, &sub, resp, part);
	if (pxd_bisect_wanted(part, sub.n)) {
		pxd_payload_outcomes(out, b->n, PXD_DELIVERY_PERMANENT, 0, "%s", part[0].reason);
		goto out;
	}
	pxd_payload_outcomes(out, b->n, PXD_DELIVERY_RETRY, 1,
			     PXD_RETRY_UNSENT "%s: goes in a request of its own kind", platform);
	for (size_t k = 0; k < sub.n; k++)
		out[idx[k]] = part[k];
out:
	free(part);
	if (idx)
		free(sub.items);
	free(idx);
}
