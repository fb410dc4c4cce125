// SPDX-License-Identifier: MIT
/*
 * mixpanel.c - Mixpanel /import (specs/ad-apis.md §9.11): POST
 * {api_base}/import?strict=1[&project_id=..] with a JSON array of up to
 * 2,000 events and HTTP Basic auth: a service account (with project_id), or
 * the project's API secret, or its project token. $insert_id is the
 * event_id, so Mixpanel dedups what a retry or replay sends twice. Strict
 * mode makes a 400 a partial success (§2): the events in failed_records are
 * dead-lettered and the others were imported. Identify is a profile update
 * ($set) on /engage and Group a group profile update on /groups, both with
 * the project token ($token) and ?verbose=1; a batch that mixes them with
 * events is sent one endpoint at a time (batch_split.h). EU and India
 * residency are api_base https://api-eu.mixpanel.com and
 * https://api-in.mixpanel.com.
 */
#include "adapter.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/batch_split.h"
#include "analytics.h"
#include "bisect.h"
#include "conf.h"
#include "payload.h"

#define PLATFORM "mixpanel"
/* §7: /import takes anything after 1971; ten years is a sanity bound. */
#define MAX_AGE_MS (3650 * PXD_PAYLOAD_DAY_MS)
/* §9.11 per-event limits and §6's $insert_id bound. */
#define MAX_PROPERTIES 255
#define MAX_DEPTH 3
#define MAX_INSERT_ID 36

/* The endpoint an event goes to (batch_split.h keys). */
enum endpoint {
	ENDPOINT_IMPORT = 0, /* events, page views, $create_alias */
	ENDPOINT_ENGAGE,     /* Identify: the user's profile */
	ENDPOINT_GROUPS,     /* Group: the group's profile */
	ENDPOINT_COUNT,	     /* number of endpoints; keep last */
};

static const char *const paths[ENDPOINT_COUNT] = {
	[ENDPOINT_IMPORT] = "/import?strict=1",
	[ENDPOINT_ENGAGE] = "/engage?verbose=1",
	[ENDPOINT_GROUPS] = "/groups?verbose=1",
};

struct mixpanel {
	char url[ENDPOINT_COUNT][512];
	char user[256]; /* Basic user: service account, API secret or project token */
	char secret[256];
	char token[256]; /* project_token: $token of profile updates */
	bool token_auth; /* the token authenticates: properties.token of events too */
};

static const char *const conf_keys[] = {
	"api_base",	 "project_id", "service_account", "service_account_secret", "api_secret",
	"project_token", NULL
};

/* Ids Mixpanel refuses as distinct_id (§9.11), compared case-insensitively. */
static const char *const placeholder_ids[] = {
	"null", "undefined", "anonymous",
	"nil",	"none",	     "unknown",
	"0",	"-1",	     "00000000-0000-0000-0000-000000000000"
};

static bool has_key(const struct pxd_dest *dest, const char *key)
{
	const char *v = pxd_conf_dest_get(dest->conf, key, NULL);

	return v && *v;
}

/* One of three ways in (§9.11): service account with project_id, API
 * secret, or project token; the project token, when set, also goes in
 * profile updates whatever authenticates. */
static int auth_init(struct pxd_dest *dest, struct mixpanel *mp, const char *conf_path,
		     char *project, char *err, size_t errlen)
{
	int rc = 0;

	project[0] = '\0';
	if (has_key(dest, "project_token"))
		rc = pxd_payload_secret(dest, conf_path, "project_token", mp->token,
					sizeof(mp->token), err, errlen);
	if (rc)
		return rc;
	if (has_key(dest, "service_account")) {
		rc = pxd_payload_key(dest, conf_path, "service_account", NULL, mp->user,
				     sizeof(mp->user), err, errlen);
		if (!rc)
			rc = pxd_payload_secret(dest, conf_path, "service_account_secret",
						mp->secret, sizeof(mp->secret), err, errlen);
		if (!rc)
			rc = pxd_payload_key_shape(dest, conf_path, "project_id", "", "0123456789",
						   "a numeric Mixpanel project id", project, 32,
						   err, errlen);
		return rc;
	}
	if (has_key(dest, "api_secret"))
		return pxd_payload_secret(dest, conf_path, "api_secret", mp->user, sizeof(mp->user),
					  err, errlen);
	if (mp->token[0]) {
		memcpy(mp->user, mp->token, sizeof(mp->user));
		mp->token_auth = true;
		return 0;
	}
	snprintf(err, errlen,
		 "%s:%d: [destination \"%s\"]: type mixpanel needs service_account with "
		 "service_account_secret and project_id, or api_secret, or project_token",
		 conf_path, dest->conf->line, dest->conf->name);
	return -EINVAL;
}

static int mixpanel_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	static const struct pxd_analytics_init in = {
		.keys = conf_keys,
		.api_base = "https://api.mixpanel.com",
		.path = "",
		.map_chars = " -.:$",
	};
	struct mixpanel *mp = calloc(1, sizeof(*mp));
	char base[256], project[32];
	int rc;

	if (!mp)
		return -ENOMEM;
	dest->priv = mp;
	rc = pxd_analytics_init(dest, conf_path, &in, base, sizeof(base), NULL, 0, err, errlen);
	if (!rc)
		rc = auth_init(dest, mp, conf_path, project, err, errlen);
	/* api_base is at most 255 bytes (pxd_analytics_init), a url holds 512. */
	for (int i = 0; !rc && i < ENDPOINT_COUNT; i++)
		snprintf(mp->url[i], sizeof(mp->url[i]), "%s%s%s%s", base, paths[i],
			 project[0] ? "&project_id=" : "", project);
	return rc;
}

static void mixpanel_fini(struct pxd_dest *dest)
{
	struct mixpanel *mp = dest->priv;

	if (mp) {
		OPENSSL_cleanse(mp->user, sizeof(mp->user));
		OPENSSL_cleanse(mp->secret, sizeof(mp->secret));
		OPENSSL_cleanse(mp->token, sizeof(mp->token));
	}
	free(mp);
	dest->priv = NULL;
}

static const char *distinct_id(const json_t *ev)
{
	const char *id = pxd_payload_str(ev, "user", "id");

	return id ? id : pxd_analytics_anon_id(ev);
}

static bool placeholder(const char *id)
{
	for (size_t i = 0; i < ARRAY_SIZE(placeholder_ids); i++)
		if (strcasecmp(id, placeholder_ids[i]) == 0)
			return true;
	return false;
}

/* $insert_id (§6): the event_id when Mixpanel takes it as is (at most 36
 * letters, digits and '-'), else the first 32 hex digits of its SHA-256, so
 * every retry still sends the same id. */
static void insert_id(const char *event_id, char out[PXD_SHA256_HEX_LEN + 1])
{
	size_t n = strlen(event_id);

	if (n <= MAX_INSERT_ID &&
	    strspn(event_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			     "0123456789-") == n) {
		memcpy(out, event_id, n + 1);
		return;
	}
	pxd_payload_sha256_hex(event_id, n, out);
	out[32] = '\0';
}

/* The event's name and its own properties: $create_alias makes user.id an
 * alias of previous_id. */
static const char *call(struct pxd_dest *dest, const json_t *ev, json_t *p, int *rc)
{
	if (pxd_analytics_kind(ev) == PXD_ANALYTICS_ALIAS_CALL) {
		*rc |= pxd_analytics_copy_str(p, "distinct_id", ev, "props", "previous_id");
		*rc |= pxd_analytics_copy_str(p, "alias", ev, "user", "id");
		return "$create_alias";
	}
	*rc |= json_object_set_new(p, "distinct_id", json_string(distinct_id(ev)));
	*rc |= pxd_analytics_copy_str(p, "$user_id", ev, "user", "id");
	if (pxd_analytics_anon_id(ev))
		*rc |= json_object_set_new(p, "$device_id", json_string(pxd_analytics_anon_id(ev)));
	return pxd_payload_event_name(dest, pxd_payload_str(ev, NULL, "event"), NULL, 0, true);
}

/* properties (§9.11): the props and traits, then Mixpanel's own fields,
 * which win over a prop of the same name. */
static json_t *event(struct pxd_dest *dest, const json_t *ev)
{
	const struct mixpanel *mp = dest->priv;
	char iid[PXD_SHA256_HEX_LEN + 1];
	json_t *p = pxd_analytics_props(ev);
	json_t *traits = pxd_analytics_traits(ev);
	const char *name;
	int rc = !p || !traits;

	if (!rc)
		rc |= json_object_update(p, traits);
	insert_id(pxd_payload_str(ev, NULL, "event_id"), iid);
	if (!rc)
		rc |= json_object_set_new(p, "time", json_integer(pxd_payload_ts_ms(ev)));
	if (!rc)
		rc |= json_object_set_new(p, "$insert_id", json_string(iid));
	if (!rc)
		rc |= pxd_analytics_copy_str(p, "ip", ev, NULL, "ip");
	if (!rc)
		rc |= pxd_analytics_copy_str(p, "$current_url", ev, NULL, "url");
	if (!rc)
		rc |= pxd_analytics_copy_str(p, "$referrer", ev, NULL, "referrer");
	if (!rc && mp->token_auth)
		rc |= json_object_set_new(p, "token", json_string(mp->token));
	name = rc ? NULL : call(dest, ev, p, &rc);
	json_decref(traits);
	if (rc) {
		json_decref(p);
		return NULL;
	}
	return json_pack("{s:s, s:o}", "event", name, "properties", p);
}

/* Identify on /engage: $set the traits and props on user.id's profile. */
static json_t *profile_update(struct pxd_dest *dest, const json_t *ev)
{
	const struct mixpanel *mp = dest->priv;
	json_t *set = pxd_analytics_identify_traits(ev);
	json_t *u = json_pack("{s:s, s:s}", "$token", mp->token, "$distinct_id",
			      pxd_payload_str(ev, "user", "id"));
	int rc = !set || !u;

	if (!rc)
		rc |= pxd_analytics_copy_str(u, "$ip", ev, NULL, "ip");
	if (!rc)
		rc |= json_object_set(u, "$set", set);
	json_decref(set);
	if (rc) {
		json_decref(u);
		return NULL;
	}
	return u;
}

/* Group on /groups: $set the group's traits on its profile. */
static json_t *group_update(struct pxd_dest *dest, const json_t *ev)
{
	const struct mixpanel *mp = dest->priv;

	return json_pack("{s:s, s:s, s:s, s:o*}", "$token", mp->token, "$group_key",
			 pxd_analytics_group_type(ev), "$group_id",
			 pxd_payload_str(ev, "props", "group_id"), "$set", pxd_analytics_props(ev));
}

static int endpoint_of(const json_t *ev)
{
	switch (pxd_analytics_kind(ev)) {
	case PXD_ANALYTICS_IDENTIFY_CALL:
		return ENDPOINT_ENGAGE;
	case PXD_ANALYTICS_GROUP_CALL:
		return ENDPOINT_GROUPS;
	default:
		return ENDPOINT_IMPORT;
	}
}

/* The batch_split.h key: which endpoint item <it> goes to. */
static int endpoint(const struct pxd_dest *dest, const struct pxd_batch_item *it)
{
	(void)dest;
	return endpoint_of(it->ev);
}

/* One endpoint's request: pxd_split_build() hands over events of one kind. */
static int build_one(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	static pxd_analytics_event_fn *const fns[ENDPOINT_COUNT] = {
		[ENDPOINT_IMPORT] = event,
		[ENDPOINT_ENGAGE] = profile_update,
		[ENDPOINT_GROUPS] = group_update,
	};
	struct mixpanel *mp = dest->priv;
	int e = b->n ? endpoint(dest, &b->items[0]) : ENDPOINT_IMPORT;
	json_t *root = json_array();
	int rc = pxd_analytics_basic_auth(req, mp->user, mp->secret);

	if (!rc)
		rc = pxd_analytics_build(dest, b, root, NULL, fns[e], mp->url[e], req);
	json_decref(root);
	return rc;
}

static int mixpanel_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	return pxd_split_build(dest, b, req, endpoint, build_one);
}

/* Nesting depth of <v>: 0 for a scalar, 1 for a flat object or array. */
static int depth(const json_t *v)
{
	const char *k;
	json_t *m;
	size_t i;
	int d = 0;

	if (json_is_object(v))
		json_object_foreach((json_t *)v, k, m)
		{
			d = PXD_MAX(d, depth(m));
		}
	else if (json_is_array(v))
		json_array_foreach(v, i, m)
		{
			d = PXD_MAX(d, depth(m));
		}
	else
		return 0;
	return d + 1;
}

static enum pxd_delivery mixpanel_validate(struct pxd_dest *dest, const json_t *ev, char *reason,
					   size_t reason_len)
{
	const struct mixpanel *mp = dest->priv;
	const json_t *props = json_object_get(ev, "props");
	const char *id = distinct_id(ev);
	enum pxd_delivery d;

	d = pxd_analytics_check(ev, PLATFORM, ~0u, MAX_AGE_MS, 0, reason, reason_len);
	if (d != PXD_DELIVERY_OK)
		return d;
	if (placeholder(id)) {
		snprintf(reason, reason_len,
			 PLATFORM ": distinct_id \"%.40s\" is a placeholder Mixpanel refuses; send "
				  "a real user.id or anonymous id",
			 id);
		return PXD_DELIVERY_PERMANENT;
	}
	if (endpoint_of(ev) != ENDPOINT_IMPORT && !mp->token[0]) {
		snprintf(reason, reason_len,
			 PLATFORM ": profile updates (Identify, Group) carry the project token; "
				  "set project_token for this destination");
		return PXD_DELIVERY_PERMANENT;
	}
	/* Our own properties (time, ids, ip, url, traits) take up to 20 slots. */
	if (json_object_size(props) + 20 > MAX_PROPERTIES || depth(props) > MAX_DEPTH) {
		snprintf(reason, reason_len,
			 PLATFORM ": props has %zu members or nests deeper than %d; Mixpanel "
				  "takes at most %d properties nested %d deep",
			 json_object_size(props), MAX_DEPTH, MAX_PROPERTIES - 20, MAX_DEPTH);
		return PXD_DELIVERY_PERMANENT;
	}
	return PXD_DELIVERY_OK;
}

/* §2: with strict=1 a 400 lists failed_records[{index, $insert_id, field,
 * message}]; the events not listed were imported. */
static bool classify_failed(const struct pxd_batch *b, const json_t *body, struct pxd_outcome *out)
{
	const json_t *failed = json_object_get(body, "failed_records");
	const json_t *f;
	size_t i;

	if (!json_array_size(failed))
		return false;
	pxd_payload_outcomes(out, b->n, PXD_DELIVERY_OK, 0, PLATFORM ": imported");
	json_array_foreach(failed, i, f)
	{
		json_int_t k = json_integer_value(json_object_get(f, "index"));
		const char *field = json_string_value(json_object_get(f, "field"));
		const char *msg = json_string_value(json_object_get(f, "message"));

		if (!json_is_integer(json_object_get(f, "index")) || k < 0 || (size_t)k >= b->n)
			continue;
		pxd_payload_outcomes(&out[k], 1, PXD_DELIVERY_PERMANENT, 0,
				     PLATFORM ": %.40s: %.120s", field ? field : "-",
				     msg ? msg : "failed validation");
	}
	return true;
}

/* /engage and /groups with verbose=1 [U]: {"status":1} took the whole
 * request; {"status":0,"error":...} (with a 200 or a 400) refused it
 * without naming an update, so a batch of several is bisected. */
static void classify_profiles(const struct pxd_batch *b, const struct pxd_response *resp,
			      struct pxd_outcome *out)
{
	json_t *body =
	    resp->status == 200 || resp->status == 400 ? pxd_payload_parse_body(resp) : NULL;
	const json_t *status = json_object_get(body, "status");
	const char *error = json_string_value(json_object_get(body, "error"));

	if (!json_is_integer(status) || json_integer_value(status) == 1)
		pxd_analytics_classify_whole(PLATFORM, resp, false, out, b->n);
	else
		pxd_payload_outcomes(out, b->n, PXD_DELIVERY_PERMANENT, 0, "%s" PLATFORM ": %.150s",
				     b->n > 1 ? PXD_BISECT_REASON : "",
				     error ? error : "profile update refused");
	json_decref(body);
}

static void classify_one(struct pxd_dest *dest, const struct pxd_batch *b,
			 const struct pxd_response *resp, struct pxd_outcome *out)
{
	json_t *body;

	if (b->n && endpoint(dest, &b->items[0]) != ENDPOINT_IMPORT) {
		classify_profiles(b, resp, out);
		return;
	}
	body = resp->status == 400 ? pxd_payload_parse_body(resp) : NULL;
	if (!body || !classify_failed(b, body, out))
		pxd_analytics_classify_whole(PLATFORM, resp, false, out, b->n);
	json_decref(body);
}

static void mixpanel_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			      const struct pxd_response *resp, struct pxd_outcome *out)
{
	pxd_split_classify(dest, b, resp, out, endpoint, classify_one, PLATFORM);
}

const struct pxd_adapter pxd_adapter_mixpanel = {
	.type = "mixpanel",
	.max_events = 2000,
	/* §9.11: 10 MB uncompressed per request, filled to 80% (§10.1). */
	.max_bytes = 8 * 1000 * 1000,
	.flags = PXD_ADAPTER_ANALYTICS,
	.init = mixpanel_init,
	.fini = mixpanel_fini,
	.validate = mixpanel_validate,
	.build = mixpanel_build,
	.classify = mixpanel_classify,
};
