// SPDX-License-Identifier: MIT
/*
 * Segment's tracking API messages to canonical event objects: the calls, the
 * spec names, what a message requires, and the map itself, with the helpers
 * of segment_map.h for times, context and properties. Builds jansson
 * objects (arena-backed on an ingest thread) that the canonical reader
 * (event_json.c) then checks. Any thread; no state.
 */
#include "segment.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "daemon/event/segment_map.h"

#define NAME_MAX_LEN 64

struct call {
	const char *path;
	const char *type;
};

/* /v1/<long> and analytics.js's short forms. */
static const struct call calls[] = {
	{ "batch", "batch" },	    { "b", "batch" },	 { "track", "track" },	 { "t", "track" },
	{ "page", "page" },	    { "p", "page" },	 { "screen", "screen" }, { "s", "screen" },
	{ "identify", "identify" }, { "i", "identify" }, { "group", "group" },	 { "g", "group" },
	{ "alias", "alias" },	    { "a", "alias" },
};

struct spec_name {
	const char *segment;
	const char *canonical;
};

/* Segment's E-commerce and B2B SaaS spec names with a canonical peer. */
static const struct spec_name spec_names[] = {
	{ "Order Completed", "Purchase" },
	{ "Product Added", "AddToCart" },
	{ "Checkout Started", "InitiateCheckout" },
	{ "Product Viewed", "ViewContent" },
	{ "Product List Viewed", "ViewContent" },
	{ "Products Searched", "Search" },
	{ "Product Added to Wishlist", "AddToWishlist" },
	{ "Payment Info Entered", "AddPaymentInfo" },
	{ "Signed Up", "CompleteRegistration" },
	{ "Account Created", "CompleteRegistration" },
	{ "Trial Started", "StartTrial" },
	{ "Subscription Started", "Subscribe" },
	{ "Lead Generated", "Lead" },
};

const char *pxd_segment_call(const char *path, size_t len)
{
	if (len < 5 || memcmp(path, "/v1/", 4) != 0)
		return NULL;
	path += 4;
	len -= 4;
	for (size_t i = 0; i < ARRAY_SIZE(calls); i++)
		if (strlen(calls[i].path) == len && memcmp(calls[i].path, path, len) == 0)
			return calls[i].type;
	return NULL;
}

const char *pxd_segment_spec_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(spec_names); i++)
		if (!strcmp(spec_names[i].segment, name))
			return spec_names[i].canonical;
	return NULL;
}

/* The message's member <k>, else the envelope's (a batch's sentAt, context). */
json_t *pxd_segment_member(json_t *msg, json_t *env, const char *k)
{
	json_t *v = json_object_get(msg, k);

	if (!v && env != msg)
		v = json_object_get(env, k);
	return v;
}

/* Sets <k> of <obj> to a copy of string or number <v>; other types are left out. */
int pxd_segment_set_text(json_t *obj, const char *k, const json_t *v)
{
	char num[32];

	if (json_is_string(v) && json_string_length(v))
		return json_object_set_new(
		    obj, k, json_stringn(json_string_value(v), json_string_length(v)));
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return json_object_set_new(obj, k, json_string(num));
	}
	return 0;
}

/* The event name: canonical for spec names, else the client's with the
 * bytes the canonical name refuses turned into '_' and cut to 64. */
static json_t *event_name(const char *type, const json_t *event)
{
	char buf[NAME_MAX_LEN + 1];
	const char *s = json_string_value(event);
	const char *canonical;
	size_t n = 0;

	if (!strcmp(type, "page") || !strcmp(type, "screen"))
		return json_string("PageView");
	if (!strcmp(type, "identify"))
		return json_string("Identify");
	if (!strcmp(type, "group"))
		return json_string("Group");
	if (!strcmp(type, "alias"))
		return json_string("Alias");
	canonical = pxd_segment_spec_name(s);
	if (canonical)
		return json_string(canonical);
	for (; s[n] && n < NAME_MAX_LEN; n++) {
		char c = s[n];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == ' ' || c == '.' || c == '-';

		buf[n] = ok ? c : '_';
	}
	buf[n] = '\0';
	return json_string(buf);
}

/* An id Segment accepts: a non-empty string or an integer. */
static bool is_text(const json_t *v)
{
	return (json_is_string(v) && json_string_length(v)) || json_is_integer(v);
}

static enum pxd_refusal required(const char *type, json_t *msg, char *detail, size_t dlen)
{
	if (!is_text(json_object_get(msg, "userId")) &&
	    !is_text(json_object_get(msg, "anonymousId"))) {
		snprintf(detail, dlen, "userId or anonymousId: required; send one of them");
		return PXD_REFUSAL_BAD_EVENT;
	}
	if (!strcmp(type, "track") && !json_is_string(json_object_get(msg, "event"))) {
		snprintf(detail, dlen, "event: required for track; name the event");
		return PXD_REFUSAL_BAD_EVENT;
	}
	if (!strcmp(type, "group") && !is_text(json_object_get(msg, "groupId"))) {
		snprintf(detail, dlen, "groupId: required for group");
		return PXD_REFUSAL_BAD_EVENT;
	}
	if (!strcmp(type, "alias") && !is_text(json_object_get(msg, "previousId"))) {
		snprintf(detail, dlen, "previousId: required for alias");
		return PXD_REFUSAL_BAD_EVENT;
	}
	return PXD_REFUSAL_NONE;
}

/* Known types; "screen" maps like "page". */
static bool known_type(const char *t)
{
	static const char *const types[] = {
		"track", "page", "screen", "identify", "group", "alias"
	};

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcmp(types[i], t))
			return true;
	return false;
}

static int map_user(json_t *ev, json_t *msg, json_t *ctx, const char *type, unsigned *dropped)
{
	json_t *user = json_object();
	int rc = user ? 0 : -ENOMEM;

	if (!rc)
		rc = pxd_segment_set_text(user, "id", json_object_get(msg, "userId"));
	if (!rc)
		rc = pxd_segment_set_text(user, "anon_id", json_object_get(msg, "anonymousId"));
	if (!rc && !strcmp(type, "identify"))
		rc = pxd_segment_map_traits(user, json_object_get(msg, "traits"), dropped);
	if (!rc)
		rc = pxd_segment_map_traits(user, json_object_get(ctx, "traits"), dropped);
	if (!rc && json_object_size(user))
		return json_object_set_new(ev, "user", user);
	json_decref(user);
	return rc;
}

static int map_props(json_t *ev, json_t *msg, const char *type)
{
	json_t *props = json_object();
	json_t *p = json_object_get(msg, "properties");
	int rc = props ? 0 : -ENOMEM;

	if (!rc && json_is_object(p))
		rc = pxd_segment_map_properties(props, p);
	if (!rc && (!strcmp(type, "page") || !strcmp(type, "screen"))) {
		rc = pxd_segment_set_text(props, "name", json_object_get(msg, "name"));
		if (!rc)
			rc = pxd_segment_set_text(props, "category",
						  json_object_get(msg, "category"));
	}
	if (!rc && (!strcmp(type, "identify") || !strcmp(type, "group")) &&
	    json_is_object(json_object_get(msg, "traits")))
		rc = pxd_segment_copy_free(props, json_object_get(msg, "traits"), true);
	if (!rc && !strcmp(type, "group"))
		rc = pxd_segment_set_text(props, "group_id", json_object_get(msg, "groupId"));
	if (!rc && !strcmp(type, "alias"))
		rc = pxd_segment_set_text(props, "previous_id", json_object_get(msg, "previousId"));
	if (!rc && json_object_size(props))
		return json_object_set_new(ev, "props", props);
	json_decref(props);
	return rc;
}

/* Page and referrer: context.page, else a page call's own properties. */
static int map_page(json_t *ev, json_t *msg, json_t *page)
{
	json_t *p = json_object_get(msg, "properties");
	json_t *url = json_object_get(page, "url");
	json_t *ref = json_object_get(page, "referrer");
	int rc;

	rc = pxd_segment_set_text(ev, "url", json_is_string(url) ? url : json_object_get(p, "url"));
	if (!rc)
		rc = pxd_segment_set_text(
		    ev, "referrer", json_is_string(ref) ? ref : json_object_get(p, "referrer"));
	return rc;
}

enum pxd_refusal pxd_segment_map(json_t *msg, const char *type, json_t *env, int64_t received_ms,
				 json_t **out, unsigned *hashed_dropped, char *detail, size_t dlen)
{
	json_t *ctx, *page, *ev;
	enum pxd_refusal r;
	int64_t ts;
	int rc = 0;

	*out = NULL;
	if (!json_is_object(msg)) {
		snprintf(detail, dlen, "message: must be an object");
		return PXD_REFUSAL_BAD_EVENT;
	}
	if (!type)
		type = json_string_value(json_object_get(msg, "type"));
	if (!type || !known_type(type)) {
		snprintf(detail, dlen, "type: use track, page, screen, identify, group or alias");
		return PXD_REFUSAL_BAD_EVENT;
	}
	r = required(type, msg, detail, dlen);
	if (r)
		return r;
	ctx = pxd_segment_member(msg, env, "context");
	page = json_object_get(ctx, "page");
	ev = json_object();
	if (!ev)
		return PXD_REFUSAL_INTERNAL;
	rc |= json_object_set_new(ev, "event", event_name(type, json_object_get(msg, "event")));
	rc |= pxd_segment_set_text(ev, "event_id", json_object_get(msg, "messageId"));
	if (pxd_segment_event_ts(msg, env, received_ms, &ts))
		rc |= json_object_set_new(ev, "ts", json_integer(ts));
	rc |= map_page(ev, msg, page);
	rc |= pxd_segment_set_text(ev, "ip", json_object_get(ctx, "ip"));
	rc |= pxd_segment_set_text(ev, "ua", json_object_get(ctx, "userAgent"));
	rc |= map_user(ev, msg, ctx, type, hashed_dropped);
	rc |= pxd_segment_map_clicks(ev, ctx, page, received_ms);
	rc |= map_props(ev, msg, type);
	rc |= pxd_segment_map_consent(ev, ctx);
	rc |= pxd_segment_map_integrations(ev, pxd_segment_member(msg, env, "integrations"));
	if (rc) {
		json_decref(ev);
		snprintf(detail, dlen, "out of memory for this message");
		return PXD_REFUSAL_INTERNAL;
	}
	*out = ev;
	return PXD_REFUSAL_NONE;
}
