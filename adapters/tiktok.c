// SPDX-License-Identifier: MIT
/*
 * tiktok.c - TikTok Events API 2.0 (specs/ad-apis.md §9.4): POST
 * {api_base}/open_api/v1.3/event/track/ with event_source "web" and data[] of
 * up to 1,000 events, the token in the Access-Token header. TikTok answers
 * errors inside an HTTP 200 (§2), so its body code decides; one bad event
 * fails the whole batch (40002), which comes back as "batch:" reasons that
 * the dispatcher bisects (bisect.h).
 */
#include "adapter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bisect.h"
#include "daemon.h"
#include "payload.h"

#define PLATFORM "tiktok"
/* §7: no published window [U]; 7 days is the safe limit, less queueing. */
#define MAX_AGE_MS (7 * PXD_PAYLOAD_DAY_MS - 3600 * 1000LL)

struct tiktok {
	char url[512];
	char pixel_code[64];
	char token[512];
	char test_code[64];
};

/* §8 (standard events page, Sept 2025). PageView is not an Events API
 * standard event [U]: it keeps its canonical name unless mapped. */
static const struct pxd_payload_name names[] = {
	{ "ViewContent", "ViewContent" },
	{ "Search", "Search" },
	{ "AddToCart", "AddToCart" },
	{ "AddToWishlist", "AddToWishlist" },
	{ "InitiateCheckout", "InitiateCheckout" },
	{ "AddPaymentInfo", "AddPaymentInfo" },
	{ "Purchase", "Purchase" },
	{ "Lead", "Lead" },
	{ "CompleteRegistration", "CompleteRegistration" },
	{ "Subscribe", "Subscribe" },
	{ "StartTrial", "StartTrial" },
	{ "Contact", "Contact" },
};

static const char *const conf_keys[] = { "api_base", "pixel_code", "access_token",
					 "test_event_code", NULL };

static int tiktok_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	struct tiktok *t = calloc(1, sizeof(*t));
	char base[256];
	int rc;

	if (!t)
		return -ENOMEM;
	dest->priv = t;
	rc = pxd_payload_check_keys(dest, conf_path, conf_keys, true, err, errlen);
	if (!rc)
		rc = pxd_payload_api_base(dest, conf_path, "https://business-api.tiktok.com", base,
					  sizeof(base), err, errlen);
	if (!rc)
		snprintf(t->url, sizeof(t->url), "%s/open_api/v1.3/event/track/", base);
	if (!rc)
		rc = pxd_payload_key_shape(dest, conf_path, "pixel_code", "",
					   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
					   "a TikTok pixel code (capital letters and digits)",
					   t->pixel_code, sizeof(t->pixel_code), err, errlen);
	if (!rc)
		rc = pxd_payload_secret(dest, conf_path, "access_token", t->token, sizeof(t->token),
					err, errlen);
	if (!rc)
		rc = pxd_payload_key(dest, conf_path, "test_event_code", "", t->test_code,
				     sizeof(t->test_code), err, errlen);
	if (!rc)
		rc = pxd_payload_check_map(dest, conf_path, "", err, errlen);
	return rc;
}

static void tiktok_fini(struct pxd_dest *dest)
{
	struct tiktok *t = dest->priv;

	if (t)
		memset(t->token, 0, sizeof(t->token));
	free(t);
	dest->priv = NULL;
}

/* Sets <o>[<field>] to the string at <ev>[<obj>][<key>] when there is one. */
static int copy_str(json_t *o, const char *field, const json_t *ev, const char *obj,
		    const char *key)
{
	const char *v = pxd_payload_str(ev, obj, key);

	return v ? json_object_set_new(o, field, json_string(v)) : 0;
}

/* §3: email trimmed and lowercased, phone E.164 with '+', external_id hashed. */
static json_t *user(const json_t *ev)
{
	json_t *u = json_object();
	const char *em = pxd_payload_str(ev, "user", "email_sha256");
	const char *ph = pxd_payload_str(ev, "user", "phone_e164_sha256");
	const char *id = pxd_payload_str(ev, "user", "id");
	char hex[PXD_SHA256_HEX_LEN + 1];
	int rc = !u;

	if (!rc && em && pxd_payload_is_sha256(em))
		rc |= json_object_set_new(u, "email", json_string(em));
	if (!rc && ph && pxd_payload_is_sha256(ph))
		rc |= json_object_set_new(u, "phone", json_string(ph));
	if (!rc && id) {
		if (!pxd_payload_is_sha256(id))
			pxd_payload_sha256_hex(id, strlen(id), hex);
		rc |= json_object_set_new(u, "external_id",
					  json_string(pxd_payload_is_sha256(id) ? id : hex));
	}
	if (!rc)
		rc |= copy_str(u, "ttclid", ev, "click", "ttclid");
	if (!rc)
		rc |= copy_str(u, "ttp", ev, "click", "ttp");
	if (!rc)
		rc |= copy_str(u, "ip", ev, NULL, "ip");
	if (!rc)
		rc |= copy_str(u, "user_agent", ev, NULL, "ua");
	if (rc) {
		json_decref(u);
		return NULL;
	}
	return u;
}

static json_t *properties(const json_t *ev)
{
	json_t *p = json_object();
	const json_t *props = json_object_get(ev, "props");
	const json_t *contents = json_object_get(props, "contents");
	const json_t *v;
	int rc = !p;

	if (!rc && json_is_array(contents)) {
		json_t *out = json_array();
		size_t i;

		rc |= !out || json_object_set_new(p, "contents", out);
		json_array_foreach(contents, i, v)
		{
			json_t *c = json_object();

			rc |= !c || json_array_append_new(out, c);
			if (rc)
				break;
			if (json_is_string(json_object_get(v, "id")))
				rc |= json_object_set(c, "content_id", json_object_get(v, "id"));
			if (json_is_number(json_object_get(v, "quantity")))
				rc |=
				    json_object_set(c, "quantity", json_object_get(v, "quantity"));
			if (json_is_number(json_object_get(v, "price")))
				rc |= json_object_set_new(
				    c, "price",
				    json_real(json_number_value(json_object_get(v, "price"))));
		}
		if (!rc)
			rc |= json_object_set_new(p, "content_type", json_string("product"));
	}
	if (!rc && json_is_number(v = json_object_get(props, "value")))
		rc |= json_object_set_new(p, "value", json_real(json_number_value(v)));
	if (!rc)
		rc |= copy_str(p, "currency", ev, "props", "currency");
	if (!rc)
		rc |= copy_str(p, "order_id", ev, "props", "order_id");
	if (!rc)
		rc |= copy_str(p, "query", ev, "props", "query");
	if (rc) {
		json_decref(p);
		return NULL;
	}
	return p;
}

static json_t *event(struct pxd_dest *dest, const json_t *ev)
{
	const char *name = pxd_payload_event_name(dest, pxd_payload_str(ev, NULL, "event"), names,
						  ARRAY_SIZE(names), true);
	json_t *u = user(ev);
	json_t *p = properties(ev);
	json_t *page = json_object();
	json_t *e = json_pack("{s:s, s:I, s:s}", "event", name, "event_time",
			      (json_int_t)(pxd_payload_ts_ms(ev) / 1000), "event_id",
			      pxd_payload_str(ev, NULL, "event_id"));
	int rc = !u || !p || !page || !e;

	if (!rc)
		rc |= copy_str(page, "url", ev, NULL, "url");
	if (!rc)
		rc |= copy_str(page, "referrer", ev, NULL, "referrer");
	if (!rc)
		rc |= json_object_set(e, "user", u);
	if (!rc && json_object_size(page))
		rc |= json_object_set(e, "page", page);
	if (!rc && json_object_size(p))
		rc |= json_object_set(e, "properties", p);
	json_decref(u);
	json_decref(p);
	json_decref(page);
	if (rc) {
		json_decref(e);
		return NULL;
	}
	return e;
}

static int tiktok_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct tiktok *t = dest->priv;
	json_t *data = json_array();
	json_t *root =
	    json_pack("{s:s, s:s}", "event_source", "web", "event_source_id", t->pixel_code);
	int rc = !data || !root ? -ENOMEM : 0;

	if (!rc && t->test_code[0])
		rc = json_object_set_new(root, "test_event_code", json_string(t->test_code))
			 ? -ENOMEM
			 : 0;
	if (!rc)
		rc = json_object_set(root, "data", data) ? -ENOMEM : 0;
	for (size_t i = 0; !rc && i < b->n; i++) {
		json_t *e;

		if (!b->items[i].ev || !pxd_payload_str(b->items[i].ev, NULL, "event")) {
			rc = -EINVAL;
			break;
		}
		e = event(dest, b->items[i].ev);
		rc = !e || json_array_append_new(data, e) ? -ENOMEM : 0;
	}
	if (!rc)
		rc = pxd_payload_url(req, "%s", t->url);
	if (!rc)
		rc = pxd_payload_header(req, "Content-Type: application/json");
	if (!rc)
		rc = pxd_payload_header(req, "Access-Token: %s", t->token);
	if (!rc)
		rc = pxd_payload_dump(&req->body, root);
	json_decref(data);
	json_decref(root);
	return rc;
}

static enum pxd_delivery tiktok_validate(struct pxd_dest *dest, const json_t *ev, char *reason,
					 size_t reason_len)
{
	static const struct {
		const char *obj;
		const char *key;
	} ids[] = { { "user", "email_sha256" }, { "user", "phone_e164_sha256" },
		    { "user", "id" },		{ "click", "ttclid" },
		    { "click", "ttp" },		{ NULL, "ip" } };
	static const char *const hashed[] = { "email_sha256", "phone_e164_sha256" };
	enum pxd_delivery d;
	bool ident = false;

	(void)dest;
	d = pxd_payload_check_common(ev, PLATFORM, pxd_now_ms(), MAX_AGE_MS, reason, reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	for (size_t i = 0; i < ARRAY_SIZE(hashed); i++) {
		const char *v = pxd_payload_str(ev, "user", hashed[i]);

		if (v && !pxd_payload_is_sha256(v)) {
			snprintf(reason, reason_len,
				 PLATFORM ": user.%s is not 64 lowercase hex digits (SHA-256)",
				 hashed[i]);
			return PXD_DELIVERY_PERMANENT;
		}
	}
	for (size_t i = 0; !ident && i < ARRAY_SIZE(ids); i++)
		ident = pxd_payload_str(ev, ids[i].obj, ids[i].key) != NULL;
	if (!ident) {
		snprintf(reason, reason_len,
			 PLATFORM ": user needs an identifier (email, E.164 phone, user id, "
				  "ttclid, ttp or ip)");
		return PXD_DELIVERY_PERMANENT;
	}
	return PXD_DELIVERY_OK;
}

/* TikTok's body codes (§2): 0 and 20001 (partial) delivered, 40100 and the
 * 5xxxx internal codes throttling or transient, the other 4xxxx refusals. */
static void classify_code(const struct pxd_batch *b, const struct pxd_response *resp, long code,
			  const json_t *body, struct pxd_outcome *out)
{
	const char *msg = json_string_value(json_object_get(body, "message"));
	const char *rid = json_string_value(json_object_get(body, "request_id"));
	enum pxd_delivery d;
	const char *batch = "";

	if (code == 0 || code == 20001)
		d = PXD_DELIVERY_OK;
	else if (code == 40100 || (code >= 50000 && code < 60000))
		d = PXD_DELIVERY_RETRY;
	else
		d = PXD_DELIVERY_PERMANENT;
	/* 40002 (invalid parameters) names no event; other refusals (40001
	 * permission, 40105 token) are the destination's and bisecting would
	 * not help. */
	if (code == 40002 && b->n > 1)
		batch = PXD_BISECT_REASON;
	pxd_payload_outcomes(out, b->n, d, resp->retry_after_ms,
			     "%s" PLATFORM ": code %ld: %.96s (request_id %.40s)", batch, code,
			     msg ? msg : "", rid ? rid : "-");
}

static void tiktok_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			    const struct pxd_response *resp, struct pxd_outcome *out)
{
	json_t *body = resp->status ? pxd_payload_parse_body(resp) : NULL;
	json_t *code = json_object_get(body, "code");

	(void)dest;
	if (json_is_integer(code))
		classify_code(b, resp, (long)json_integer_value(code), body, out);
	else
		pxd_payload_classify_http(PLATFORM, resp, out, b->n);
	json_decref(body);
}

const struct pxd_adapter pxd_adapter_tiktok = {
	.type = "tiktok",
	.max_events = 1000,
	/* §1 gives no byte limit [U]; Meta's ~1 MB at 80% is the working cap. */
	.max_bytes = 800 * 1000,
	.flags = PXD_ADAPTER_AD,
	.init = tiktok_init,
	.fini = tiktok_fini,
	.validate = tiktok_validate,
	.build = tiktok_build,
	.classify = tiktok_classify,
};
