// SPDX-License-Identifier: MIT
/*
 * POST /v1/batch, /v1/track, /v1/page, /v1/screen, /v1/identify, /v1/group,
 * /v1/alias and analytics.js's /v1/b, /t, /p, /s, /i, /g, /a: Segment's
 * tracking API, so its libraries send to pixeld unchanged. The write key
 * comes from Basic auth or the body's writeKey; gzip is read whatever the
 * Content-Type says; Segment's limits (32 KB a message, 500 KB a batch) and
 * answers ({"success":true}). Messages are mapped (segment.h), then taken
 * one by one like s2s events: the good ones of a batch are journaled even
 * when another is malformed.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "daemon/endpoints/api_intake.h"
#include "router.h"
#include "segment.h"

#define DETAIL_MAX 256
#define BASIC_MAX 256 /* base64 of a write key and its colon */

/* What one request's messages came to. */
struct outcome {
	size_t count[PXD_API_STATUS_COUNT];
	enum pxd_refusal first;	 /* the first refusal, answered for the batch */
	char detail[DETAIL_MAX]; /* its detail, naming the message */
};

/* The write key of "Authorization: Basic base64(key:)" into <buf>; empty when absent. */
static struct pxd_sv basic_key(struct pxd_sv auth, unsigned char buf[BASIC_MAX])
{
	struct pxd_sv b64;
	int n;

	if (auth.n < 6 || strncasecmp(auth.p, "Basic ", 6) != 0 || auth.n - 6 > BASIC_MAX / 4 * 3)
		return pxd_sv_make("", 0);
	b64 = pxd_sv_make(auth.p + 6, auth.n - 6);
	n = EVP_DecodeBlock(buf, (const unsigned char *)b64.p, (int)b64.n);
	if (n < 0)
		return pxd_sv_make("", 0);
	/* EVP_DecodeBlock counts padding as data bytes. */
	for (size_t i = b64.n; i && b64.p[i - 1] == '='; i--)
		n--;
	for (int i = 0; i < n; i++)
		if (buf[i] == ':')
			return pxd_sv_make((const char *)buf, (size_t)i);
	return pxd_sv_make((const char *)buf, (size_t)n);
}

/* The body's writeKey, or the first batch message's (Segment's libraries put it in either). */
static struct pxd_sv body_key(json_t *root)
{
	json_t *k = json_object_get(root, "writeKey");

	if (!json_is_string(k))
		k = json_object_get(json_array_get(json_object_get(root, "batch"), 0), "writeKey");
	if (!json_is_string(k))
		return pxd_sv_make("", 0);
	return pxd_sv_make(json_string_value(k), json_string_length(k));
}

static void note(struct outcome *o, enum pxd_refusal r, bool batch, size_t i, const char *what)
{
	if (o->first)
		return;
	o->first = r;
	if (batch)
		snprintf(o->detail, sizeof(o->detail), "batch[%zu]: %s", i, what);
	else
		snprintf(o->detail, sizeof(o->detail), "%s", what);
}

/* Maps every message of a <body_len>-byte body into <events> (json null
 * where one was malformed). */
static void map_all(struct pxd_reqctx *rc, json_t *root, json_t *msgs, const char *type,
		    size_t body_len, json_t *events, struct outcome *o)
{
	bool batch = msgs != NULL;
	size_t n = batch ? json_array_size(msgs) : 1;

	for (size_t i = 0; i < n; i++) {
		json_t *msg = batch ? json_array_get(msgs, i) : root;
		char detail[DETAIL_MAX] = "";
		enum pxd_refusal r = PXD_REFUSAL_NONE;
		unsigned dropped = 0;
		json_t *ev = NULL;

		/* Measured only when the body could hold a message over the limit:
		 * json_dumpb() serializes the message to count its bytes. */
		if (body_len > PXD_SEGMENT_MAX_MESSAGE &&
		    json_dumpb(msg, NULL, 0, JSON_COMPACT) > PXD_SEGMENT_MAX_MESSAGE) {
			r = PXD_REFUSAL_MESSAGE_TOO_LARGE;
			snprintf(detail, sizeof(detail), "message over 32 KB; send less in it");
		} else {
			r = pxd_segment_map(msg, type, root, rc->ing->now_ms, &ev, &dropped, detail,
					    sizeof(detail));
		}
		if (dropped)
			pxd_stat_add(&rc->ing->m->segment_hashed_dropped, dropped);
		if (r) {
			o->count[PXD_API_REFUSED]++;
			note(o, r, batch, i, detail);
			ev = json_null();
		}
		if (json_array_append_new(events, ev)) {
			o->count[PXD_API_UNAVAILABLE]++;
			note(o, PXD_REFUSAL_INTERNAL, batch, i, "out of memory");
		}
	}
}

static void take_all(struct pxd_reqctx *rc, json_t *events, bool batch,
		     const struct pxd_api_key *key, struct outcome *o)
{
	struct pxd_event_json ej = {
		.root = events, .batch = events, .n = json_array_size(events), .server_fields = true
	};
	struct pxd_event ev;

	for (size_t i = 0; i < ej.n; i++) {
		char detail[DETAIL_MAX] = "";
		enum pxd_refusal r = PXD_REFUSAL_NONE;
		enum pxd_api_status st;
		char *dot;

		if (json_is_null(json_array_get(events, i)))
			continue;
		st = pxd_api_take(rc, &ej, i, PXD_EVENT_SOURCE_SEGMENT, key, &ev, &r, detail,
				  sizeof(detail));
		o->count[st]++;
		if (st == PXD_API_REFUSED || st == PXD_API_UNAVAILABLE) {
			/* The canonical reader says "batch[i].field": keep the field only. */
			dot = strncmp(detail, "batch[", 6) == 0 ? strchr(detail, '.') : NULL;
			note(o, r, batch, i,
			     detail[0] ? (dot ? dot + 1 : detail) : pxd_refusal_info(r)->detail);
		}
	}
}

/*
 * Parses, authorizes and takes the request's messages. Returns the refusal
 * to answer with (<o>->detail), or PXD_REFUSAL_NONE for {"success":true}.
 */
static enum pxd_refusal handle(struct pxd_reqctx *rc, const char *type, struct outcome *o)
{
	bool batch = !strcmp(type, "batch");
	unsigned char basic[BASIC_MAX];
	struct pxd_sv key = basic_key(rc->req->authorization, basic);
	json_t *root = NULL, *events = NULL, *msgs = NULL;
	struct pxd_api_key who;
	json_error_t jerr;
	struct pxd_sv body;
	enum pxd_refusal r;

	if (!pxd_api_keys_configured(rc->conf, PXD_API_WRITE))
		return PXD_REFUSAL_API_OFF;
	r = pxd_api_body(rc, batch ? PXD_SEGMENT_MAX_BATCH : PXD_SEGMENT_MAX_MESSAGE, &body,
			 o->detail, sizeof(o->detail));
	if (r == PXD_REFUSAL_DECODED_TOO_LARGE && !batch)
		r = PXD_REFUSAL_MESSAGE_TOO_LARGE;
	if (r)
		return r;
	root = json_loadb(body.p, body.n, 0, &jerr);
	if (!root) {
		snprintf(o->detail, sizeof(o->detail), "line %d column %d: %s", jerr.line,
			 jerr.column, jerr.text);
		return PXD_REFUSAL_BAD_JSON;
	}
	if (!key.n)
		key = body_key(root);
	r = pxd_api_authorize(rc, PXD_API_WRITE, key, &who);
	if (!r && !json_is_object(root)) {
		snprintf(o->detail, sizeof(o->detail), "body: must be a JSON object");
		r = PXD_REFUSAL_BAD_EVENT;
	}
	if (!r && batch) {
		msgs = json_object_get(root, "batch");
		if (!json_is_array(msgs)) {
			snprintf(o->detail, sizeof(o->detail),
				 "batch: must be an array of messages");
			r = PXD_REFUSAL_BAD_EVENT;
		}
	}
	events = r ? NULL : json_array();
	if (!r && !events)
		r = PXD_REFUSAL_INTERNAL;
	if (!r) {
		map_all(rc, root, msgs, batch ? NULL : type, body.n, events, o);
		take_all(rc, events, batch, &who, o);
		/* Retrying the whole batch is safe: accepted messageIds come back
		 * as duplicates. */
		if (o->count[PXD_API_UNAVAILABLE])
			r = PXD_REFUSAL_JOURNAL_FULL;
		else
			r = o->first;
	}
	json_decref(events);
	json_decref(root);
	return r;
}

void pxd_ep_segment(struct pxd_reqctx *rc)
{
	static const char success[] = "{\"success\":true}";
	struct pxd_arena *arena = pxd_arena_current();
	const char *type = pxd_segment_call(rc->req->path.p, rc->req->path.n);
	struct outcome o = { 0 };
	enum pxd_refusal r;

	if (!type) {
		pxd_reply_refusal(rc, PXD_REFUSAL_NOT_FOUND,
				  "the Segment-compatible calls are /v1/batch, track, page, "
				  "screen, identify, group, alias and /v1/b, t, p, s, i, g, a");
		return;
	}
	r = handle(rc, type, &o);
	if (arena)
		pxd_arena_reset(arena);
	if (r)
		pxd_reply_refusal(rc, r, o.detail[0] ? o.detail : NULL);
	else
		pxd_reply_body(rc, 200, "application/json", success, sizeof(success) - 1, NULL);
}
