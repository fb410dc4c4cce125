// SPDX-License-Identifier: MIT
/*
 * amplitude.c - Amplitude HTTP V2 and Batch Event Upload (specs/ad-apis.md
 * §9.10): POST {api_base}/batch (or /2/httpapi with `api = http_v2`) with
 * the api_key in the body and up to 2,000 events. insert_id is the
 * event_id, so Amplitude's 7-day dedup drops what a retry or replay sends
 * twice. A 400 names the events it refused by index: those are
 * dead-lettered and the rest go again at once; a 429 names the throttled
 * events (and the users and devices over their daily quota): the throttled
 * back off, those over quota are dead-lettered for a later replay, and the
 * rest go again at once, so one busy device does not hold back others.
 * Identify goes to the Identify API ({api_base}/identify) and Group to the
 * Group Identify API ({api_base}/groupidentify), form-encoded with the
 * api_key and an identification list; a batch that mixes them with events
 * is sent one API at a time (batch_split.h).
 */
#include "adapter.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/batch_split.h"
#include "analytics.h"
#include "conf.h"
#include "payload.h"
#include "retry.h"

#define PLATFORM "amplitude"
/* §7: no window documented; ten years is a sanity bound. */
#define MAX_AGE_MS (3650 * PXD_PAYLOAD_DAY_MS)
/* §2: a throttled user or device pauses about 30 s; used when the 429
 * names nobody (then the whole destination waits, Retry-After first). */
#define THROTTLE_RETRY_MS 30000u
/* Amplitude's own default for options.min_id_length (§9.10). */
#define MIN_ID_LENGTH_DEFAULT 5
#define ZERO_IDFA "00000000-0000-0000-0000-000000000000"

/* The API an event goes to (batch_split.h keys). */
enum api {
	API_EVENTS = 0,	   /* Batch or HTTP V2: events and page views */
	API_IDENTIFY,	   /* Identify: a user's properties */
	API_GROUPIDENTIFY, /* Group Identify: a group's properties */
	API_COUNT,	   /* number of APIs; keep last */
};

struct amplitude {
	struct pxd_analytics_keyed http; /* first: pxd_analytics_keyed_fini() */
	int min_id_length;
	char identify_url[512];
	char group_url[512];
};

static const char *const conf_keys[] = { "api_base", "api_key", "api", "min_id_length", NULL };

/* Reads <key> (absent: <def>) into <out>; -EINVAL with <err> when it is not
 * one of the NULL-terminated <choices>, quoting them. */
static int key_choice(const struct pxd_dest *dest, const char *conf_path, const char *key,
		      const char *const *choices, char *out, size_t outlen, char *err,
		      size_t errlen)
{
	int line = dest->conf->line;
	int rc = pxd_payload_key(dest, conf_path, key, choices[0], out, outlen, err, errlen);

	for (size_t i = 0; !rc && choices[i]; i++)
		if (strcmp(out, choices[i]) == 0)
			return 0;
	if (!rc) {
		pxd_conf_dest_get(dest->conf, key, &line);
		snprintf(err, errlen, "%s:%d: %s: \"%s\" is not %s or %s", conf_path, line, key,
			 out, choices[0], choices[1]);
	}
	return -EINVAL;
}

static int amplitude_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	static const char *const apis[] = { "batch", "http_v2", NULL };
	static const struct pxd_analytics_init in = {
		.keys = conf_keys,
		.api_base = "https://api2.amplitude.com",
		.path = "",
		.secret_key = "api_key",
		.map_chars = " -.:",
	};
	struct amplitude *a;
	char api[16], min_len[8];
	int line = dest->conf->line;
	char *end;
	long n;
	int rc = pxd_analytics_keyed_init(dest, sizeof(*a), conf_path, &in, err, errlen);

	a = dest->priv;
	if (!rc)
		rc = key_choice(dest, conf_path, "api", apis, api, sizeof(api), err, errlen);
	/* api_base is at most 255 bytes (pxd_analytics_init), a url holds 512. */
	if (!rc) {
		snprintf(a->identify_url, sizeof(a->identify_url), "%.256s/identify", a->http.url);
		snprintf(a->group_url, sizeof(a->group_url), "%.256s/groupidentify", a->http.url);
		strcat(a->http.url, strcmp(api, "batch") == 0 ? "/batch" : "/2/httpapi");
	}
	if (!rc)
		rc = pxd_payload_key(dest, conf_path, "min_id_length", "5", min_len,
				     sizeof(min_len), err, errlen);
	if (!rc) {
		n = strtol(min_len, &end, 10);
		if (*end || n < 1 || n > 64) {
			pxd_conf_dest_get(dest->conf, "min_id_length", &line);
			snprintf(err, errlen,
				 "%s:%d: min_id_length: \"%s\" is not a number from 1 to 64",
				 conf_path, line, min_len);
			rc = -EINVAL;
		}
		a->min_id_length = (int)n;
	}
	return rc;
}

/* An id Amplitude takes (§9.10): long enough, and not the all-zero IDFA. */
static const char *id_ok(const struct amplitude *a, const char *id)
{
	return id && strlen(id) >= (size_t)a->min_id_length && strcmp(id, ZERO_IDFA) ? id : NULL;
}

static const char *user_id(const struct amplitude *a, const json_t *ev)
{
	return id_ok(a, pxd_payload_str(ev, "user", "id"));
}

static const char *device_id(const struct amplitude *a, const json_t *ev)
{
	return id_ok(a, pxd_analytics_anon_id(ev));
}

/* revenue from props.value; price, quantity and productId when the event
 * has exactly one product (Amplitude's revenue fields describe one). */
static int revenue(json_t *e, const json_t *ev)
{
	const json_t *value = pxd_payload_get(ev, "props", "value");
	const json_t *contents = pxd_payload_get(ev, "props", "contents");
	const json_t *c = json_array_size(contents) == 1 ? json_array_get(contents, 0) : NULL;
	int rc = 0;

	if (json_is_number(value))
		rc |= json_object_set(e, "revenue", (json_t *)value);
	if (!rc && json_is_number(json_object_get(c, "price")))
		rc |= json_object_set(e, "price", json_object_get(c, "price"));
	if (!rc && json_is_number(json_object_get(c, "quantity")))
		rc |= json_object_set(e, "quantity", json_object_get(c, "quantity"));
	if (!rc && json_is_string(json_object_get(c, "id")))
		rc |= json_object_set(e, "productId", json_object_get(c, "id"));
	return rc;
}

/* An event's own fields: event_type, event and user properties. */
static int call_fields(struct pxd_dest *dest, json_t *e, const json_t *ev)
{
	json_t *traits, *props;
	int rc;

	props = pxd_analytics_props(ev);
	traits = pxd_analytics_traits(ev);
	rc = !props || !traits;
	if (!rc)
		rc |= pxd_analytics_copy_str(props, "url", ev, NULL, "url");
	if (!rc)
		rc |= pxd_analytics_copy_str(props, "referrer", ev, NULL, "referrer");
	if (!rc)
		rc |= json_object_set_new(
		    e, "event_type",
		    json_string(pxd_payload_event_name(dest, pxd_payload_str(ev, NULL, "event"),
						       NULL, 0, true)));
	if (!rc)
		rc |= json_object_set(e, "event_properties", props);
	if (!rc && json_object_size(traits))
		rc |= json_object_set(e, "user_properties", traits);
	json_decref(props);
	json_decref(traits);
	return rc | revenue(e, ev);
}

static json_t *event(struct pxd_dest *dest, const json_t *ev)
{
	const struct amplitude *a = dest->priv;
	const char *uid = user_id(a, ev);
	const char *did = device_id(a, ev);
	json_t *e =
	    json_pack("{s:I, s:s, s:s}", "time", (json_int_t)pxd_payload_ts_ms(ev), "insert_id",
		      pxd_payload_str(ev, NULL, "event_id"), "platform", "Web");
	int rc = !e;

	if (!rc && uid)
		rc |= json_object_set_new(e, "user_id", json_string(uid));
	if (!rc && did)
		rc |= json_object_set_new(e, "device_id", json_string(did));
	if (!rc)
		rc |= pxd_analytics_copy_str(e, "ip", ev, NULL, "ip");
	if (!rc)
		rc |= call_fields(dest, e, ev);
	if (rc) {
		json_decref(e);
		return NULL;
	}
	return e;
}

static int api(const struct pxd_dest *dest, const struct pxd_batch_item *it)
{
	(void)dest;
	switch (pxd_analytics_kind(it->ev)) {
	case PXD_ANALYTICS_IDENTIFY_CALL:
		return API_IDENTIFY;
	case PXD_ANALYTICS_GROUP_CALL:
		return API_GROUPIDENTIFY;
	default:
		return API_EVENTS;
	}
}

/* Identify: $set the traits and props as the user's properties. */
static json_t *identification(struct pxd_dest *dest, const json_t *ev)
{
	const struct amplitude *a = dest->priv;
	const char *uid = user_id(a, ev);
	const char *did = device_id(a, ev);
	json_t *set = pxd_analytics_identify_traits(ev);
	json_t *e = json_object();
	int rc = !e || !set;

	/* validate() made sure there is one of the two. */
	if (!rc && uid)
		rc |= json_object_set_new(e, "user_id", json_string(uid));
	if (!rc && did)
		rc |= json_object_set_new(e, "device_id", json_string(did));
	if (!rc)
		rc |= json_object_set_new(e, "user_properties", json_pack("{s:O}", "$set", set));
	json_decref(set);
	if (rc) {
		json_decref(e);
		return NULL;
	}
	return e;
}

/* Group: $set the group's traits as its group properties. */
static json_t *group_identification(struct pxd_dest *dest, const json_t *ev)
{
	(void)dest;
	return json_pack("{s:s, s:s, s:{s:o*}}", "group_type", pxd_analytics_group_type(ev),
			 "group_value", pxd_payload_str(ev, "props", "group_id"),
			 "group_properties", "$set", pxd_analytics_props(ev));
}

/* The Identify and Group Identify APIs' form:
 * api_key=<key>&identification=<JSON list>. */
static int build_identify(struct pxd_dest *dest, const struct pxd_batch *b, bool group,
			  struct pxd_request *req)
{
	struct amplitude *a = dest->priv;
	json_t *list = json_array();
	json_t *key = json_string(a->http.key);
	int rc = !list || !key ? -ENOMEM : 0;

	if (!rc)
		rc = pxd_analytics_events(dest, b, group ? group_identification : identification,
					  list);
	if (!rc)
		rc = pxd_payload_url(req, "%s", group ? a->group_url : a->identify_url);
	if (!rc)
		rc = pxd_payload_header(req, "Content-Type: application/x-www-form-urlencoded");
	if (!rc)
		rc = pxd_analytics_form_field(&req->body, "", "api_key", key);
	if (!rc)
		rc = pxd_analytics_form_field(&req->body, "&", "identification", list);
	json_decref(list);
	json_decref(key);
	return rc;
}

/* One API's request: pxd_split_build() hands over events of one kind. */
static int build_one(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct amplitude *a = dest->priv;
	json_t *root = json_pack("{s:s, s:[]}", "api_key", a->http.key, "events");
	int k = b->n ? api(dest, &b->items[0]) : API_EVENTS;
	int rc = 0;

	if (k != API_EVENTS) {
		json_decref(root);
		return build_identify(dest, b, k == API_GROUPIDENTIFY, req);
	}
	if (root && a->min_id_length != MIN_ID_LENGTH_DEFAULT)
		rc = json_object_set_new(root, "options",
					 json_pack("{s:i}", "min_id_length", a->min_id_length))
			 ? -ENOMEM
			 : 0;
	if (!rc)
		rc = pxd_analytics_build(dest, b, root, "events", event, a->http.url, req);
	json_decref(root);
	return rc;
}

static int amplitude_build(struct pxd_dest *dest, const struct pxd_batch *b,
			   struct pxd_request *req)
{
	return pxd_split_build(dest, b, req, api, build_one);
}

static enum pxd_delivery amplitude_validate(struct pxd_dest *dest, const json_t *ev, char *reason,
					    size_t reason_len)
{
	const struct amplitude *a = dest->priv;
	const unsigned kinds = ~(1u << PXD_ANALYTICS_ALIAS_CALL);
	enum pxd_delivery d;

	d = pxd_analytics_check(ev, PLATFORM, kinds, MAX_AGE_MS, 0, reason, reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	if (!user_id(a, ev) && !device_id(a, ev)) {
		snprintf(reason, reason_len,
			 PLATFORM ": needs user_id or device_id of at least %d characters: the "
				  "event has no such user.id, fp_id or user.anon_id "
				  "(min_id_length sets the bound)",
			 a->min_id_length);
		return PXD_DELIVERY_PERMANENT;
	}
	return PXD_DELIVERY_OK;
}

/* Marks the events whose index is in array <idx> with <d> after <delay>,
 * unless an earlier list already gave them an outcome. */
static void mark_indices(const json_t *idx, size_t n, enum pxd_delivery d, uint32_t delay,
			 const char *why, const char *field, bool *set, struct pxd_outcome *out)
{
	const json_t *v;
	size_t i;

	json_array_foreach(idx, i, v)
	{
		json_int_t k = json_integer_value(v);

		if (!json_is_integer(v) || k < 0 || (size_t)k >= n || set[k])
			continue;
		set[k] = true;
		pxd_payload_outcomes(&out[k], 1, d, delay, PLATFORM ": event %lld: %s%s%s",
				     (long long)k, why, field ? " " : "", field ? field : "");
	}
}

/* §2: a 400 lists its events as {field: [index, ...]} objects and arrays. */
static bool classify_400(const struct pxd_batch *b, const json_t *body, bool *set,
			 struct pxd_outcome *out)
{
	static const char *const lists[] = { "events_with_invalid_fields",
					     "events_with_missing_fields" };
	const char *msg = json_string_value(json_object_get(body, "error"));
	bool named = false;
	const char *field;
	json_t *idx;

	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		json_object_foreach(json_object_get(body, lists[l]), field, idx)
		{
			mark_indices(idx, b->n, PXD_DELIVERY_PERMANENT, 0,
				     l ? "missing field" : "invalid field", field, set, out);
		}
	}
	mark_indices(json_object_get(body, "silenced_events"), b->n, PXD_DELIVERY_PERMANENT, 0,
		     "silenced (its device is blocked in the project)", NULL, set, out);
	for (size_t i = 0; i < b->n; i++)
		named |= set[i];
	if (!named)
		pxd_payload_outcomes(out, b->n, PXD_DELIVERY_PERMANENT, 0,
				     PLATFORM ": HTTP 400: %s", msg ? msg : "refused");
	return named;
}

/* True when <ev>'s user or device is a key of <ids>. */
static bool listed(const struct amplitude *a, const json_t *ids, const json_t *ev)
{
	const char *uid = user_id(a, ev);
	const char *did = device_id(a, ev);

	return (uid && json_object_get(ids, uid)) || (did && json_object_get(ids, did));
}

/* §2: a 429 names the throttled events, and the users and devices over
 * their daily quota. With no names the whole request waits. */
static bool classify_429(const struct amplitude *a, const struct pxd_batch *b,
			 const struct pxd_response *resp, const json_t *body, bool *set,
			 struct pxd_outcome *out)
{
	const json_t *qu = json_object_get(body, "exceeded_daily_quota_users");
	const json_t *qd = json_object_get(body, "exceeded_daily_quota_devices");
	bool named = false;

	for (size_t i = 0; i < b->n; i++) {
		if (!listed(a, qu, b->items[i].ev) && !listed(a, qd, b->items[i].ev))
			continue;
		set[i] = true;
		/* 500k a day per id (§1): it would wait hours; the dead
		 * letter keeps it for a replay once the day has turned. */
		pxd_payload_outcomes(&out[i], 1, PXD_DELIVERY_PERMANENT, 0,
				     PLATFORM ": user or device over its daily quota; replay "
					      "it tomorrow (pixelctl dlq replay)");
	}
	/* Throttled events back off on their own (no retry_after: a
	 * Retry-After would hold the whole destination, and the point of
	 * per-device throttling is that the other devices go on). */
	mark_indices(json_object_get(body, "throttled_events"), b->n, PXD_DELIVERY_RETRY, 0,
		     "throttled (over its user's or device's events/s)", NULL, set, out);
	for (size_t i = 0; i < b->n; i++)
		named |= set[i];
	if (!named)
		pxd_payload_outcomes(out, b->n, PXD_DELIVERY_RETRY,
				     resp->retry_after_ms ? resp->retry_after_ms
							  : THROTTLE_RETRY_MS,
				     PLATFORM ": HTTP 429: throttled");
	return named;
}

static void classify_one(struct pxd_dest *dest, const struct pxd_batch *b,
			 const struct pxd_response *resp, struct pxd_outcome *out)
{
	json_t *body;
	bool *set;
	bool named = false;

	/* The Identify APIs answer "success" or a refusal naming nobody
	 * [U]: a 400 over several updates is bisected. */
	if (b->n && api(dest, &b->items[0]) != API_EVENTS) {
		pxd_analytics_classify_whole(PLATFORM, resp, true, out, b->n);
		return;
	}
	body = resp->status == 400 || resp->status == 429 ? pxd_payload_parse_body(resp) : NULL;
	set = body ? calloc(b->n ? b->n : 1, sizeof(*set)) : NULL;

	if (resp->status == 400 && set)
		named = classify_400(b, body, set, out);
	else if (resp->status == 429 && set)
		named = classify_429(dest->priv, b, resp, body, set, out);
	else
		pxd_analytics_classify_whole(PLATFORM, resp, false, out, b->n);
	/* The events a 400 or 429 did not name were not taken: send them
	 * again at once, without them (§2). */
	for (size_t i = 0; named && i < b->n; i++)
		if (!set[i])
			pxd_payload_outcomes(&out[i], 1, PXD_DELIVERY_RETRY, 1,
					     PXD_RETRY_UNSENT PLATFORM
					     ": resent without the events the answer named");
	free(set);
	json_decref(body);
}

static void amplitude_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			       const struct pxd_response *resp, struct pxd_outcome *out)
{
	pxd_split_classify(dest, b, resp, out, api, classify_one, PLATFORM);
}

const struct pxd_adapter pxd_adapter_amplitude = {
	.type = "amplitude",
	.max_events = 2000,
	/* §9.10: HTTP V2 takes under 1 MB (Batch 20 MB); 80% of the smaller
	 * (§10.1) so `api` can switch without resizing batches. */
	.max_bytes = 800 * 1000,
	.flags = PXD_ADAPTER_ANALYTICS,
	.init = amplitude_init,
	.fini = pxd_analytics_keyed_fini,
	.validate = amplitude_validate,
	.build = amplitude_build,
	.classify = amplitude_classify,
};
