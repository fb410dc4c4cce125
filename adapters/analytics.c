// SPDX-License-Identifier: MIT
/*
 * What the analytics adapters share (analytics.h): the call an event stands
 * for, ids, times, traits, Basic auth, the checks before batching, the
 * request body and the classification of answers that name no event.
 */
#include "analytics.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bisect.h"
#include "daemon.h"
#include "payload.h"

/* Props a call consumes itself; they are not passed on as properties. */
static const char *const call_keys[] = { "group_id", "group_type", "previous_id" };

int pxd_analytics_init(struct pxd_dest *dest, const char *conf_path,
		       const struct pxd_analytics_init *in, char *url, size_t urllen, char *secret,
		       size_t secretlen, char *err, size_t errlen)
{
	char base[256];
	int rc = pxd_payload_check_keys(dest, conf_path, in->keys, true, err, errlen);

	if (!rc)
		rc = pxd_payload_check_map(dest, conf_path, in->map_chars, err, errlen);
	if (!rc)
		rc = pxd_payload_api_base(dest, conf_path, in->api_base, base, sizeof(base), err,
					  errlen);
	if (!rc && (size_t)snprintf(url, urllen, "%s%s", base, in->path) >= urllen) {
		snprintf(err, errlen, "%s:%d: api_base: too long for a request URL", conf_path,
			 dest->conf->line);
		rc = -EINVAL;
	}
	if (!rc && in->secret_key)
		rc = pxd_payload_secret(dest, conf_path, in->secret_key, secret, secretlen, err,
					errlen);
	return rc;
}

enum pxd_analytics_kind pxd_analytics_kind(const json_t *ev)
{
	const char *name = pxd_payload_str(ev, NULL, "event");

	if (!name)
		return PXD_ANALYTICS_TRACK;
	if (strcmp(name, "PageView") == 0)
		return PXD_ANALYTICS_PAGE;
	if (strcmp(name, PXD_ANALYTICS_IDENTIFY) == 0)
		return PXD_ANALYTICS_IDENTIFY_CALL;
	if (strcmp(name, PXD_ANALYTICS_GROUP) == 0)
		return PXD_ANALYTICS_GROUP_CALL;
	if (strcmp(name, PXD_ANALYTICS_ALIAS) == 0)
		return PXD_ANALYTICS_ALIAS_CALL;
	return PXD_ANALYTICS_TRACK;
}

const char *pxd_analytics_anon_id(const json_t *ev)
{
	const char *v = pxd_payload_str(ev, NULL, "fp_id");

	return v ? v : pxd_payload_str(ev, "user", "anon_id");
}

void pxd_analytics_iso8601(int64_t ms, char out[PXD_ANALYTICS_ISO_LEN])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(out, PXD_ANALYTICS_ISO_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, PXD_ANALYTICS_ISO_LEN - n, ".%03uZ", (unsigned)(ms % 1000) % 1000u);
}

int pxd_analytics_copy_str(json_t *o, const char *field, const json_t *ev, const char *obj,
			   const char *key)
{
	const char *v = pxd_payload_str(ev, obj, key);

	return v ? json_object_set_new(o, field, json_string(v)) : 0;
}

json_t *pxd_analytics_traits(const json_t *ev)
{
	/* Hashed at ingest (DESIGN.md "Canonical event"); anything else in
	 * these fields is not passed on. */
	static const char *const hashed[] = { "email_sha256",	   "phone_sha256",
					      "phone_e164_sha256", "first_name_sha256",
					      "last_name_sha256",  "gender_sha256",
					      "dob_sha256" };
	static const char *const address[] = { "city", "state", "zip", "country" };
	json_t *t = json_object();
	int rc = !t;

	for (size_t i = 0; !rc && i < ARRAY_SIZE(hashed); i++) {
		const char *v = pxd_payload_str(ev, "user", hashed[i]);

		if (v && pxd_payload_is_sha256(v))
			rc |= json_object_set_new(t, hashed[i], json_string(v));
	}
	for (size_t i = 0; !rc && i < ARRAY_SIZE(address); i++)
		rc |= pxd_analytics_copy_str(t, address[i], ev, "user", address[i]);
	if (rc) {
		json_decref(t);
		return NULL;
	}
	return t;
}

json_t *pxd_analytics_identify_traits(const json_t *ev)
{
	json_t *t = pxd_analytics_traits(ev);

	if (t && pxd_analytics_merge_props(t, ev)) {
		json_decref(t);
		return NULL;
	}
	return t;
}

const char *pxd_analytics_group_type(const json_t *ev)
{
	const char *t = pxd_payload_str(ev, "props", "group_type");

	return t ? t : PXD_ANALYTICS_GROUP_TYPE_DEFAULT;
}

json_t *pxd_analytics_props(const json_t *ev)
{
	json_t *props = json_object_get(ev, "props");
	json_t *p = json_is_object(props) ? json_deep_copy(props) : json_object();
	enum pxd_analytics_kind k = pxd_analytics_kind(ev);

	if (p && (k == PXD_ANALYTICS_GROUP_CALL || k == PXD_ANALYTICS_ALIAS_CALL))
		for (size_t i = 0; i < ARRAY_SIZE(call_keys); i++)
			json_object_del(p, call_keys[i]);
	return p;
}

int pxd_analytics_merge_props(json_t *o, const json_t *ev)
{
	json_t *props = json_object_get(ev, "props");

	return json_is_object(props) ? json_object_update(o, props) : 0;
}

int pxd_analytics_basic_auth(struct pxd_request *req, const char *user, const char *pass)
{
	/* user:pass fits in the 512-byte header with base64's 4/3 growth. */
	unsigned char plain[360], coded[484];
	int n = snprintf((char *)plain, sizeof(plain), "%s:%s", user, pass);
	int rc;

	if (n < 0 || (size_t)n >= sizeof(plain))
		return -ENAMETOOLONG;
	EVP_EncodeBlock(coded, plain, n);
	rc = pxd_payload_header(req, "Authorization: Basic %s", (char *)coded);
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(coded, sizeof(coded));
	return rc;
}

static const char *const kind_names[PXD_ANALYTICS_KIND_COUNT] = {
	[PXD_ANALYTICS_TRACK] = "track",
	[PXD_ANALYTICS_PAGE] = "page",
	[PXD_ANALYTICS_IDENTIFY_CALL] = "identify",
	[PXD_ANALYTICS_GROUP_CALL] = "group",
	[PXD_ANALYTICS_ALIAS_CALL] = "alias",
};

enum pxd_delivery pxd_analytics_check(const json_t *ev, const char *platform, unsigned kinds,
				      int64_t max_age_ms, size_t max_bytes, char *reason,
				      size_t reason_len)
{
	enum pxd_analytics_kind k = pxd_analytics_kind(ev);
	const char *need = NULL;
	enum pxd_delivery d;

	d = pxd_payload_check_common(ev, platform, pxd_now_ms(), max_age_ms, reason, reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	if (!(kinds & (1u << k))) {
		snprintf(reason, reason_len,
			 "%s: the platform has no %s call in this API; leave %s out of the "
			 "destination's events =",
			 platform, kind_names[k], pxd_payload_str(ev, NULL, "event"));
		return PXD_DELIVERY_PERMANENT;
	}
	if (k == PXD_ANALYTICS_GROUP_CALL && !pxd_payload_str(ev, "props", "group_id"))
		need = "a string props.group_id";
	else if (k == PXD_ANALYTICS_ALIAS_CALL && (!pxd_payload_str(ev, "user", "id") ||
						   !pxd_payload_str(ev, "props", "previous_id")))
		need = "user.id (the new id) and props.previous_id";
	else if (k == PXD_ANALYTICS_IDENTIFY_CALL && !pxd_payload_str(ev, "user", "id"))
		need = "user.id";
	if (need) {
		snprintf(reason, reason_len, "%s: the %s call needs %s", platform, kind_names[k],
			 need);
		return PXD_DELIVERY_PERMANENT;
	}
	if (!pxd_payload_str(ev, "user", "id") && !pxd_analytics_anon_id(ev)) {
		snprintf(reason, reason_len,
			 "%s: no user id or anonymous id: the event has no user.id, fp_id or "
			 "user.anon_id",
			 platform);
		return PXD_DELIVERY_PERMANENT;
	}
	if (max_bytes)
		return pxd_analytics_check_size(ev, platform, max_bytes, reason, reason_len);
	return PXD_DELIVERY_OK;
}

int pxd_analytics_keyed_init(struct pxd_dest *dest, size_t size, const char *conf_path,
			     const struct pxd_analytics_init *in, char *err, size_t errlen)
{
	struct pxd_analytics_keyed *k = calloc(1, size);

	if (!k)
		return -ENOMEM;
	dest->priv = k;
	return pxd_analytics_init(dest, conf_path, in, k->url, sizeof(k->url), k->key,
				  sizeof(k->key), err, errlen);
}

void pxd_analytics_keyed_fini(struct pxd_dest *dest)
{
	struct pxd_analytics_keyed *k = dest->priv;

	if (k)
		OPENSSL_cleanse(k->key, sizeof(k->key));
	free(k);
	dest->priv = NULL;
}

void pxd_analytics_classify_whole(const char *platform, const struct pxd_response *resp,
				  bool bad_request_splits, struct pxd_outcome *out, size_t n)
{
	char reason[sizeof(PXD_BISECT_REASON) + sizeof(out->reason)];
	bool split = resp->status == 413 || (resp->status == 400 && bad_request_splits);

	pxd_payload_classify_http(platform, resp, out, n);
	if (!split || n < 2)
		return;
	snprintf(reason, sizeof(reason), PXD_BISECT_REASON "%s", out[0].reason);
	pxd_payload_outcomes(out, n, PXD_DELIVERY_PERMANENT, 0, "%s", reason);
}

int pxd_analytics_events(struct pxd_dest *dest, const struct pxd_batch *b,
			 pxd_analytics_event_fn *fn, json_t *out)
{
	for (size_t i = 0; i < b->n; i++) {
		json_t *e;

		if (!b->items[i].ev || !pxd_payload_str(b->items[i].ev, NULL, "event"))
			return -EINVAL;
		e = fn(dest, b->items[i].ev);
		if (!e || json_array_append_new(out, e))
			return -ENOMEM;
	}
	return 0;
}

int pxd_analytics_form_field(struct pxd_buf *b, const char *sep, const char *name, const json_t *v)
{
	char *text = json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_COMPACT);
	size_t n = text ? strlen(text) : 0;
	int rc = !text ? -ENOMEM : pxd_buf_printf(b, "%s%s=", sep, name);
	ssize_t w;

	/* Each byte becomes at most "%XX". */
	if (!rc)
		rc = pxd_buf_reserve(b, 3 * n + 1);
	if (!rc) {
		w = pxd_payload_pct_encode(b->p + b->len, b->cap - b->len, text);
		if (w < 0)
			rc = -ENOMEM;
		else
			b->len += (size_t)w;
	}
	if (text)
		OPENSSL_cleanse(text, n);
	free(text);
	return rc;
}

int pxd_analytics_request(struct pxd_request *req, const char *url, const json_t *root)
{
	int rc = pxd_payload_url(req, "%s", url);

	if (!rc)
		rc = pxd_payload_header(req, "Content-Type: application/json");
	if (!rc)
		rc = pxd_payload_dump(&req->body, root);
	return rc;
}

int pxd_analytics_build(struct pxd_dest *dest, const struct pxd_batch *b, json_t *root,
			const char *list, pxd_analytics_event_fn *fn, const char *url,
			struct pxd_request *req)
{
	json_t *events = list ? json_object_get(root, list) : root;
	int rc = json_is_array(events) ? pxd_analytics_events(dest, b, fn, events) : -ENOMEM;

	if (!rc)
		rc = pxd_analytics_request(req, url, root);
	return rc;
}

enum pxd_delivery pxd_analytics_check_size(const json_t *ev, const char *platform, size_t max_bytes,
					   char *reason, size_t reason_len)
{
	/* Sizes without writing: json_dumpb() with no buffer only counts. */
	size_t size = json_dumpb(ev, NULL, 0, JSON_COMPACT);

	if (size <= max_bytes)
		return PXD_DELIVERY_OK;
	snprintf(reason, reason_len, "%s: event is %zu bytes; the platform takes at most %zu",
		 platform, size, max_bytes);
	return PXD_DELIVERY_PERMANENT;
}

void pxd_analytics_classify_batch(struct pxd_dest *dest, const struct pxd_batch *b,
				  const struct pxd_response *resp, struct pxd_outcome *out)
{
	pxd_analytics_classify_whole(dest->adapter->type, resp, true, out, b->n);
}
