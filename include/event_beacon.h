/* SPDX-License-Identifier: MIT */
/*
 * event_beacon.h - beacon bodies (POST /e) to canonical events in one pass:
 * the JSON is read once, straight into a struct pxd_event per event, with no
 * tree and no allocation, and each event is handed to the caller as soon as
 * it is complete. It accepts and refuses exactly what event_json.h does for
 * a beacon (same rules, same details; event_json.h stays the reader of s2s
 * and Segment bodies), except that props keep the client's number text
 * ("1.5e3" stays "1.5e3", where event_json.h writes 1500). Any thread; the
 * ingest thread calls it per request.
 */
#ifndef PXD_EVENT_BEACON_H
#define PXD_EVENT_BEACON_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "refusal.h"

/*
 * Called once per event, in body order, with an event that decoded and
 * passed pxd_event_check(). Returns PXD_REFUSAL_NONE, or a refusal of the
 * event with <detail> (<dlen> bytes; left empty or set).
 */
typedef enum pxd_refusal pxd_event_beacon_fn(void *arg, struct pxd_event *ev, char *detail,
					     size_t dlen);

/*
 * Decodes the <len> bytes of <body>: one event object, or {"batch":[...]}
 * of 1..PXD_EVENT_JSON_MAX_BATCH event objects (event_json.h has the
 * rules). Calls <fn> with <arg> for each event until the first refusal of an
 * event (the decoder's or <fn>'s); the rest of the body is still read, so
 * that a body that is not JSON, or whose shape is wrong, is refused as such
 * even after <fn> has seen some of its events: on any refusal the caller
 * takes back what <fn> did.
 *
 * The events' views point into <body> and, for strings with escapes and for
 * props_json, into <scratch> (<scap> bytes, reused for each event: a view
 * is valid until <fn> returns). A scratch of at least <len> bytes always
 * suffices; with less, an event that does not fit is refused.
 *
 * Returns PXD_REFUSAL_NONE, or, in event_json.h's order of precedence:
 * PXD_REFUSAL_BAD_JSON with jansson's "line L column C: ..." text (asked of
 * jansson only for such a body), PXD_REFUSAL_BAD_EVENT for the body's
 * shape, PXD_REFUSAL_BATCH_TOO_LARGE, or the first event's refusal with its
 * field path ("batch[3].user.email: must be a string"). <detail> is NUL-
 * terminated, cut to <dlen>.
 */
enum pxd_refusal pxd_event_beacon_decode(const char *body, size_t len, int64_t now_ms,
					 char *scratch, size_t scap, pxd_event_beacon_fn *fn,
					 void *arg, char *detail, size_t dlen);

#endif
