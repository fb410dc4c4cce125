// SPDX-License-Identifier: MIT
/*
 * linkedin.c - LinkedIn Conversions API (specs/ad-apis.md §9.5): one POST to
 * {api_base}/rest/conversionEvents with X-RestLi-Method BATCH_CREATE and
 * elements[] of up to 5,000, a bearer token and the LinkedIn-Version of the
 * config. LinkedIn has no event names: each canonical event is sent to the
 * conversion rule its `map.<Event>` names. Answers come per element (200
 * elements[].status) or as a 422 listing the refused indices (§2); the rest
 * of a 422'd batch was not ingested and goes again at once.
 */
#include "adapter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/ad_event.h"
#include "adapters/payload_fields.h"
#include "adapters/payload_line.h"
#include "event_line.h"
#include "daemon.h"
#include "payload.h"
#include "retry.h"

#define PLATFORM "linkedin"
#define URN_PREFIX "urn:lla:llaPartnerConversion:"
#define DIGITS "0123456789"
/* §7: conversionHappenedAt at most 90 days old [C], less a day of queueing. */
#define MAX_AGE_MS (89 * PXD_PAYLOAD_DAY_MS)

struct linkedin {
	struct pxd_payload_bearer http; /* first: pxd_payload_bearer_fini() */
	char version[8];
};

/* §5: li_fat_id is LinkedIn's first-party click id; email the only hashed
 * id. Names are sent plain in userInfo, which ingest never keeps, so
 * userInfo is not sent (README "LinkedIn"). */
static const struct pxd_payload_field ids[] = {
	{ PXD_USER(EMAIL_SHA256), "SHA256_EMAIL", PXD_FIELD_HASHED, false },
	{ PXD_CLICK(LI_FAT_ID), "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID", PXD_FIELD_PLAIN, false },
};

static const char *const conf_keys[] = { "api_base", "api_version", "access_token", NULL };

/* A rule id ("123") or its URN into the URN; false when it is neither. */
static bool rule_urn(const char *v, char *out, size_t outlen)
{
	const char *id =
	    strncmp(v, URN_PREFIX, strlen(URN_PREFIX)) == 0 ? v + strlen(URN_PREFIX) : v;

	if (!*id || id[strspn(id, DIGITS)])
		return false;
	return snprintf(out, outlen, URN_PREFIX "%s", id) < (int)outlen;
}

static int check_rules(const struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	const struct pxd_conf_dest *c = dest->conf;
	char urn[96];
	size_t nrules = 0;

	for (size_t i = 0; i < c->nkv; i++) {
		if (strncmp(c->kv[i].key, "map.", 4) != 0)
			continue;
		nrules++;
		if (rule_urn(c->kv[i].value, urn, sizeof(urn)))
			continue;
		snprintf(err, errlen,
			 "%s:%d: %s: \"%s\" is not a conversion rule id or " URN_PREFIX "<id>",
			 conf_path, c->kv[i].line, c->kv[i].key, c->kv[i].value);
		return -EINVAL;
	}
	if (nrules)
		return 0;
	snprintf(err, errlen,
		 "%s:%d: destination \"%s\": LinkedIn needs a conversion rule per event; add "
		 "map.<Event> = <rule id> (e.g. map.Purchase = 12345678)",
		 conf_path, c->line, c->name);
	return -EINVAL;
}

static int linkedin_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	struct linkedin *l;
	char base[256];
	int rc;

	rc = pxd_payload_bearer_init(dest, sizeof(*l), conf_path, conf_keys, err, errlen);
	l = dest->priv;
	if (!rc)
		rc = pxd_payload_api_base(dest, conf_path, "https://api.linkedin.com", base,
					  sizeof(base), err, errlen);
	if (!rc)
		snprintf(l->http.url, sizeof(l->http.url), "%s/rest/conversionEvents", base);
	if (!rc)
		rc = pxd_payload_key_shape(dest, conf_path, "api_version", "", DIGITS,
					   "a LinkedIn-Version such as 202511 (YYYYMM)", l->version,
					   sizeof(l->version), err, errlen);
	if (!rc && strlen(l->version) != 6) {
		int line = dest->conf->line;

		pxd_conf_dest_get(dest->conf, "api_version", &line);
		snprintf(err, errlen, "%s:%d: api_version: \"%s\" is not YYYYMM (e.g. 202511)",
			 conf_path, line, l->version);
		rc = -EINVAL;
	}
	if (!rc)
		rc = check_rules(dest, conf_path, err, errlen);
	return rc;
}

static void user(struct pxd_payload_out *o, const struct pxd_event_line *el)
{
	pxd_payload_out_key(o, "user");
	pxd_payload_out_open(o, '{');
	pxd_payload_out_key(o, "userIds");
	pxd_payload_out_open(o, '[');
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		const struct pxd_jv *v = pxd_payload_field_src(el, &ids[i]);

		if (!pxd_jv_is_str(v) ||
		    (ids[i].how == PXD_FIELD_HASHED && !pxd_payload_jv_is_sha256(v)))
			continue;
		pxd_payload_out_open(o, '{');
		pxd_payload_out_key(o, "idType");
		pxd_payload_out_str(o, ids[i].field, strlen(ids[i].field));
		pxd_payload_out_member(o, "idValue", v);
		pxd_payload_out_close(o, '}');
	}
	pxd_payload_out_close(o, ']');
	pxd_payload_out_close(o, '}');
}

static int element(struct pxd_dest *dest, struct pxd_payload_out *o,
		   const struct pxd_event_line *el)
{
	struct linkedin *l = dest->priv;
	static const char *const keys[] = { "value", "currency" };
	const char *text = pxd_payload_jv_text(&el->top[PXD_LINE_EVENT], &l->http.text);
	const char *rule = text ? pxd_payload_event_name(dest, text, NULL, 0, false) : NULL;
	struct pxd_jv v[2];
	char urn[96], amount[32];

	if (!rule || !rule_urn(rule, urn, sizeof(urn)) ||
	    !pxd_jv_is_str(&el->top[PXD_LINE_EVENT_ID]))
		return -EINVAL;
	pxd_line_props_members(el, keys, 2, v);
	pxd_payload_out_open(o, '{');
	pxd_payload_out_key(o, "conversion");
	pxd_payload_out_str(o, urn, strlen(urn));
	pxd_payload_out_key(o, "conversionHappenedAt");
	pxd_payload_out_int(o, pxd_event_line_ts(el));
	pxd_payload_out_member(o, "eventId", &el->top[PXD_LINE_EVENT_ID]);
	user(o, el);
	if (pxd_jv_is_number(&v[0]) && pxd_jv_is_str(&v[1])) {
		pxd_payload_amount(pxd_jv_number(&v[0]), amount, sizeof(amount));
		pxd_payload_out_key(o, "conversionValue");
		pxd_payload_out_open(o, '{');
		pxd_payload_out_member(o, "currencyCode", &v[1]);
		pxd_payload_out_key(o, "amount");
		pxd_payload_out_str(o, amount, strlen(amount));
		pxd_payload_out_close(o, '}');
	}
	pxd_payload_out_close(o, '}');
	return 0;
}

static int linkedin_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct linkedin *l = dest->priv;
	struct pxd_payload_out o;
	int rc;

	pxd_payload_out_init(&o, &req->body);
	pxd_payload_out_open(&o, '{');
	pxd_payload_out_key(&o, "elements");
	pxd_payload_out_open(&o, '[');
	rc = pxd_payload_events(dest, b, &o, element);
	pxd_payload_out_close(&o, ']');
	pxd_payload_out_close(&o, '}');
	if (!rc)
		rc = o.err;
	if (!rc)
		rc = pxd_payload_bearer_request(req, l->http.url, l->http.token);
	if (!rc)
		rc = pxd_payload_header(req, "LinkedIn-Version: %s", l->version);
	if (!rc)
		rc = pxd_payload_header(req, "X-Restli-Protocol-Version: 2.0.0");
	if (!rc)
		rc = pxd_payload_header(req, "X-RestLi-Method: BATCH_CREATE");
	return rc;
}

static enum pxd_delivery linkedin_validate(struct pxd_dest *dest, const struct pxd_event_line *el,
					   char *reason, size_t reason_len)
{
	struct linkedin *l = dest->priv;
	const char *name;
	enum pxd_delivery d;

	d = pxd_ad_check(el, PLATFORM, MAX_AGE_MS, ids, ARRAY_SIZE(ids), &l->http.text, reason,
			 reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	/* check_common made sure there is a name. */
	name = pxd_payload_jv_text(&el->top[PXD_LINE_EVENT], &l->http.text);
	if (name && !pxd_payload_event_name(dest, name, NULL, 0, false)) {
		snprintf(reason, reason_len,
			 PLATFORM ": no conversion rule for %.40s; set map.%.40s = <rule id> or "
				  "leave it out of events =",
			 name, name);
		return PXD_DELIVERY_PERMANENT;
	}
	if (!pxd_payload_has_any(el, ids, ARRAY_SIZE(ids), &l->http.text)) {
		snprintf(reason, reason_len,
			 PLATFORM ": user needs an email (SHA-256) or click.li_fat_id; LinkedIn "
				  "cannot match the conversion without one");
		return PXD_DELIVERY_PERMANENT;
	}
	return PXD_DELIVERY_OK;
}

/* A 200/201: elements[i].status per element, in request order (§2). */
static void classify_elements(const struct pxd_batch *b, const json_t *elements,
			      struct pxd_outcome *out)
{
	for (size_t i = 0; i < b->n; i++) {
		const json_t *el = json_array_get(elements, i);
		long st = (long)json_integer_value(json_object_get(el, "status"));
		const char *msg = json_string_value(json_object_get(el, "message"));

		if (!el || (st >= 200 && st < 300))
			pxd_payload_outcomes(&out[i], 1, PXD_DELIVERY_OK, 0,
					     PLATFORM ": element status %ld", st);
		else
			pxd_payload_outcomes(&out[i], 1,
					     st == 429 || st >= 500 ? PXD_DELIVERY_RETRY
								    : PXD_DELIVERY_PERMANENT,
					     0, PLATFORM ": element %zu: status %ld: %.120s", i, st,
					     msg ? msg : "no message");
	}
}

/*
 * A 422: "Index: <n>, ERROR :: <msg>" lines in message (§2). The listed
 * elements are refused for good; LinkedIn ingested none of the batch, so
 * the others go again at once. Returns false when no line names an index.
 */
static bool classify_422(const struct pxd_batch *b, const char *msg, struct pxd_outcome *out)
{
	const char *p = msg;
	size_t named = 0;

	pxd_payload_outcomes(out, b->n, PXD_DELIVERY_RETRY, 1,
			     PXD_RETRY_UNSENT PLATFORM ": batch refused over other elements");
	while (p && (p = strstr(p, "Index: ")) != NULL) {
		char *end;
		unsigned long i = strtoul(p + 7, &end, 10);
		const char *why;
		size_t len;

		if (end == p + 7 || i >= b->n) {
			p += 7;
			continue;
		}
		p = end;
		why = strstr(end, "ERROR :: ");
		why = why ? why + 9 : "";
		len = strcspn(why, "\n");
		pxd_payload_outcomes(&out[i], 1, PXD_DELIVERY_PERMANENT, 0,
				     PLATFORM ": HTTP 422: element %lu: %.*s", i,
				     (int)(len > 120 ? 120 : len), why);
		named++;
	}
	return named > 0;
}

/* Answers without per-element results: the status decides (§2). A 401
 * asks for a new token; pixeld holds a static one, so the operator renews it
 * (REVOKED_ACCESS_TOKEN included). */
static void classify_status(const struct pxd_batch *b, const struct pxd_response *resp,
			    struct pxd_outcome *out)
{
	if (resp->status == 426)
		pxd_payload_outcomes(out, b->n, PXD_DELIVERY_PERMANENT, 0,
				     PLATFORM ": HTTP 426: LinkedIn-Version is sunset; set a "
					      "current api_version and replay the dead letters");
	else
		pxd_payload_classify_whole(PLATFORM, resp, out, b->n,
					   "renew access_token (scope rw_conversions), then replay "
					   "the dead letters");
}

static void linkedin_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			      const struct pxd_response *resp, struct pxd_outcome *out)
{
	json_t *body = resp->status ? pxd_payload_parse_body(resp) : NULL;
	const json_t *elements = json_object_get(body, "elements");
	long s = resp->status;

	(void)dest;
	if (s >= 200 && s < 300 && json_is_array(elements))
		classify_elements(b, elements, out);
	else if (s != 422 ||
		 !classify_422(b, json_string_value(json_object_get(body, "message")), out))
		classify_status(b, resp, out);
	json_decref(body);
}

const struct pxd_adapter pxd_adapter_linkedin = {
	.type = "linkedin",
	.max_events = 5000,
	/* §1 gives no byte limit [U]; 5,000 elements of ~400 bytes. */
	.max_bytes = 2500 * 1000,
	.flags = PXD_ADAPTER_AD | PXD_ADAPTER_READS_LINE,
	.init = linkedin_init,
	.fini = pxd_payload_bearer_fini,
	.validate = pxd_payload_validate_tree,
	.validate_line = linkedin_validate,
	.build = linkedin_build,
	.classify = linkedin_classify,
};
