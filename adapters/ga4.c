// SPDX-License-Identifier: MIT
/*
 * ga4.c - GA4 Measurement Protocol (specs/ad-apis.md §9.2): POST
 * {api_base}/mp/collect?measurement_id=..&api_secret=.. with up to 25 events.
 * One request speaks for one client (client_id, user_id, consent and
 * user_data sit at the top of the body), so a request carries only the
 * events of the batch's first client; the others come back as "unsent:"
 * retries due at once and lead the next batch. GA4 answers 2xx to anything
 * it can parse (§2); `validate = true` sends to /debug/mp/collect instead and
 * logs its validation messages, for set-up.
 */
#include "adapter.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/payload_json.h"
#include "adapters/payload_line.h"
#include "daemon.h"
#include "event_line.h"
#include "log.h"
#include "payload.h"
#include "retry.h"

#define PLATFORM "ga4"
/* §7: backdating up to 72 h, less a margin for queueing. */
#define MAX_AGE_MS (72 * 3600 * 1000LL - 3600 * 1000LL)
/* §9.2 limits. */
#define MAX_PARAMS 25
#define MAX_NAME 40
#define MAX_PARAM_VALUE 100

struct ga4 {
	char url[1024];
	bool debug;
	struct pxd_buf text; /* field text unescaped (pxd_payload_jv_text()), reused */
};

static const struct pxd_payload_name names[] = {
	{ "PageView", "page_view" },
	{ "ViewContent", "view_item" },
	{ "Search", "search" },
	{ "AddToCart", "add_to_cart" },
	{ "AddToWishlist", "add_to_wishlist" },
	{ "InitiateCheckout", "begin_checkout" },
	{ "AddPaymentInfo", "add_payment_info" },
	{ "Purchase", "purchase" },
	{ "Lead", "generate_lead" },
	{ "CompleteRegistration", "sign_up" },
	/* No recommended GA4 event for these (§8): custom names. */
	{ "Subscribe", "subscribe" },
	{ "StartTrial", "start_trial" },
	{ "Contact", "contact" },
	{ "EmailOpen", "email_open" },
};

/* Names GA4 drops (§9.2), exactly or as a prefix. */
static const char *const reserved[] = { "session_start",   "first_visit", "first_open",
					"user_engagement", "app_remove",  "ad_click" };
static const char *const reserved_prefix[] = { "google_", "ga_", "firebase_" };

static const char *const conf_keys[] = { "api_base", "measurement_id", "api_secret", "validate",
					 NULL };

static int ga4_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	struct ga4 *g = calloc(1, sizeof(*g));
	char base[256], mid[64], secret[256], emid[200], esecret[800];
	int rc;

	if (!g)
		return -ENOMEM;
	dest->priv = g;
	rc = pxd_payload_check_keys(dest, conf_path, conf_keys, true, err, errlen);
	if (!rc)
		rc = pxd_payload_api_base(dest, conf_path, "https://www.google-analytics.com", base,
					  sizeof(base), err, errlen);
	if (!rc)
		rc = pxd_payload_key_shape(
		    dest, conf_path, "measurement_id", "G-", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
		    "a web stream id such as G-ABC123XYZ", mid, sizeof(mid), err, errlen);
	if (!rc)
		rc = pxd_payload_secret(dest, conf_path, "api_secret", secret, sizeof(secret), err,
					errlen);
	if (!rc)
		rc = pxd_payload_bool(dest, conf_path, "validate", false, &g->debug, err, errlen);
	if (!rc)
		rc = pxd_payload_check_map(dest, conf_path, "", err, errlen);
	if (!rc &&
	    (pxd_payload_pct_encode(emid, sizeof(emid), mid) < 0 ||
	     pxd_payload_pct_encode(esecret, sizeof(esecret), secret) < 0 ||
	     snprintf(g->url, sizeof(g->url), "%s%s/mp/collect?measurement_id=%s&api_secret=%s",
		      base, g->debug ? "/debug" : "", emid, esecret) >= (int)sizeof(g->url))) {
		snprintf(err, errlen, "%s:%d: api_secret: too long for a request URL", conf_path,
			 dest->conf->line);
		rc = -EINVAL;
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(esecret, sizeof(esecret));
	return rc;
}

static void ga4_fini(struct pxd_dest *dest)
{
	struct ga4 *g = dest->priv;

	if (g) {
		OPENSSL_cleanse(g->url, sizeof(g->url));
		pxd_buf_free(&g->text);
	}
	free(g);
	dest->priv = NULL;
}

/*
 * The GA client id (§5): the first-party id cookie, else the anonymous id,
 * else "<random>.<seconds>" taken from an fbp-like cookie
 * ("fb.1.<ms>.<random>"). Returns false when the event has none.
 */
static bool client_id(const struct pxd_event_line *el, struct pxd_buf *scratch, char *out,
		      size_t outlen)
{
	const struct pxd_jv *v = &el->top[PXD_LINE_FP_ID];
	const char *fbp;
	unsigned long long ms;
	int pos = 0;

	if (!pxd_jv_is_str(v))
		v = &el->user[PXD_LINE_USER_ANON_ID];
	if (pxd_jv_is_str(v))
		return pxd_jv_unescape(v, out, outlen) > 0;
	fbp = pxd_payload_jv_text(&el->click[PXD_CLICK_FIELD_FBP], scratch);
	if (!fbp || sscanf(fbp, "fb.%*u.%llu.%n", &ms, &pos) != 1 || !pos || !fbp[pos])
		return false;
	return snprintf(out, outlen, "%s.%llu", fbp + pos, ms / 1000) < (int)outlen;
}

static const char *consent_value(const struct pxd_event_line *el, enum pxd_consent_field f)
{
	const struct pxd_jv *v = &el->consent[f];

	return pxd_jv_eq(v, "granted") ? "GRANTED" : pxd_jv_eq(v, "denied") ? "DENIED" : NULL;
}

/* Whether strings <a> and <b> (either may be absent) say the same. */
static bool same_text(const struct pxd_jv *a, const struct pxd_jv *b, struct pxd_buf *scratch)
{
	const char *ta;

	if (!pxd_jv_is_str(a) || !pxd_jv_is_str(b))
		return pxd_jv_is_str(a) == pxd_jv_is_str(b);
	if (!a->escaped && !b->escaped)
		return a->n == b->n && !memcmp(a->p, b->p, a->n);
	ta = pxd_payload_jv_text(a, scratch);
	return ta && pxd_jv_eq(b, ta);
}

/* Events that may share one request: same client, user and consent. <ca>
 * is <a>'s client id (client_id()). */
static bool same_client(const struct pxd_event_line *a, const char *ca,
			const struct pxd_event_line *b, struct pxd_buf *scratch)
{
	static const enum pxd_consent_field keys[] = { PXD_CONSENT_FIELD_AD_USER_DATA,
						       PXD_CONSENT_FIELD_AD_PERSONALIZATION };
	char cb[256];

	if (!client_id(b, scratch, cb, sizeof(cb)) || strcmp(ca, cb))
		return false;
	if (!same_text(&a->user[PXD_LINE_USER_ID], &b->user[PXD_LINE_USER_ID], scratch))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (consent_value(a, keys[i]) != consent_value(b, keys[i]))
			return false;
	return true;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > MAX_NAME || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		if (strcmp(s, reserved[i]) == 0)
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(reserved_prefix); i++)
		if (strncmp(s, reserved_prefix[i], strlen(reserved_prefix[i])) == 0)
			return false;
	return true;
}

/* The GA4 name of line <el>'s event (in <g>'s scratch or the config), NULL
 * when it has none. */
static const char *event_name(struct pxd_dest *dest, const struct pxd_event_line *el)
{
	struct ga4 *g = dest->priv;
	const char *text = pxd_payload_jv_text(&el->top[PXD_LINE_EVENT], &g->text);

	return text ? pxd_payload_event_name(dest, text, names, ARRAY_SIZE(names), true) : NULL;
}

/* Bytes of string <v> unescaped. */
static size_t text_len(const struct pxd_jv *v, struct pxd_buf *scratch)
{
	const char *t = v->escaped ? pxd_payload_jv_text(v, scratch) : NULL;

	return v->escaped ? (t ? strlen(t) : SIZE_MAX) : v->n;
}

/* A custom property GA4 takes: a valid name that is not a standard prop, and
 * a number, boolean or short string. */
static bool param_ok(const struct pxd_jv *k, const struct pxd_jv *v, struct pxd_buf *scratch)
{
	static const char *const standard[] = { "value",    "currency",	   "order_id",
						"contents", "content_ids", "num_items" };
	/* A key that unescapes to 40 bytes or fewer is under 256 escaped. */
	char name[256];

	if (pxd_jv_unescape(k, name, sizeof(name)) < 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(standard); i++)
		if (strcmp(name, standard[i]) == 0)
			return false;
	if (!valid_name(name))
		return false;
	return pxd_jv_is_number(v) || v->type == PXD_JV_TRUE || v->type == PXD_JV_FALSE ||
	       (v->type == PXD_JV_STRING && text_len(v, scratch) <= MAX_PARAM_VALUE);
}

/* The params the event sets before its custom properties, in their order. */
enum fixed {
	FIXED_EVENT_ID = 0,
	FIXED_PAGE_LOCATION,
	FIXED_PAGE_REFERRER,
	FIXED_VALUE,
	FIXED_CURRENCY,
	FIXED_TRANSACTION_ID,
	FIXED_ITEMS,
	FIXED_COUNT,
};

static const char *const fixed_names[FIXED_COUNT] = {
	"event_id", "page_location",  "page_referrer", "value",
	"currency", "transaction_id", "items",
};

/* Which fixed param custom key <k> names, FIXED_COUNT for none. */
static enum fixed fixed_of(const struct pxd_jv *k)
{
	for (int f = 0; f < FIXED_COUNT; f++)
		if (pxd_jv_eq(k, fixed_names[f]))
			return (enum fixed)f;
	return FIXED_COUNT;
}

/* A top-level string cut to MAX_PARAM_VALUE bytes of its text. */
static void cut_str(struct pxd_payload_out *o, const struct pxd_jv *v, struct pxd_buf *scratch)
{
	const char *t = pxd_payload_jv_text(v, scratch);
	size_t n = t ? strlen(t) : 0;

	if (!t) {
		o->err = o->err ? o->err : -ENOMEM;
		return;
	}
	if (n > MAX_PARAM_VALUE) {
		/* Cut at a character, not inside one. */
		n = MAX_PARAM_VALUE;
		while (n && ((unsigned char)t[n] & 0xc0) == 0x80)
			n--;
	}
	pxd_payload_out_str(o, t, n);
}

/*
 * params: the event's own (id, page, value, currency, order, items), then
 * the custom properties GA4 can take while there is room (§9.2: 25 params;
 * what does not fit GA4 would drop anyway). A custom property named like
 * one of the first takes its place, as setting a tree's member again did.
 */
static void event_params(struct pxd_payload_out *o, const struct pxd_event_line *el,
			 struct pxd_buf *scratch)
{
	static const char *const keys[] = { "value", "currency", "order_id", "contents" };
	struct pxd_jv fixed[FIXED_COUNT] = { el->top[PXD_LINE_EVENT_ID], el->top[PXD_LINE_URL],
					     el->top[PXD_LINE_REFERRER] };
	bool custom[FIXED_COUNT] = { false };
	bool has[FIXED_COUNT];
	struct pxd_jv_iter it;
	struct pxd_jv k, v, std[4];
	size_t count = 0, stop = 0;

	pxd_line_props_members(el, keys, 4, std);
	fixed[FIXED_VALUE] = std[0];
	fixed[FIXED_CURRENCY] = std[1];
	fixed[FIXED_TRANSACTION_ID] = std[2];
	fixed[FIXED_ITEMS] = std[3];
	for (int f = 0; f < FIXED_COUNT; f++) {
		has[f] = f <= FIXED_PAGE_REFERRER ? pxd_jv_is_str(&fixed[f])
			 : f == FIXED_VALUE	  ? pxd_jv_is_number(&fixed[f])
			 : f == FIXED_ITEMS	  ? fixed[f].type == PXD_JV_ARRAY
						  : fixed[f].type == PXD_JV_STRING;
		count += has[f];
	}
	/* Which custom properties fit, and which replace a param above. */
	pxd_jv_iter_props(&it, el);
	while (count < MAX_PARAMS && pxd_jv_next(&it, &k, &v)) {
		enum fixed f;

		stop++;
		if (!param_ok(&k, &v, scratch))
			continue;
		f = fixed_of(&k);
		if (f < FIXED_COUNT && has[f]) {
			fixed[f] = v;
			custom[f] = true;
		} else {
			count++;
		}
	}
	pxd_payload_out_key(o, "params");
	pxd_payload_out_open(o, '{');
	for (int f = 0; f < FIXED_COUNT; f++) {
		if (!has[f])
			continue;
		pxd_payload_out_key(o, fixed_names[f]);
		if (custom[f])
			pxd_payload_out_jv(o, &fixed[f]);
		else if (f <= FIXED_PAGE_REFERRER)
			cut_str(o, &fixed[f], scratch);
		else if (f == FIXED_VALUE)
			pxd_payload_out_jv_real(o, &fixed[f]);
		else if (f == FIXED_ITEMS)
			pxd_payload_out_items(o, &fixed[f], "item_id");
		else
			pxd_payload_out_jv(o, &fixed[f]);
	}
	pxd_jv_iter_props(&it, el);
	for (size_t i = 0; i < stop && pxd_jv_next(&it, &k, &v); i++) {
		enum fixed f;

		if (!param_ok(&k, &v, scratch))
			continue;
		f = fixed_of(&k);
		if (f < FIXED_COUNT && has[f])
			continue;
		pxd_payload_out_jv_key(o, &k);
		pxd_payload_out_jv(o, &v);
	}
	pxd_payload_out_close(o, '}');
}

/* A string member of user_data holding the SHA-256 <v> (checked). */
static void hashed_list(struct pxd_payload_out *o, const char *field, const struct pxd_jv *v)
{
	pxd_payload_out_key(o, field);
	pxd_payload_out_open(o, '[');
	pxd_payload_out_jv_str(o, v);
	pxd_payload_out_close(o, ']');
}

/* user_data (§9.2): hashed email (Gmail dots removed) and E.164 phone, names
 * hashed, the rest of the address plain. */
static void user_data(struct pxd_payload_out *o, const struct pxd_event_line *el)
{
	static const struct {
		enum pxd_line_user key;
		const char *field;
	} address[] = {
		{ PXD_LINE_USER_FIRST_NAME_SHA256, "sha256_first_name" },
		{ PXD_LINE_USER_LAST_NAME_SHA256, "sha256_last_name" },
		{ PXD_LINE_USER_CITY, "city" },
		{ PXD_LINE_USER_STATE, "region" },
		{ PXD_LINE_USER_ZIP, "postal_code" },
		{ PXD_LINE_USER_COUNTRY, "country" },
	};
	const struct pxd_jv *em = &el->user[PXD_LINE_USER_EMAIL_GOOGLE_SHA256];
	const struct pxd_jv *ph = &el->user[PXD_LINE_USER_PHONE_E164_SHA256];
	struct pxd_payload_mark empty = pxd_payload_out_mark(o), none;

	if (!pxd_jv_is_str(em))
		em = &el->user[PXD_LINE_USER_EMAIL_SHA256];
	pxd_payload_out_key(o, "user_data");
	pxd_payload_out_open(o, '{');
	if (pxd_payload_jv_is_sha256(em))
		hashed_list(o, "sha256_email_address", em);
	if (pxd_payload_jv_is_sha256(ph))
		hashed_list(o, "sha256_phone_number", ph);
	none = pxd_payload_out_mark(o);
	pxd_payload_out_key(o, "address");
	pxd_payload_out_open(o, '[');
	pxd_payload_out_open(o, '{');
	for (size_t i = 0; i < ARRAY_SIZE(address); i++) {
		const struct pxd_jv *v = &el->user[address[i].key];

		if (pxd_jv_is_str(v) &&
		    (strncmp(address[i].field, "sha256_", 7) != 0 || pxd_payload_jv_is_sha256(v)))
			pxd_payload_out_member(o, address[i].field, v);
	}
	pxd_payload_out_close(o, '}');
	pxd_payload_out_close(o, ']');
	/* An empty address is left out, then an empty user_data. */
	if (!o->err && o->b->len == none.len + strlen("\"address\":[{}]") + none.comma) {
		o->b->len = none.len;
		o->b->p[o->b->len] = '\0';
		o->comma = none.comma;
	}
	pxd_payload_out_close(o, '}');
	pxd_payload_out_drop_empty(o, &empty);
}

/* The top of the body, from the batch's first event <el> and its client id
 * <cid>. */
static void request_head(struct pxd_payload_out *o, const struct pxd_event_line *el,
			 const char *cid)
{
	const struct pxd_jv *uid = &el->user[PXD_LINE_USER_ID];
	const char *aud = consent_value(el, PXD_CONSENT_FIELD_AD_USER_DATA);
	const char *apers = consent_value(el, PXD_CONSENT_FIELD_AD_PERSONALIZATION);

	pxd_payload_out_key(o, "client_id");
	pxd_payload_out_str(o, cid, strlen(cid));
	if (pxd_jv_is_str(uid))
		pxd_payload_out_member(o, "user_id", uid);
	pxd_payload_out_key(o, "timestamp_micros");
	pxd_payload_out_int(o, pxd_event_line_ts(el) * 1000);
	if (aud || apers) {
		pxd_payload_out_key(o, "consent");
		pxd_payload_out_open(o, '{');
		if (aud) {
			pxd_payload_out_key(o, "ad_user_data");
			pxd_payload_out_str(o, aud, strlen(aud));
		}
		if (apers) {
			pxd_payload_out_key(o, "ad_personalization");
			pxd_payload_out_str(o, apers, strlen(apers));
		}
		pxd_payload_out_close(o, '}');
	}
	/* Hashed identifiers only where the user allowed their use for ads. */
	if (!aud || strcmp(aud, "DENIED") != 0)
		user_data(o, el);
}

static int ga4_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct ga4 *g = dest->priv;
	struct pxd_event_line tmp_first, tmp;
	const struct pxd_event_line *first =
	    b->n ? pxd_payload_item_line(&b->items[0], &tmp_first) : NULL;
	struct pxd_payload_out o;
	char cid[256];
	int rc = 0;

	/* A request speaks for the first event's client: without one, none. */
	if (!first || !client_id(first, &g->text, cid, sizeof(cid)))
		return -EINVAL;
	pxd_payload_out_init(&o, &req->body);
	pxd_payload_out_open(&o, '{');
	request_head(&o, first, cid);
	pxd_payload_out_key(&o, "events");
	pxd_payload_out_open(&o, '[');
	for (size_t i = 0; !rc && i < b->n; i++) {
		const struct pxd_event_line *el = pxd_payload_item_line(&b->items[i], &tmp);
		const char *name;

		if (!el) {
			rc = -EINVAL;
			break;
		}
		if (!same_client(first, cid, el, &g->text))
			continue;
		name = event_name(dest, el);
		if (!name) {
			rc = -EINVAL;
			break;
		}
		pxd_payload_out_open(&o, '{');
		pxd_payload_out_key(&o, "name");
		pxd_payload_out_str(&o, name, strlen(name));
		event_params(&o, el, &g->text);
		pxd_payload_out_close(&o, '}');
	}
	pxd_payload_out_close(&o, ']');
	pxd_payload_out_close(&o, '}');
	if (!rc)
		rc = o.err;
	if (!rc)
		rc = pxd_payload_url(req, "%s", g->url);
	if (!rc)
		rc = pxd_payload_header(req, "Content-Type: application/json");
	return rc;
}

static enum pxd_delivery ga4_validate(struct pxd_dest *dest, const struct pxd_event_line *el,
				      char *reason, size_t reason_len)
{
	static const char *const keys[] = { "order_id", "value" };
	struct ga4 *g = dest->priv;
	struct pxd_jv v[2];
	char cid[256];
	const char *event, *name;
	enum pxd_delivery d;

	d = pxd_payload_check_common_line(el, PLATFORM, pxd_now_ms(), MAX_AGE_MS, &g->text, reason,
					  reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	/* check_common made sure there is a name; the text stays in g->text
	 * until the message is written. */
	event = pxd_payload_jv_text(&el->top[PXD_LINE_EVENT], &g->text);
	name = event ? pxd_payload_event_name(dest, event, names, ARRAY_SIZE(names), true) : NULL;
	if (!name) {
		snprintf(reason, reason_len,
			 PLATFORM ": out of memory reading the event name; replay the dead letter");
		return PXD_DELIVERY_PERMANENT;
	}
	if (!valid_name(name)) {
		snprintf(reason, reason_len,
			 PLATFORM ": event name \"%.48s\" is not a GA4 name (letter first, then "
				  "letters, digits, '_'; at most 40; not reserved); set map.%.48s",
			 name, event);
		return PXD_DELIVERY_PERMANENT;
	}
	if (!client_id(el, &g->text, cid, sizeof(cid))) {
		snprintf(reason, reason_len,
			 PLATFORM ": no client id: the event has no fp_id, user.anon_id or "
				  "click.fbp");
		return PXD_DELIVERY_PERMANENT;
	}
	pxd_line_props_members(el, keys, 2, v);
	if (strcmp(name, "purchase") == 0 && (!pxd_jv_is_str(&v[0]) || !v[1].type)) {
		snprintf(reason, reason_len,
			 PLATFORM ": purchase needs props.order_id (transaction_id), props.value "
				  "and props.currency");
		return PXD_DELIVERY_PERMANENT;
	}
	return PXD_DELIVERY_OK;
}

/* /debug/mp/collect answers {"validationMessages":[{fieldPath, description,
 * validationCode}]}; they are for the operator setting the destination up. */
static const char *str_or_dash(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static void log_validation(const struct pxd_dest *dest, const struct pxd_response *resp)
{
	json_t *body = pxd_payload_parse_body(resp);
	json_t *msgs = json_object_get(body, "validationMessages");
	const json_t *m;
	size_t i;

	json_array_foreach(msgs, i, m)
	{
		pxd_log_warn(PLATFORM, "destination %s: validation: %s: %s (%s)", dest->conf->name,
			     str_or_dash(m, "fieldPath"), str_or_dash(m, "description"),
			     str_or_dash(m, "validationCode"));
	}
	if (json_is_array(msgs) && !json_array_size(msgs))
		pxd_log_info(PLATFORM, "destination %s: validation: no messages", dest->conf->name);
	json_decref(body);
}

static void ga4_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			 const struct pxd_response *resp, struct pxd_outcome *out)
{
	struct ga4 *g = dest->priv;
	struct pxd_event_line tmp_first, tmp;
	const struct pxd_event_line *first, *el;
	char cid[256];
	bool has;

	pxd_payload_classify_http(PLATFORM, resp, out, b->n);
	if (g->debug && resp->status >= 200 && resp->status < 300)
		log_validation(dest, resp);
	first = b->n ? pxd_payload_item_line(&b->items[0], &tmp_first) : NULL;
	has = first && client_id(first, &g->text, cid, sizeof(cid));
	for (size_t i = 1; i < b->n; i++) {
		el = pxd_payload_item_line(&b->items[i], &tmp);
		if (has && el && same_client(first, cid, el, &g->text))
			continue;
		/* Not in this request (see the top of the file): due at once. */
		pxd_payload_outcomes(&out[i], 1, PXD_DELIVERY_RETRY, 1,
				     PXD_RETRY_UNSENT PLATFORM
				     ": another client than the batch's first");
	}
}

const struct pxd_adapter pxd_adapter_ga4 = {
	.type = "ga4",
	.max_events = 25,
	/* §9.2: bodies under 130 kB, filled to 80% (§10.1). */
	.max_bytes = 104 * 1000,
	.flags = PXD_ADAPTER_READS_LINE,
	.init = ga4_init,
	.fini = ga4_fini,
	.validate = pxd_payload_validate_tree,
	.validate_line = ga4_validate,
	.build = ga4_build,
	.classify = ga4_classify,
};
