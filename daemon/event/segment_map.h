/* SPDX-License-Identifier: MIT */
/*
 * segment_map.h - the pieces of the Segment mapping (segment.h) shared by
 * its files: times (segment_time.c), context, traits, consent and
 * integrations (segment_context.c), properties (segment_props.c). Each
 * builds into a jansson object and returns 0 or -ENOMEM (-1 from jansson).
 * Private to daemon/event/. Any thread; no state.
 */
#ifndef PXD_SEGMENT_MAP_H
#define PXD_SEGMENT_MAP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Returns the message's member <k>, else the envelope's (a batch's sentAt, context). */
json_t *pxd_segment_member(json_t *msg, json_t *env, const char *k);

/* Sets <k> of <obj> to a copy of string or number <v>; other types are left out. */
int pxd_segment_set_text(json_t *obj, const char *k, const json_t *v);

/* Sets <*ts> from originalTimestamp or timestamp, corrected by sentAt;
 * false when the message has no time. */
bool pxd_segment_event_ts(json_t *msg, json_t *env, int64_t received_ms, int64_t *ts);

/* click{} from context.campaign, context.page.search and the page URL. */
int pxd_segment_map_clicks(json_t *ev, json_t *ctx, json_t *page, int64_t received_ms);

/* True when trait <k> is a user field (it goes to user.*, never to props). */
bool pxd_segment_is_user_trait(const char *k);

/* The user fields of <traits> into <user> (a field already set is kept):
 * plain traits, then the *_sha256 ones; adds to <*dropped> the hashed traits
 * left out for not being 64 lowercase hex. */
int pxd_segment_map_traits(json_t *user, const json_t *traits, unsigned *dropped);

/* consent{} from context.consent.categoryPreferences. */
int pxd_segment_map_consent(json_t *ev, json_t *ctx);

/* "to" or "not_to" of <ev> from the integrations object <ints>. */
int pxd_segment_map_integrations(json_t *ev, json_t *ints);

/* The free-form members of <src> into <props>: not the typed keys, nor
 * products, nor (with <traits>) user fields. */
int pxd_segment_copy_free(json_t *props, json_t *src, bool traits);

/* properties <p> into <props>: free-form members and the typed keys. */
int pxd_segment_map_properties(json_t *props, json_t *p);

#endif
