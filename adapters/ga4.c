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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
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
	memset(secret, 0, sizeof(secret));
	memset(esecret, 0, sizeof(esecret));
	return rc;
}

static void ga4_fini(struct pxd_dest *dest)
{
	struct ga4 *g = dest->priv;

	if (g)
		memset(g->url, 0, sizeof(g->url));
	free(g);
	dest->priv = NULL;
}

/*
 * The GA client id (§5): the first-party id cookie, else the anonymous id,
 * else "<random>.<seconds>" taken from an fbp-like cookie
 * ("fb.1.<ms>.<random>"). Returns false when the event has none.
 */
static bool client_id(const json_t *ev, char *out, size_t outlen)
{
	const char *v = pxd_payload_str(ev, NULL, "fp_id");
	const char *fbp;
	unsigned long long ms;
	int pos = 0;

	if (!v)
		v = pxd_payload_str(ev, "user", "anon_id");
	if (v)
		return snprintf(out, outlen, "%s", v) < (int)outlen;
	fbp = pxd_payload_str(ev, "click", "fbp");
	if (!fbp || sscanf(fbp, "fb.%*u.%llu.%n", &ms, &pos) != 1 || !pos || !fbp[pos])
		return false;
	return snprintf(out, outlen, "%s.%llu", fbp + pos, ms / 1000) < (int)outlen;
}

static const char *consent_value(const json_t *ev, const char *key)
{
	const char *v = pxd_payload_str(ev, "consent", key);

	if (!v)
		return NULL;
	return strcmp(v, "granted") == 0 ? "GRANTED" : strcmp(v, "denied") == 0 ? "DENIED" : NULL;
}

/* Events that may share one request: same client, user and consent. */
static bool same_client(const json_t *a, const json_t *b)
{
	static const char *const keys[] = { "ad_user_data", "ad_personalization" };
	char ca[256], cb[256];
	const char *ua, *ub;

	if (!client_id(a, ca, sizeof(ca)) || !client_id(b, cb, sizeof(cb)) || strcmp(ca, cb))
		return false;
	ua = pxd_payload_str(a, "user", "id");
	ub = pxd_payload_str(b, "user", "id");
	if ((ua || ub) && (!ua || !ub || strcmp(ua, ub) != 0))
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

static const char *event_name(struct pxd_dest *dest, const json_t *ev)
{
	return pxd_payload_event_name(dest, pxd_payload_str(ev, NULL, "event"), names,
				      ARRAY_SIZE(names), true);
}

static int add_items(json_t *params, const json_t *contents)
{
	json_t *items = json_array();
	const json_t *c;
	size_t i;
	int rc = !items;

	json_array_foreach(contents, i, c)
	{
		json_t *item = json_object();
		json_t *id = json_object_get(c, "id");

		rc |= !item || json_array_append_new(items, item);
		if (rc)
			break;
		if (json_is_string(id))
			rc |= json_object_set(item, "item_id", id);
		if (json_is_number(json_object_get(c, "quantity")))
			rc |= json_object_set(item, "quantity", json_object_get(c, "quantity"));
		if (json_is_number(json_object_get(c, "price")))
			rc |= json_object_set_new(
			    item, "price",
			    json_real(json_number_value(json_object_get(c, "price"))));
	}
	return rc | json_object_set_new(params, "items", items);
}

static bool param_ok(const char *k, const json_t *v)
{
	static const char *const standard[] = { "value",    "currency",	   "order_id",
						"contents", "content_ids", "num_items" };

	for (size_t i = 0; i < ARRAY_SIZE(standard); i++)
		if (strcmp(k, standard[i]) == 0)
			return false;
	if (!valid_name(k))
		return false;
	return json_is_number(v) || json_is_boolean(v) ||
	       (json_is_string(v) && json_string_length(v) <= MAX_PARAM_VALUE);
}

static json_t *event_params(const json_t *ev)
{
	static const struct {
		const char *key;
		const char *param;
	} top[] = { { "event_id", "event_id" },
		    { "url", "page_location" },
		    { "referrer", "page_referrer" } };
	json_t *p = json_object();
	json_t *props = json_object_get(ev, "props");
	const char *k;
	json_t *v;
	int rc = !p;

	for (size_t i = 0; !rc && i < ARRAY_SIZE(top); i++) {
		const char *s = pxd_payload_str(ev, NULL, top[i].key);

		if (s)
			rc |= json_object_set_new(
			    p, top[i].param, json_stringn(s, PXD_MIN(strlen(s), MAX_PARAM_VALUE)));
	}
	if (!rc && json_is_number(v = json_object_get(props, "value")))
		rc |= json_object_set_new(p, "value", json_real(json_number_value(v)));
	if (!rc && json_is_string(v = json_object_get(props, "currency")))
		rc |= json_object_set(p, "currency", v);
	if (!rc && json_is_string(v = json_object_get(props, "order_id")))
		rc |= json_object_set(p, "transaction_id", v);
	if (!rc && json_is_array(v = json_object_get(props, "contents")))
		rc |= add_items(p, v);
	/* Custom properties GA4 can take, while there is room (§9.2: 25
	 * params; what does not fit GA4 would drop anyway). */
	json_object_foreach(props, k, v)
	{
		if (rc || json_object_size(p) >= MAX_PARAMS)
			break;
		if (param_ok(k, v))
			rc |= json_object_set(p, k, v);
	}
	if (rc) {
		json_decref(p);
		return NULL;
	}
	return p;
}

static int set_hashed_list(json_t *o, const char *field, const char *hex)
{
	return json_object_set_new(o, field, json_pack("[s]", hex));
}

/* user_data (§9.2): hashed email (Gmail dots removed) and E.164 phone, names
 * hashed, the rest of the address plain. */
static json_t *user_data(const json_t *ev)
{
	static const struct {
		const char *key;
		const char *field;
	} address[] = {
		{ "first_name_sha256", "sha256_first_name" },
		{ "last_name_sha256", "sha256_last_name" },
		{ "city", "city" },
		{ "state", "region" },
		{ "zip", "postal_code" },
		{ "country", "country" },
	};
	json_t *u = json_object();
	json_t *addr = json_object();
	const char *em = pxd_payload_str(ev, "user", "email_google_sha256");
	const char *ph = pxd_payload_str(ev, "user", "phone_e164_sha256");
	int rc = !u || !addr;

	if (!em)
		em = pxd_payload_str(ev, "user", "email_sha256");
	if (!rc && em && pxd_payload_is_sha256(em))
		rc |= set_hashed_list(u, "sha256_email_address", em);
	if (!rc && ph && pxd_payload_is_sha256(ph))
		rc |= set_hashed_list(u, "sha256_phone_number", ph);
	for (size_t i = 0; !rc && i < ARRAY_SIZE(address); i++) {
		const char *v = pxd_payload_str(ev, "user", address[i].key);

		if (v && (strncmp(address[i].field, "sha256_", 7) != 0 || pxd_payload_is_sha256(v)))
			rc |= json_object_set_new(addr, address[i].field, json_string(v));
	}
	if (!rc && json_object_size(addr))
		rc |= json_object_set_new(u, "address", json_pack("[O]", addr));
	json_decref(addr);
	if (rc) {
		json_decref(u);
		return NULL;
	}
	return u;
}

/* The top of the body, from the batch's first event. */
static json_t *request_head(const json_t *ev)
{
	char cid[256];
	const char *uid = pxd_payload_str(ev, "user", "id");
	const char *aud = consent_value(ev, "ad_user_data");
	const char *apers = consent_value(ev, "ad_personalization");
	json_t *root;
	json_t *u = NULL;
	int rc;

	if (!client_id(ev, cid, sizeof(cid)))
		return NULL;
	root = json_pack("{s:s}", "client_id", cid);
	rc = !root;
	if (!rc && uid)
		rc |= json_object_set_new(root, "user_id", json_string(uid));
	if (!rc)
		rc |= json_object_set_new(root, "timestamp_micros",
					  json_integer(pxd_payload_ts_ms(ev) * 1000));
	if (!rc && (aud || apers)) {
		json_t *c = json_object();

		rc |= !c || json_object_set_new(root, "consent", c);
		if (!rc && aud)
			rc |= json_object_set_new(c, "ad_user_data", json_string(aud));
		if (!rc && apers)
			rc |= json_object_set_new(c, "ad_personalization", json_string(apers));
	}
	/* Hashed identifiers only where the user allowed their use for ads. */
	if (!rc && (!aud || strcmp(aud, "DENIED") != 0)) {
		u = user_data(ev);
		rc |= !u;
		if (!rc && json_object_size(u))
			rc |= json_object_set(root, "user_data", u);
	}
	json_decref(u);
	if (rc) {
		json_decref(root);
		return NULL;
	}
	return root;
}

static int ga4_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct ga4 *g = dest->priv;
	const json_t *first = b->n ? b->items[0].ev : NULL;
	json_t *root = first ? request_head(first) : NULL;
	json_t *events = json_array();
	int rc = !root || !events || json_object_set(root, "events", events) ? -EINVAL : 0;

	for (size_t i = 0; !rc && i < b->n; i++) {
		const json_t *ev = b->items[i].ev;
		json_t *p;

		if (!ev) {
			rc = -EINVAL;
			break;
		}
		if (!same_client(first, ev))
			continue;
		p = event_params(ev);
		rc = !p || json_array_append_new(
			       events,
			       json_pack("{s:s, s:o}", "name", event_name(dest, ev), "params", p))
			 ? -ENOMEM
			 : 0;
	}
	if (!rc)
		rc = pxd_payload_url(req, "%s", g->url);
	if (!rc)
		rc = pxd_payload_header(req, "Content-Type: application/json");
	if (!rc)
		rc = pxd_payload_dump(&req->body, root);
	json_decref(events);
	json_decref(root);
	return rc;
}

static enum pxd_delivery ga4_validate(struct pxd_dest *dest, const json_t *ev, char *reason,
				      size_t reason_len)
{
	char cid[256];
	const char *name;
	enum pxd_delivery d;

	d = pxd_payload_check_common(ev, PLATFORM, pxd_now_ms(), MAX_AGE_MS, reason, reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	name = event_name(dest, ev);
	if (!valid_name(name)) {
		snprintf(reason, reason_len,
			 PLATFORM ": event name \"%.48s\" is not a GA4 name (letter first, then "
				  "letters, digits, '_'; at most 40; not reserved); set map.%.48s",
			 name, pxd_payload_str(ev, NULL, "event"));
		return PXD_DELIVERY_PERMANENT;
	}
	if (!client_id(ev, cid, sizeof(cid))) {
		snprintf(reason, reason_len,
			 PLATFORM ": no client id: the event has no fp_id, user.anon_id or "
				  "click.fbp");
		return PXD_DELIVERY_PERMANENT;
	}
	if (strcmp(name, "purchase") == 0 &&
	    (!pxd_payload_str(ev, "props", "order_id") || !pxd_payload_get(ev, "props", "value"))) {
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

	pxd_payload_classify_http(PLATFORM, resp, out, b->n);
	if (g->debug && resp->status >= 200 && resp->status < 300)
		log_validation(dest, resp);
	for (size_t i = 1; i < b->n; i++) {
		if (b->items[i].ev && same_client(b->items[0].ev, b->items[i].ev))
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
	.init = ga4_init,
	.fini = ga4_fini,
	.validate = ga4_validate,
	.build = ga4_build,
	.classify = ga4_classify,
};
