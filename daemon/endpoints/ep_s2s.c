// SPDX-License-Identifier: MIT
/*
 * POST /s2s/events: server-to-server events with a secret key
 * (Authorization: Bearer), one canonical event or {"batch":[...]} of up to
 * 1,000 in at most 1 MiB, plain or gzip. Each event is answered on its own:
 * accepted, duplicate (event_id seen within s2s.dedup_window) or refused
 * with the reason; 503 only when nothing could be journaled.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "daemon/endpoints/api_intake.h"
#include "jsonw.h"
#include "router.h"

#define S2S_MAX_BATCH 1000
#define DETAIL_MAX 256

static const char *const status_words[PXD_API_STATUS_COUNT] = {
	[PXD_API_ACCEPTED] = "accepted",
	[PXD_API_DUPLICATE] = "duplicate",
	[PXD_API_REFUSED] = "refused",
	[PXD_API_UNAVAILABLE] = "refused",
};

static void write_result(struct pxd_jsonw *w, size_t i, enum pxd_api_status st,
			 const struct pxd_event *ev, enum pxd_refusal r, const char *detail)
{
	const char *code = pxd_refusal_info(r)->code;

	pxd_jsonw_object_begin(w);
	pxd_jsonw_key(w, "index", 5);
	pxd_jsonw_int(w, (int64_t)i);
	if (ev->event_id.n) {
		pxd_jsonw_key(w, "event_id", 8);
		pxd_jsonw_string(w, ev->event_id.p, ev->event_id.n);
	}
	pxd_jsonw_key(w, "status", 6);
	pxd_jsonw_string(w, status_words[st], strlen(status_words[st]));
	if (st == PXD_API_REFUSED || st == PXD_API_UNAVAILABLE) {
		pxd_jsonw_key(w, "error", 5);
		pxd_jsonw_string(w, code, strlen(code));
		pxd_jsonw_key(w, "detail", 6);
		pxd_jsonw_string(w, detail, strlen(detail));
	}
	pxd_jsonw_object_end(w);
}

/* Takes every event, writing the answer into the thread's api_scratch (the
 * body it may have held is parsed by now). Returns the answer's length,
 * -EAGAIN when no event could be journaled and one should be retried, or
 * -ENOSPC (cannot happen: 1,000 results fit many times over). */
static ssize_t take_all(struct pxd_reqctx *rc, const struct pxd_event_json *ej,
			const struct pxd_api_key *key)
{
	size_t count[PXD_API_STATUS_COUNT] = { 0 };
	struct pxd_jsonw w;
	struct pxd_event ev;

	pxd_jsonw_init(&w, rc->ing->api_scratch, PXD_API_MAX_BODY + 1);
	pxd_jsonw_object_begin(&w);
	pxd_jsonw_key(&w, "results", 7);
	pxd_jsonw_array_begin(&w);
	for (size_t i = 0; i < ej->n; i++) {
		char detail[DETAIL_MAX] = "";
		enum pxd_refusal r = PXD_REFUSAL_NONE;
		enum pxd_api_status st = pxd_api_take(rc, ej, i, PXD_EVENT_SOURCE_S2S, key, &ev, &r,
						      detail, sizeof(detail));

		count[st]++;
		write_result(&w, i, st, &ev, r, detail[0] ? detail : pxd_refusal_info(r)->detail);
	}
	pxd_jsonw_array_end(&w);
	pxd_jsonw_key(&w, "accepted", 8);
	pxd_jsonw_int(&w, (int64_t)count[PXD_API_ACCEPTED]);
	pxd_jsonw_key(&w, "duplicate", 9);
	pxd_jsonw_int(&w, (int64_t)count[PXD_API_DUPLICATE]);
	pxd_jsonw_key(&w, "refused", 7);
	pxd_jsonw_int(&w, (int64_t)(count[PXD_API_REFUSED] + count[PXD_API_UNAVAILABLE]));
	pxd_jsonw_object_end(&w);
	if (count[PXD_API_UNAVAILABLE] && !count[PXD_API_ACCEPTED])
		return -EAGAIN;
	return pxd_jsonw_finish(&w);
}

/* The secret key of "Authorization: Bearer <key>"; empty when absent. */
static struct pxd_sv bearer(struct pxd_sv auth)
{
	if (!pxd_sv_starts_with(auth, "Bearer "))
		return pxd_sv_make("", 0);
	return pxd_sv_make(auth.p + 7, auth.n - 7);
}

void pxd_ep_s2s(struct pxd_reqctx *rc)
{
	struct pxd_arena *arena = pxd_arena_current();
	struct pxd_event_json ej = { 0 };
	char detail[DETAIL_MAX] = "";
	struct pxd_api_key key;
	struct pxd_sv body;
	enum pxd_refusal r;
	ssize_t len = 0;

	r = pxd_api_authorize(rc, PXD_API_SECRET, bearer(rc->req->authorization), &key);
	if (!r)
		r = pxd_api_body(rc, PXD_API_MAX_BODY, &body, detail, sizeof(detail));
	if (!r)
		r = pxd_event_json_parse_n(&ej, body.p, body.n, S2S_MAX_BATCH, detail,
					   sizeof(detail));
	if (!r) {
		ej.server_fields = true;
		len = take_all(rc, &ej, &key);
		if (len < 0)
			r = len == -EAGAIN ? PXD_REFUSAL_JOURNAL_FULL : PXD_REFUSAL_INTERNAL;
	}
	pxd_event_json_free(&ej);
	if (arena)
		pxd_arena_reset(arena);
	if (r)
		pxd_reply_refusal(rc, r, detail[0] ? detail : NULL);
	else
		pxd_reply_body(rc, 200, "application/json", rc->ing->api_scratch, (size_t)len,
			       NULL);
}
