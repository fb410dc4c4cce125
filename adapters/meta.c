// SPDX-License-Identifier: MIT
/*
 * meta.c - Meta Conversions API (specs/ad-apis.md §9.1): POST
 * {api_base}/{api_version}/{pixel_id}/events with data[] of up to 1,000
 * server events. Identifiers arrive hashed from ingest; the address fields
 * arrive as normalized plain text and are hashed here, as Meta wants them
 * (§3). Meta refuses a whole batch for one bad event (§2), so such refusals
 * come back as "batch:" reasons that the dispatcher bisects (bisect.h).
 */
#include "adapter.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bisect.h"
#include "daemon.h"
#include "payload.h"

#define PLATFORM "meta"
#define DIGITS "0123456789"
/* §7: 7 days, less a margin for the time an event spends queued. */
#define MAX_AGE_MS (7 * PXD_PAYLOAD_DAY_MS - 3600 * 1000LL)

struct meta {
	char base[256];
	char version[16];
	char pixel_id[32];
	char token[1024];
	char test_code[64];
};

/* §8; the other canonical names (Search, AddToWishlist, AddPaymentInfo,
 * Contact) are Meta standard events under the same name, and custom events
 * keep theirs. */
static const struct pxd_payload_name names[] = {
	{ "PageView", "PageView" },
	{ "ViewContent", "ViewContent" },
	{ "AddToCart", "AddToCart" },
	{ "InitiateCheckout", "InitiateCheckout" },
	{ "Purchase", "Purchase" },
	{ "Lead", "Lead" },
	{ "CompleteRegistration", "CompleteRegistration" },
	{ "Subscribe", "Subscribe" },
	{ "StartTrial", "StartTrial" },
};

/* user.<key>_sha256 -> user_data.<field>, hashed at ingest. */
static const struct {
	const char *key;
	const char *field;
	bool array;
} hashed[] = {
	{ "email_sha256", "em", true },	      { "phone_sha256", "ph", true },
	{ "first_name_sha256", "fn", false }, { "last_name_sha256", "ln", false },
	{ "gender_sha256", "ge", false },     { "dob_sha256", "db", false },
};

/* Graph error codes that ask for a retry (§2). */
static const int transient_codes[] = { 1, 2, 4, 17, 341, 368, 21009, 80003 };

static const char *const conf_keys[] = { "api_base",	 "pixel_id",	    "api_version",
					 "access_token", "test_event_code", NULL };

static int meta_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	struct meta *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	dest->priv = m;
	rc = pxd_payload_check_keys(dest, conf_path, conf_keys, true, err, errlen);
	if (!rc)
		rc = pxd_payload_api_base(dest, conf_path, "https://graph.facebook.com", m->base,
					  sizeof(m->base), err, errlen);
	if (!rc)
		rc = pxd_payload_key_shape(dest, conf_path, "pixel_id", "", DIGITS,
					   "a Meta pixel/dataset id (digits)", m->pixel_id,
					   sizeof(m->pixel_id), err, errlen);
	if (!rc)
		rc = pxd_payload_key_shape(dest, conf_path, "api_version", "v", DIGITS ".",
					   "a Graph version such as v25.0", m->version,
					   sizeof(m->version), err, errlen);
	if (!rc)
		rc = pxd_payload_secret(dest, conf_path, "access_token", m->token, sizeof(m->token),
					err, errlen);
	if (!rc)
		rc = pxd_payload_key(dest, conf_path, "test_event_code", "", m->test_code,
				     sizeof(m->test_code), err, errlen);
	if (!rc)
		rc = pxd_payload_check_map(dest, conf_path, "", err, errlen);
	return rc;
}

static void meta_fini(struct pxd_dest *dest)
{
	struct meta *m = dest->priv;

	if (m)
		memset(m->token, 0, sizeof(m->token));
	free(m);
	dest->priv = NULL;
}

/*
 * Meta's normalisation of the address fields (§3, SDK rules): lowercase, and
 * for city and state no digits, whitespace or ".()-"; zip without whitespace
 * and cut at '-' (the US 5-digit part); country two letters. Writes the
 * result to <out>; returns false when nothing usable is left.
 */
static bool norm_address(const char *field, const char *in, char *out, size_t outlen)
{
	bool zip = strcmp(field, "zp") == 0;
	const char *drop = zip ? " \t\r\n" : "0123456789 \t\r\n().-";
	size_t n = 0;

	for (; *in && n + 1 < outlen; in++) {
		if (zip && *in == '-')
			break;
		if (strchr(drop, *in))
			continue;
		out[n++] = (char)tolower((unsigned char)*in);
	}
	out[n] = '\0';
	if (strcmp(field, "country") == 0)
		return n == 2 && islower((unsigned char)out[0]) && islower((unsigned char)out[1]);
	return zip ? n >= 2 : n > 0;
}

static int set_hash(json_t *o, const char *field, const char *v, bool array)
{
	char hex[PXD_SHA256_HEX_LEN + 1];
	json_t *s;

	if (pxd_payload_is_sha256(v))
		snprintf(hex, sizeof(hex), "%s", v);
	else
		pxd_payload_sha256_hex(v, strlen(v), hex);
	s = json_string(hex);
	if (s && array)
		s = json_pack("[o]", s);
	return json_object_set_new(o, field, s);
}

static json_t *user_data(const json_t *ev)
{
	static const struct {
		const char *key;
		const char *field;
	} address[] = {
		{ "city", "ct" }, { "state", "st" }, { "zip", "zp" }, { "country", "country" }
	};
	static const struct {
		const char *obj;
		const char *key;
		const char *field;
	} plain[] = {
		{ NULL, "ip", "client_ip_address" },
		{ NULL, "ua", "client_user_agent" },
		{ "click", "fbc", "fbc" },
		{ "click", "fbp", "fbp" },
	};
	json_t *u = json_object();
	const char *v;
	char norm[256];
	int rc = 0;

	for (size_t i = 0; u && i < ARRAY_SIZE(hashed); i++) {
		v = pxd_payload_str(ev, "user", hashed[i].key);
		if (v && pxd_payload_is_sha256(v))
			rc |= set_hash(u, hashed[i].field, v, hashed[i].array);
	}
	for (size_t i = 0; u && i < ARRAY_SIZE(address); i++) {
		v = pxd_payload_str(ev, "user", address[i].key);
		if (v && (pxd_payload_is_sha256(v) ||
			  norm_address(address[i].field, v, norm, sizeof(norm))))
			rc |= set_hash(u, address[i].field, pxd_payload_is_sha256(v) ? v : norm,
				       false);
	}
	v = pxd_payload_str(ev, "user", "id");
	if (u && v)
		rc |= set_hash(u, "external_id", v, false);
	for (size_t i = 0; u && i < ARRAY_SIZE(plain); i++) {
		v = pxd_payload_str(ev, plain[i].obj, plain[i].key);
		if (v)
			rc |= json_object_set_new(u, plain[i].field, json_string(v));
	}
	if (rc) {
		json_decref(u);
		return NULL;
	}
	return u;
}

static bool is_standard_prop(const char *k)
{
	static const char *const std[] = { "value",    "currency",    "order_id",
					   "contents", "content_ids", "num_items" };

	for (size_t i = 0; i < ARRAY_SIZE(std); i++)
		if (strcmp(k, std[i]) == 0)
			return true;
	return false;
}

static json_t *custom_data(const json_t *ev)
{
	json_t *props = json_object_get(ev, "props");
	json_t *c = json_object();
	json_t *contents = json_object_get(props, "contents");
	json_t *ids = json_object_get(props, "content_ids");
	const char *k;
	json_t *v;
	int rc = 0;

	if (!c || !json_is_object(props))
		return c;
	if ((v = json_object_get(props, "value")) && json_is_number(v))
		rc |= json_object_set_new(c, "value", json_real(json_number_value(v)));
	if ((v = json_object_get(props, "currency")) && json_is_string(v))
		rc |= json_object_set(c, "currency", v);
	if (json_is_array(ids))
		rc |= json_object_set(c, "content_ids", ids);
	if (json_is_array(contents)) {
		json_t *out = json_array();
		size_t i;

		json_array_foreach(contents, i, v)
		{
			json_t *item = json_object();

			rc |= !item || json_array_append_new(out, item);
			if (rc)
				break;
			if (json_object_get(v, "id"))
				rc |= json_object_set(item, "id", json_object_get(v, "id"));
			if (json_object_get(v, "quantity"))
				rc |= json_object_set(item, "quantity",
						      json_object_get(v, "quantity"));
			if (json_object_get(v, "price"))
				rc |= json_object_set(item, "item_price",
						      json_object_get(v, "price"));
		}
		rc |= json_object_set_new(c, "contents", out);
	}
	if (json_is_array(ids) || json_is_array(contents))
		rc |= json_object_set_new(c, "content_type", json_string("product"));
	if ((v = json_object_get(props, "order_id")) && json_is_string(v))
		rc |= json_object_set(c, "order_id", v);
	if ((v = json_object_get(props, "num_items")) && json_is_integer(v))
		rc |= json_object_set(c, "num_items", v);
	/* Custom properties travel as they are: Meta keeps them for custom
	 * audiences and rules. */
	json_object_foreach(props, k, v)
	{
		if (!is_standard_prop(k) &&
		    (json_is_string(v) || json_is_number(v) || json_is_boolean(v)))
			rc |= json_object_set(c, k, v);
	}
	if (rc) {
		json_decref(c);
		return NULL;
	}
	return c;
}

static json_t *server_event(struct pxd_dest *dest, const json_t *ev)
{
	const char *name = pxd_payload_event_name(dest, pxd_payload_str(ev, NULL, "event"), names,
						  ARRAY_SIZE(names), true);
	json_t *u = user_data(ev);
	json_t *c = custom_data(ev);
	const char *url = pxd_payload_str(ev, NULL, "url");
	const char *ref = pxd_payload_str(ev, NULL, "referrer");
	json_t *e = json_pack("{s:s, s:I, s:s, s:s}", "event_name", name, "event_time",
			      (json_int_t)(pxd_payload_ts_ms(ev) / 1000), "event_id",
			      pxd_payload_str(ev, NULL, "event_id"), "action_source", "website");
	int rc = !e || !u || !c;

	if (!rc && url)
		rc |= json_object_set_new(e, "event_source_url", json_string(url));
	if (!rc && ref)
		rc |= json_object_set_new(e, "referrer_url", json_string(ref));
	if (!rc)
		rc |= json_object_set(e, "user_data", u);
	if (!rc && json_object_size(c))
		rc |= json_object_set(e, "custom_data", c);
	json_decref(u);
	json_decref(c);
	if (rc) {
		json_decref(e);
		return NULL;
	}
	return e;
}

static int meta_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct meta *m = dest->priv;
	json_t *root = json_object();
	json_t *data = json_array();
	int rc = !root || !data || json_object_set(root, "data", data) ? -ENOMEM : 0;

	for (size_t i = 0; !rc && i < b->n; i++) {
		json_t *e;

		if (!b->items[i].ev || !pxd_payload_str(b->items[i].ev, NULL, "event")) {
			rc = -EINVAL;
			break;
		}
		e = server_event(dest, b->items[i].ev);
		rc = !e || json_array_append_new(data, e) ? -ENOMEM : 0;
	}
	if (!rc && m->test_code[0])
		rc = json_object_set_new(root, "test_event_code", json_string(m->test_code))
			 ? -ENOMEM
			 : 0;
	/* In the body rather than the query string: URLs end up in delivery
	 * logs and proxies' access logs, bodies do not. */
	if (!rc)
		rc = json_object_set_new(root, "access_token", json_string(m->token)) ? -ENOMEM : 0;
	if (!rc)
		rc = pxd_payload_url(req, "%s/%s/%s/events", m->base, m->version, m->pixel_id);
	if (!rc)
		rc = pxd_payload_header(req, "Content-Type: application/json");
	if (!rc)
		rc = pxd_payload_dump(&req->body, root);
	json_decref(data);
	json_decref(root);
	return rc;
}

static enum pxd_delivery meta_validate(struct pxd_dest *dest, const json_t *ev, char *reason,
				       size_t reason_len)
{
	static const char *const ids[] = { "email_sha256", "phone_sha256", "id" };
	const char *url = pxd_payload_str(ev, NULL, "url");
	enum pxd_delivery d;
	bool ident = pxd_payload_str(ev, NULL, "ip") || pxd_payload_str(ev, "click", "fbc") ||
		     pxd_payload_str(ev, "click", "fbp");

	(void)dest;
	d = pxd_payload_check_common(ev, PLATFORM, pxd_now_ms(), MAX_AGE_MS, reason, reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	if (!url || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)) {
		snprintf(reason, reason_len,
			 PLATFORM ": website events need url (event_source_url) as http(s)");
		return PXD_DELIVERY_PERMANENT;
	}
	if (!pxd_payload_str(ev, NULL, "ua")) {
		snprintf(reason, reason_len,
			 PLATFORM ": website events need ua (client_user_agent)");
		return PXD_DELIVERY_PERMANENT;
	}
	for (size_t i = 0; i < ARRAY_SIZE(hashed); i++) {
		const char *v = pxd_payload_str(ev, "user", hashed[i].key);

		if (v && !pxd_payload_is_sha256(v)) {
			snprintf(reason, reason_len,
				 PLATFORM ": user.%s is not 64 lowercase hex digits (SHA-256)",
				 hashed[i].key);
			return PXD_DELIVERY_PERMANENT;
		}
	}
	for (size_t i = 0; !ident && i < ARRAY_SIZE(ids); i++)
		ident = pxd_payload_str(ev, "user", ids[i]) != NULL;
	if (!ident) {
		snprintf(reason, reason_len,
			 PLATFORM ": user_data needs an identifier (email, phone, user id, ip, "
				  "fbc or fbp)");
		return PXD_DELIVERY_PERMANENT;
	}
	return PXD_DELIVERY_OK;
}

static bool is_transient(int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(transient_codes); i++)
		if (transient_codes[i] == code)
			return true;
	return false;
}

/* Fills <out> from a Graph error envelope (§9.1); codes beat the HTTP status,
 * which Meta does not keep meaningful (190 and 17 arrive with 500). */
static void classify_error(const struct pxd_batch *b, const struct pxd_response *resp,
			   const json_t *err, struct pxd_outcome *out)
{
	int code = (int)json_integer_value(json_object_get(err, "code"));
	int sub = (int)json_integer_value(json_object_get(err, "error_subcode"));
	const char *msg = json_string_value(json_object_get(err, "error_user_msg"));
	const char *trace = json_string_value(json_object_get(err, "fbtrace_id"));
	enum pxd_delivery d;
	const char *batch = "";

	if (!msg)
		msg = json_string_value(json_object_get(err, "message"));
	if (json_is_true(json_object_get(err, "is_transient")) || is_transient(code)) {
		d = PXD_DELIVERY_RETRY;
	} else {
		d = PXD_DELIVERY_PERMANENT;
		/* Code 100 is an invalid parameter in some event; with more
		 * than one event Meta does not say which, so the batch is
		 * bisected. Token and permission codes (190, 200, 10, ...)
		 * are the destination's, and bisecting would not help. */
		if (code == 100 && b->n > 1)
			batch = PXD_BISECT_REASON;
	}
	pxd_payload_outcomes(out, b->n, d, resp->retry_after_ms,
			     "%s" PLATFORM ": code %d/%d: %.96s (fbtrace_id %.24s)", batch, code,
			     sub, msg ? msg : "no message", trace ? trace : "-");
}

static void meta_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			  const struct pxd_response *resp, struct pxd_outcome *out)
{
	json_t *body = resp->status ? pxd_payload_parse_body(resp) : NULL;
	json_t *err = json_object_get(body, "error");

	(void)dest;
	if (json_is_object(err) && json_is_integer(json_object_get(err, "code")))
		classify_error(b, resp, err, out);
	else
		pxd_payload_classify_http(PLATFORM, resp, out, b->n);
	json_decref(body);
}

const struct pxd_adapter pxd_adapter_meta = {
	.type = "meta",
	.max_events = 1000,
	/* §10.1: ~1 MB per request, filled to 80%. */
	.max_bytes = 800 * 1000,
	.flags = PXD_ADAPTER_AD,
	.init = meta_init,
	.fini = meta_fini,
	.validate = meta_validate,
	.build = meta_build,
	.classify = meta_classify,
};
