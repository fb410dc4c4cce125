/* SPDX-License-Identifier: MIT */
/*
 * event_json.h - beacon bodies (JSON) to canonical events: the body
 * is parsed once with jansson, then each event is read out by index into a
 * struct pxd_event, validated with field paths in every refusal. Owns the
 * parsed tree until pxd_event_json_free(). Any thread; on an ingest thread
 * the tree comes from its arena (arena.h), so a request costs no malloc.
 *
 * Accepted bodies: one event object, or {"batch":[...]} with 1..500 event
 * objects and no other top-level key. Keys of an event (see event.h):
 * event_id, event, ts, url, referrer, user{...}, click{...}, props{...},
 * consent{...}. Unknown keys are refused at the top level and inside user,
 * click and consent, so a misspelt field fails loudly instead of vanishing;
 * props is free-form apart from its typed keys (value, currency, order_id,
 * content_ids, contents, num_items). A member whose value is null counts as
 * absent. With <server_fields> (keyed APIs) an event may also carry ip (an
 * IPv4 or IPv6 address), ua, action_source and to (destination types).
 */
#ifndef PXD_EVENT_JSON_H
#define PXD_EVENT_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "refusal.h"

#define PXD_EVENT_JSON_MAX_BATCH 500
#define PXD_EVENT_JSON_MAX_ITEMS 1000 /* props.content_ids and props.contents */
#define PXD_EVENT_JSON_MAX_DEPTH 32   /* nesting inside props */

struct pxd_jsonw;

/* A parsed body. <batch> is the "batch" array, or NULL for a single event. */
struct pxd_event_json {
	json_t *root;
	json_t *batch;
	size_t n;	    /* number of events */
	bool server_fields; /* set by keyed endpoints: events may carry ip, ua, action_source, to */
};

/*
 * Parses <len> bytes of <body> into <ej>. Returns PXD_REFUSAL_NONE, or
 * PXD_REFUSAL_BAD_JSON with <detail> "line L column C: <jansson's text>"
 * (duplicate keys included), PXD_REFUSAL_BAD_EVENT (not an object, a bad or
 * empty "batch", a key next to "batch") or PXD_REFUSAL_BATCH_TOO_LARGE
 * (more than 500 events). On a refusal nothing is kept and <ej> is zeroed.
 * jansson's text may quote a few bytes of the body back; the detail is for
 * the client that sent them, not for logs.
 */
enum pxd_refusal pxd_event_json_parse(struct pxd_event_json *ej, const char *body, size_t len,
				      char *detail, size_t dlen);

/* pxd_event_json_parse() with at most <max_batch> events in a batch (s2s: 1,000). */
enum pxd_refusal pxd_event_json_parse_n(struct pxd_event_json *ej, const char *body, size_t len,
					size_t max_batch, char *detail, size_t dlen);

/*
 * Fills <ev> (reset first, source beacon) from event <i> (< ej->n) and runs
 * pxd_event_check() at <now_ms>. The views in <ev> point into the parsed
 * tree and stay valid until pxd_event_json_free(); ev->props_json points
 * into <scratch> (<scap> bytes) and stays valid until the next call with the
 * same scratch. props_json is the client's props object in compact form with
 * null members left out and the currency in upper case.
 *
 * Returns PXD_REFUSAL_NONE or PXD_REFUSAL_BAD_EVENT with <detail> naming the
 * field path ("batch[3].user.email: must be a string", "unknown top-level
 * key \"foo\""); unknown keys are quoted, at most 32 bytes, non-printable
 * bytes as '?'. PXD_REFUSAL_INTERNAL when <i> is out of range.
 */
enum pxd_refusal pxd_event_json_get(const struct pxd_event_json *ej, size_t i, int64_t now_ms,
				    struct pxd_event *ev, char *scratch, size_t scap, char *detail,
				    size_t dlen);

/* Writes <v> compactly with <w> (numbers as the pixel path writes them);
 * false when nested deeper than <depth_left> allows. Any thread. */
bool pxd_event_json_write(struct pxd_jsonw *w, json_t *v, unsigned depth_left);

/* Releases the tree (with an arena: on the thread that parsed it, before
 * the arena is reset). Accepts a zeroed or already freed <ej>. */
void pxd_event_json_free(struct pxd_event_json *ej);

#endif
