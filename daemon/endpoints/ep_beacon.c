// SPDX-License-Identifier: MIT
/*
 * POST /e: a beacon with one canonical event or {"batch":[...]} of up to
 * 500, as sendBeacon (text/plain) or fetch (application/json) sends it,
 * read in one pass (event_beacon.h). A batch is all or nothing: the
 * journal's room for the whole batch is checked once, each event is staged
 * as it is decoded, and the events are handed off only when the whole body
 * was valid and every one is in the journal's memory (else all are taken
 * back).
 * With s2s.dedup_beacons an event_id accepted within s2s.dedup_window is
 * skipped (counted as a duplicate), not refused.
 */
#include <stdio.h>
#include <string.h>

#include "intake.h"
#include "arena.h"
#include "event_beacon.h"
#include "event_json.h"
#include "router.h"

#define DETAIL_MAX 256

static bool content_type_ok(struct pxd_sv ct)
{
	const char *semi = memchr(ct.p, ';', ct.n);
	struct pxd_sv media = semi ? pxd_sv_make(ct.p, (size_t)(semi - ct.p)) : ct;

	while (media.n && (media.p[media.n - 1] == ' ' || media.p[media.n - 1] == '\t'))
		media.n--;
	/* No Content-Type at all is read as JSON: some beacon libraries send none. */
	return !ct.p || pxd_sv_ieq(media, "text/plain") || pxd_sv_ieq(media, "application/json");
}

/* The dedup keys of the events a batch stages, recorded once it is published. */
struct staged_ids {
	uint64_t key[PXD_EVENT_JSON_MAX_BATCH];
	size_t n;
};

/* With s2s.dedup_beacons: the dedup table of the keyed APIs, else NULL. */
static struct pxd_first_open *beacon_dedup(struct pxd_reqctx *rc)
{
	struct pxd_daemon *d = rc->ing->d;

	return d->conf->s2s.dedup_beacons ? d->api.dedup : NULL;
}

/* With dedup on, true when <ev>'s event_id was accepted within the window
 * or is staged already in this batch; <key> is its dedup key, 0 when dedup
 * does not apply. */
static bool is_duplicate(struct pxd_reqctx *rc, const struct pxd_event *ev,
			 const struct staged_ids *ids, uint64_t *key)
{
	struct pxd_first_open *dedup = beacon_dedup(rc);

	*key = 0;
	if (!dedup || !ev->event_id.n)
		return false;
	*key = pxd_api_dedup_key(ev->tenant, PXD_EVENT_SOURCE_BEACON, ev->event_id);
	for (size_t i = 0; i < ids->n; i++)
		if (ids->key[i] == *key)
			return true;
	return pxd_first_open_seen(dedup, *key, rc->ing->now_ms / 1000);
}

/*
 * One beacon's events as the decoder hands them over. Every event is
 * checked before anything is refused for the journal: a full journal (the
 * room for the whole body is checked once, before decoding, so it never
 * refuses half a batch) or a failed stage (memory, an append) stops the
 * staging and is the answer only when every event is valid.
 */
struct beacon {
	struct pxd_reqctx *rc;
	struct pxd_intake_batch b; /* about 9 KiB: the ingest thread's stack holds it */
	struct staged_ids ids;	   /* 4 KiB */
	enum pxd_refusal held;	   /* the journal's refusal, once one was met */
};

static enum pxd_refusal take_event(void *arg, struct pxd_event *ev, char *detail, size_t dlen)
{
	struct beacon *bc = arg;
	struct pxd_reqctx *rc = bc->rc;
	enum pxd_refusal r = pxd_intake_fill(rc, ev, PXD_EVENT_SOURCE_BEACON, detail, dlen);
	uint64_t key;

	if (r != PXD_REFUSAL_NONE || bc->held != PXD_REFUSAL_NONE)
		return r;
	if (is_duplicate(rc, ev, &bc->ids, &key)) {
		pxd_stat_add(&rc->ing->m->events_rejected[PXD_REFUSAL_DUPLICATE], 1);
		return PXD_REFUSAL_NONE;
	}
	bc->held = pxd_intake_batch_add(rc, &bc->b, ev, pxd_intake_shard(rc, ev));
	if (bc->held == PXD_REFUSAL_NONE && key)
		bc->ids.key[bc->ids.n++] = key;
	return PXD_REFUSAL_NONE;
}

static enum pxd_refusal accept_all(struct pxd_reqctx *rc, char *detail)
{
	struct pxd_ingest *ing = rc->ing;
	struct beacon bc;
	enum pxd_refusal r;

	bc.rc = rc;
	bc.ids.n = 0;
	bc.held = pxd_intake_journal_room(rc, rc->req->body.n);
	pxd_intake_batch_begin(rc, &bc.b);
	r = pxd_event_beacon_decode(rc->req->body.p, rc->req->body.n, ing->now_ms,
				    ing->json_scratch, PXD_HTTP_MAX_BODY, take_event, &bc, detail,
				    DETAIL_MAX);
	if (r == PXD_REFUSAL_NONE)
		r = bc.held;
	if (r != PXD_REFUSAL_NONE) {
		pxd_intake_batch_abort(rc, &bc.b);
		return r;
	}
	pxd_intake_batch_publish(rc, &bc.b);
	/* Recorded once published, so a batch taken back may be sent again. */
	for (size_t i = 0; i < bc.ids.n; i++)
		pxd_first_open_check(beacon_dedup(rc), bc.ids.key[i], ing->now_ms / 1000,
				     &ing->m->s2s_dedup);
	return r;
}

void pxd_ep_beacon(struct pxd_reqctx *rc)
{
	struct pxd_arena *arena = pxd_arena_current();
	char detail[DETAIL_MAX] = "";
	enum pxd_refusal r;

	if (pxd_intake_is_bot(rc)) {
		pxd_reply_empty(rc, 204);
		return;
	}
	if (!content_type_ok(rc->req->content_type)) {
		pxd_reply_refusal(rc, PXD_REFUSAL_BAD_CONTENT_TYPE, NULL);
		return;
	}
	r = accept_all(rc, detail);
	/* jansson words a refusal of a body that is not JSON, in the arena */
	if (arena)
		pxd_arena_reset(arena);
	if (r == PXD_REFUSAL_NONE)
		pxd_reply_empty(rc, 204);
	else
		pxd_reply_refusal(rc, r, detail[0] ? detail : NULL);
}
