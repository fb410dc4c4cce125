/* SPDX-License-Identifier: MIT */
/*
 * segment.h - Segment's HTTP tracking API to the canonical event: one
 * message (track, page, screen, identify, group, alias) of a /v1/ call
 * becomes the canonical event object that event_json.h reads, so every rule
 * of the canonical event (limits, PII hashing, props types) applies to it
 * unchanged. Owns no state: the objects come from jansson, which on an
 * ingest thread allocates from its arena. Any thread.
 *
 * The mapping (README.md "Segment-compatible API" has it as a table):
 * messageId -> event_id; anonymousId -> user.anon_id; userId -> user.id;
 * ts = receivedAt - (sentAt - originalTimestamp|timestamp) (Segment's clock
 * skew correction), the client's time alone without sentAt; context.ip,
 * .userAgent, .page.url, .page.referrer -> ip, ua, url, referrer; click ids
 * from context.campaign and the page URL's query (fbclid -> click.fbc);
 * context.traits (and identify's traits) -> user fields, hashed downstream
 * (the *_sha256 traits a sending pixeld writes are hashed already: kept as
 * they are when 64 lowercase hex, else left out);
 * properties -> props (value <- value|revenue|total, currency, order_id <-
 * order_id|orderId, products -> contents/content_ids); ecommerce spec names
 * -> canonical names; page/screen -> PageView; identify/group/alias ->
 * Identify/Group/Alias. Unknown fields are kept in props or ignored.
 */
#ifndef PXD_SEGMENT_H
#define PXD_SEGMENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "refusal.h"

#define PXD_SEGMENT_MAX_MESSAGE (32u * 1024u) /* Segment's limit per message */
#define PXD_SEGMENT_MAX_BATCH (500u * 1024u)  /* Segment's limit per batch request */

/*
 * Returns the message type a /v1/ path names ("/v1/track" or "/v1/t" ->
 * "track", ...), "batch" for /v1/batch and /v1/b, or NULL for any other.
 */
const char *pxd_segment_call(const char *path, size_t len);

/* Returns the canonical name of Segment event name <name> ("Order Completed"
 * -> "Purchase"), or NULL when it is not one of the spec names mapped. */
const char *pxd_segment_spec_name(const char *name);

/*
 * Maps message <msg> into a new canonical event object in <*out> (the
 * caller decrefs it). <type> is the call's type, or NULL to read msg.type
 * (a batch item). <env> is the request body (sentAt and context of a batch
 * apply to its messages when they have none), <received_ms> the arrival.
 * Adds to <*hashed_dropped> the *_sha256 traits left out because they were
 * not 64 lowercase hex (the message is mapped without them).
 * Returns PXD_REFUSAL_NONE, PXD_REFUSAL_BAD_EVENT with <detail> naming the
 * field ("userId or anonymousId: required"), or PXD_REFUSAL_INTERNAL (no
 * memory). Any thread.
 */
enum pxd_refusal pxd_segment_map(json_t *msg, const char *type, json_t *env, int64_t received_ms,
				 json_t **out, unsigned *hashed_dropped, char *detail, size_t dlen);

/* Parses an ISO 8601 date-time ("2024-05-01T10:00:00.123Z", "+02:00"
 * offsets) into Unix ms. Returns 0 or -EINVAL. */
int pxd_segment_iso_ms(const char *s, int64_t *ms);

#endif
