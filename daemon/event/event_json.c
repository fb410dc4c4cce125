// SPDX-License-Identifier: MIT
/*
 * Beacon and s2s JSON bodies to canonical events: one jansson parse, then
 * each event read out with its unknown keys, types and limits refused by
 * field path, and props re-serialized canonically. Any thread; on an ingest
 * thread the tree lives in its arena.
 */
#include "event_json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "jsonw.h"

#define KEY_QUOTE_MAX 32

/* What one pxd_event_json_get() call works on. <at> prefixes every detail:
 * "batch[3]." inside a batch, "" for a single event. */
struct ctx {
	struct pxd_event *ev;
	bool server_fields;
	char at[32];
	char *detail;
	size_t dlen;
};

static enum pxd_refusal refuse(struct ctx *c, const char *fmt, ...) pxd_printf(2, 3);

static enum pxd_refusal refuse(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->detail, c->dlen, "%s", c->at);

	if (n >= 0 && (size_t)n < c->dlen) {
		va_start(ap, fmt);
		vsnprintf(c->detail + n, c->dlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return PXD_REFUSAL_BAD_EVENT;
}

/* A client's key made safe to quote in a detail: cut, non-printables and
 * quote characters as '?'. */
static const char *quote_key(const char *k, char out[KEY_QUOTE_MAX + 4])
{
	size_t i;

	for (i = 0; k[i] && i < KEY_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)k[i];

		out[i] = c < 0x20 || c > 0x7e || c == '"' || c == '\\' ? '?' : (char)c;
	}
	if (k[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

static enum pxd_refusal unknown_key(struct ctx *c, const char *group, const char *k)
{
	char q[KEY_QUOTE_MAX + 4];

	if (!group)
		return refuse(c, "unknown top-level key \"%s\"", quote_key(k, q));
	return refuse(c, "%s: unknown key \"%s\"", group, quote_key(k, q));
}

/* <v> as a string view in <out>; null leaves <out> absent. */
static enum pxd_refusal get_string(struct ctx *c, const char *group, const char *name,
				   const json_t *v, struct pxd_sv *out)
{
	if (json_is_null(v))
		return PXD_REFUSAL_NONE;
	if (!json_is_string(v))
		return refuse(c, "%s%s%s: must be a string", group ? group : "", group ? "." : "",
			      name);
	*out = pxd_sv_make(json_string_value(v), json_string_length(v));
	return PXD_REFUSAL_NONE;
}

/* Returns the index of <k> in <names>, or -1. */
static int find_name(const struct pxd_sv *names, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i].p, k))
			return (int)i;
	return -1;
}

/* user{} and click{}: objects of known string members. */
static enum pxd_refusal get_strings(struct ctx *c, const char *group, json_t *obj,
				    const struct pxd_sv *names, size_t nnames, struct pxd_sv *dst)
{
	enum pxd_refusal r;

	if (json_is_null(obj))
		return PXD_REFUSAL_NONE;
	if (!json_is_object(obj))
		return refuse(c, "%s: must be an object", group);
	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		const char *k = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it);
		int f = find_name(names, nnames, k);

		if (f < 0)
			return unknown_key(c, group, k);
		r = get_string(c, group, names[f].p, v, &dst[f]);
		if (r)
			return r;
	}
	return PXD_REFUSAL_NONE;
}

static enum pxd_refusal get_consent(struct ctx *c, json_t *obj)
{
	if (json_is_null(obj))
		return PXD_REFUSAL_NONE;
	if (!json_is_object(obj))
		return refuse(c, "consent: must be an object");
	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		const char *k = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it);
		int f = find_name(pxd_event_consent_names, PXD_CONSENT_FIELD_COUNT, k);

		if (f < 0)
			return unknown_key(c, "consent", k);
		if (json_is_null(v))
			continue;
		/* anything but the two words is refused by pxd_event_check */
		c->ev->consent[f] =
		    json_is_string(v) ? pxd_event_consent_parse(pxd_sv_make(json_string_value(v),
									    json_string_length(v)))
				      : PXD_CONSENT_INVALID;
	}
	return PXD_REFUSAL_NONE;
}

static bool is_nonneg_integer(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

static bool is_nonneg_number(const json_t *v)
{
	return json_is_number(v) && json_number_value(v) >= 0;
}

static enum pxd_refusal check_content_ids(struct ctx *c, const json_t *v)
{
	size_t n = json_array_size(v);

	if (!json_is_array(v) || n > PXD_EVENT_JSON_MAX_ITEMS)
		return refuse(c, "props.content_ids: must be an array of at most %d strings",
			      PXD_EVENT_JSON_MAX_ITEMS);
	for (size_t i = 0; i < n; i++)
		if (!json_is_string(json_array_get(v, i)))
			return refuse(c, "props.content_ids[%zu]: must be a string", i);
	return PXD_REFUSAL_NONE;
}

static enum pxd_refusal check_contents(struct ctx *c, const json_t *v)
{
	size_t n = json_array_size(v);

	if (!json_is_array(v) || n > PXD_EVENT_JSON_MAX_ITEMS)
		return refuse(c, "props.contents: must be an array of at most %d objects",
			      PXD_EVENT_JSON_MAX_ITEMS);
	for (size_t i = 0; i < n; i++) {
		const json_t *item = json_array_get(v, i);
		const json_t *m;

		if (!json_is_object(item))
			return refuse(c, "props.contents[%zu]: must be an object", i);
		if (!json_is_string(json_object_get(item, "id")))
			return refuse(c, "props.contents[%zu].id: must be a string", i);
		m = json_object_get(item, "quantity");
		if (m && !json_is_null(m) && !is_nonneg_integer(m))
			return refuse(
			    c, "props.contents[%zu].quantity: must be a non-negative integer", i);
		m = json_object_get(item, "price");
		if (m && !json_is_null(m) && !is_nonneg_number(m))
			return refuse(c, "props.contents[%zu].price: must be a non-negative number",
				      i);
	}
	return PXD_REFUSAL_NONE;
}

/* The typed members of props; the rest is free-form. */
static enum pxd_refusal check_props(struct ctx *c, json_t *props)
{
	struct pxd_event *ev = c->ev;
	enum pxd_refusal r = PXD_REFUSAL_NONE;

	for (void *it = json_object_iter(props); it; it = json_object_iter_next(props, it)) {
		const char *k = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it);

		if (json_is_null(v))
			continue;
		if (!strcmp(k, "value")) {
			if (!is_nonneg_number(v))
				return refuse(c, "props.value: must be a non-negative number");
			ev->value = json_number_value(v);
			ev->has_value = true;
		} else if (!strcmp(k, "currency")) {
			r = get_string(c, "props", k, v, &ev->currency);
		} else if (!strcmp(k, "order_id")) {
			r = get_string(c, "props", k, v, &ev->order_id);
		} else if (!strcmp(k, "content_ids")) {
			r = check_content_ids(c, v);
		} else if (!strcmp(k, "contents")) {
			r = check_contents(c, v);
		} else if (!strcmp(k, "num_items")) {
			if (!is_nonneg_integer(v))
				return refuse(c, "props.num_items: must be a non-negative integer");
		}
		if (r)
			return r;
	}
	return PXD_REFUSAL_NONE;
}

bool pxd_event_json_write(struct pxd_jsonw *w, json_t *v, unsigned depth_left)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (!depth_left)
			return false;
		pxd_jsonw_object_begin(w);
		for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
			const char *k = json_object_iter_key(it);
			json_t *m = json_object_iter_value(it);

			pxd_jsonw_key(w, k, strlen(k));
			if (!pxd_event_json_write(w, m, depth_left - 1))
				return false;
		}
		pxd_jsonw_object_end(w);
		break;
	case JSON_ARRAY:
		if (!depth_left)
			return false;
		pxd_jsonw_array_begin(w);
		for (size_t i = 0; i < json_array_size(v); i++)
			if (!pxd_event_json_write(w, json_array_get(v, i), depth_left - 1))
				return false;
		pxd_jsonw_array_end(w);
		break;
	case JSON_STRING:
		pxd_jsonw_string(w, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		pxd_jsonw_int(w, json_integer_value(v));
		break;
	case JSON_REAL:
		pxd_jsonw_double(w, json_real_value(v));
		break;
	case JSON_TRUE:
		pxd_jsonw_bool(w, true);
		break;
	case JSON_FALSE:
		pxd_jsonw_bool(w, false);
		break;
	case JSON_NULL:
		pxd_jsonw_null(w);
		break;
	}
	return true;
}

/*
 * Re-serializes props into <scratch>: compact, null members of the top level
 * left out, a 3-letter currency upper-cased. Our writer rather than
 * json_dumpb() so numbers come out as in the pixel path ("99.99", where
 * jansson writes 99.989999999999995).
 */
static enum pxd_refusal write_props(struct ctx *c, json_t *props, char *scratch, size_t scap)
{
	struct pxd_jsonw w;
	ssize_t n;

	pxd_jsonw_init(&w, scratch, scap);
	pxd_jsonw_object_begin(&w);
	for (void *it = json_object_iter(props); it; it = json_object_iter_next(props, it)) {
		const char *k = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it);
		const char *s = json_string_value(v);

		if (json_is_null(v))
			continue;
		pxd_jsonw_key(&w, k, strlen(k));
		if (!strcmp(k, "currency") && json_string_length(v) == 3) {
			char up[3];

			for (int i = 0; i < 3; i++)
				up[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];
			pxd_jsonw_string(&w, up, 3);
		} else if (!pxd_event_json_write(&w, v, PXD_EVENT_JSON_MAX_DEPTH - 1)) {
			return refuse(c, "props: nested deeper than %d levels",
				      PXD_EVENT_JSON_MAX_DEPTH);
		}
	}
	pxd_jsonw_object_end(&w);
	n = pxd_jsonw_finish(&w);
	if (n < 0)
		return refuse(c, "props: larger than %zu bytes once serialized; send less",
			      scap ? scap - 1 : 0);
	c->ev->props_json = pxd_sv_make(scratch, (size_t)n);
	return PXD_REFUSAL_NONE;
}

static enum pxd_refusal get_props(struct ctx *c, json_t *props, char *scratch, size_t scap)
{
	enum pxd_refusal r;

	if (json_is_null(props))
		return PXD_REFUSAL_NONE;
	if (!json_is_object(props))
		return refuse(c, "props: must be an object");
	r = check_props(c, props);
	if (r)
		return r;
	return write_props(c, props, scratch, scap);
}

/* "to" or "not_to" (<except>): an array of destination type names (event.h). */
static enum pxd_refusal get_to(struct ctx *c, const char *k, const json_t *v, bool except)
{
	if (json_is_null(v))
		return PXD_REFUSAL_NONE;
	if (!json_is_array(v) || (c->ev->has_to && c->ev->to_except != except))
		return refuse(c, "%s: must be an array of destination types, and not beside %s", k,
			      except ? "to" : "not_to");
	c->ev->has_to = true;
	c->ev->to_except = except;
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *t = json_array_get(v, i);
		int f = json_is_string(t) ? find_name(pxd_event_to_names, PXD_EVENT_TO_COUNT,
						      json_string_value(t))
					  : -1;

		if (f < 0)
			return refuse(c,
				      "%s[%zu]: use meta, ga4, google_ads, tiktok, webhook, "
				      "segment, amplitude, mixpanel or posthog",
				      k, i);
		c->ev->to |= 1u << f;
	}
	return PXD_REFUSAL_NONE;
}

/* What a server may set and a browser may not (s2s, Segment's context). */
static enum pxd_refusal get_server_member(struct ctx *c, const char *k, json_t *v)
{
	struct pxd_event *ev = c->ev;
	unsigned char addr[16];
	char text[64];
	enum pxd_refusal r;

	if (!strcmp(k, "ip")) {
		r = get_string(c, NULL, k, v, &ev->ip);
		if (r || !ev->ip.n)
			return r;
		if (ev->ip.n >= sizeof(text))
			return refuse(c, "ip: not an IPv4 or IPv6 address");
		memcpy(text, ev->ip.p, ev->ip.n);
		text[ev->ip.n] = '\0';
		if (inet_pton(AF_INET, text, addr) != 1 && inet_pton(AF_INET6, text, addr) != 1)
			return refuse(c, "ip: not an IPv4 or IPv6 address");
		return PXD_REFUSAL_NONE;
	}
	if (!strcmp(k, "ua"))
		return get_string(c, NULL, k, v, &ev->user_agent);
	if (!strcmp(k, "action_source"))
		return get_string(c, NULL, k, v, &ev->action_source);
	if (!strcmp(k, "to") || !strcmp(k, "not_to"))
		return get_to(c, k, v, k[0] == 'n');
	return unknown_key(c, NULL, k);
}

static enum pxd_refusal get_member(struct ctx *c, const char *k, json_t *v, char *scratch,
				   size_t scap)
{
	struct pxd_event *ev = c->ev;

	if (!strcmp(k, "event"))
		return get_string(c, NULL, k, v, &ev->name);
	if (!strcmp(k, "event_id"))
		return get_string(c, NULL, k, v, &ev->event_id);
	if (!strcmp(k, "ts")) {
		if (json_is_null(v))
			return PXD_REFUSAL_NONE;
		if (!json_is_integer(v))
			return refuse(c, "ts: must be an integer (Unix milliseconds)");
		ev->ts = json_integer_value(v);
		ev->has_ts = true;
		return PXD_REFUSAL_NONE;
	}
	if (!strcmp(k, "url"))
		return get_string(c, NULL, k, v, &ev->url);
	if (!strcmp(k, "referrer"))
		return get_string(c, NULL, k, v, &ev->referrer);
	if (!strcmp(k, "user"))
		return get_strings(c, "user", v, pxd_event_user_names, PXD_USER_FIELD_COUNT,
				   ev->user);
	if (!strcmp(k, "click"))
		return get_strings(c, "click", v, pxd_event_click_names, PXD_CLICK_FIELD_COUNT,
				   ev->click);
	if (!strcmp(k, "consent"))
		return get_consent(c, v);
	if (!strcmp(k, "props"))
		return get_props(c, v, scratch, scap);
	if (c->server_fields)
		return get_server_member(c, k, v);
	return unknown_key(c, NULL, k);
}

enum pxd_refusal pxd_event_json_parse(struct pxd_event_json *ej, const char *body, size_t len,
				      char *detail, size_t dlen)
{
	return pxd_event_json_parse_n(ej, body, len, PXD_EVENT_JSON_MAX_BATCH, detail, dlen);
}

enum pxd_refusal pxd_event_json_parse_n(struct pxd_event_json *ej, const char *body, size_t len,
					size_t max_batch, char *detail, size_t dlen)
{
	json_error_t jerr;
	json_t *batch;

	memset(ej, 0, sizeof(*ej));
	ej->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!ej->root) {
		snprintf(detail, dlen, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return PXD_REFUSAL_BAD_JSON;
	}
	if (!json_is_object(ej->root)) {
		snprintf(detail, dlen,
			 "body: must be a JSON object: one event, or {\"batch\":[...]}");
		goto bad_event;
	}
	batch = json_object_get(ej->root, "batch");
	if (!batch) {
		ej->n = 1;
		return PXD_REFUSAL_NONE;
	}
	if (json_object_size(ej->root) != 1) {
		snprintf(detail, dlen, "body: \"batch\" must be the only top-level key");
		goto bad_event;
	}
	if (!json_is_array(batch) || !json_array_size(batch)) {
		snprintf(detail, dlen, "batch: must be an array of 1..%zu events", max_batch);
		goto bad_event;
	}
	if (json_array_size(batch) > max_batch) {
		snprintf(detail, dlen, "batch: %zu events; send at most %zu per request",
			 json_array_size(batch), max_batch);
		pxd_event_json_free(ej);
		return PXD_REFUSAL_BATCH_TOO_LARGE;
	}
	ej->batch = batch;
	ej->n = json_array_size(batch);
	return PXD_REFUSAL_NONE;

bad_event:
	pxd_event_json_free(ej);
	return PXD_REFUSAL_BAD_EVENT;
}

enum pxd_refusal pxd_event_json_get(const struct pxd_event_json *ej, size_t i, int64_t now_ms,
				    struct pxd_event *ev, char *scratch, size_t scap, char *detail,
				    size_t dlen)
{
	struct ctx c = {
		.ev = ev, .server_fields = ej->server_fields, .detail = detail, .dlen = dlen
	};
	json_t *obj = ej->batch ? json_array_get(ej->batch, i) : ej->root;
	enum pxd_refusal r;

	pxd_event_reset(ev);
	ev->source = PXD_EVENT_SOURCE_BEACON;
	if (i >= ej->n || !obj) {
		snprintf(detail, dlen, "event %zu: out of range (%zu events)", i, ej->n);
		return PXD_REFUSAL_INTERNAL;
	}
	if (ej->batch) {
		snprintf(c.at, sizeof(c.at), "batch[%zu]", i);
		if (!json_is_object(obj))
			return refuse(&c, ": must be an object");
		strcat(c.at, ".");
	}
	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		const char *k = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it);

		r = get_member(&c, k, v, scratch, scap);
		if (r)
			return r;
	}
	r = pxd_event_check(ev, now_ms, detail, dlen);
	if (r && c.at[0]) {
		char inner[256];

		snprintf(inner, sizeof(inner), "%s", detail);
		return refuse(&c, "%s", inner);
	}
	return r;
}

void pxd_event_json_free(struct pxd_event_json *ej)
{
	json_decref(ej->root);
	memset(ej, 0, sizeof(*ej));
}
