// SPDX-License-Identifier: MIT
/*
 * posthog.c - PostHog capture /batch (specs/ad-apis.md §9.12): POST
 * {api_base}/batch/ with the project api_key in the body and up to 1,000
 * events. uuid is the event_id (a UUID derived from it when it is not one),
 * so PostHog sees one event however often a retry or replay sends it.
 * PageView is $pageview; Identify, Group and Alias are $identify,
 * $groupidentify and $create_alias. Events without user.id are sent with
 * $process_person_profile false: they make no person profile.
 */
#include "adapter.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "analytics.h"
#include "payload.h"

#define PLATFORM "posthog"
/* §7: older events are taken (historical_migration marks a backfill); ten
 * years is a sanity bound. */
#define MAX_AGE_MS (3650 * PXD_PAYLOAD_DAY_MS)
/* §9.12: 1 MB per event, kept under 900 kB as rudder found necessary. */
#define MAX_EVENT_BYTES (900 * 1000)
#define UUID_LEN 36

struct posthog {
	struct pxd_analytics_keyed http; /* first: pxd_analytics_keyed_fini() */
	bool historical;
};

static const char *const conf_keys[] = { "api_base", "api_key", "historical_migration", NULL };

static int posthog_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	static const struct pxd_analytics_init in = {
		.keys = conf_keys,
		.api_base = "https://us.i.posthog.com",
		.path = "/batch/",
		.secret_key = "api_key",
		.map_chars = " -.:$",
	};
	struct posthog *ph;
	int rc = pxd_analytics_keyed_init(dest, sizeof(*ph), conf_path, &in, err, errlen);

	ph = dest->priv;
	if (!rc && strncmp(ph->http.key, "phc_", 4) != 0) {
		/* A personal key (phx_) is for the private API and is refused
		 * by capture (§9.12). */
		snprintf(err, errlen,
			 "%s:%d: api_key: not a project API key (phc_...); copy it from the "
			 "project's settings",
			 conf_path, dest->conf->line);
		rc = -EINVAL;
	}
	if (!rc)
		rc = pxd_payload_bool(dest, conf_path, "historical_migration", false,
				      &ph->historical, err, errlen);
	return rc;
}

static bool is_uuid(const char *s)
{
	if (strlen(s) != UUID_LEN)
		return false;
	for (size_t i = 0; i < UUID_LEN; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-'
							    : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* uuid (§6): the event_id when it is a UUID, else one made from its
 * SHA-256 (version 8, RFC 9562 §5.8), the same on every retry. */
static void event_uuid(const char *event_id, char out[UUID_LEN + 1])
{
	char h[PXD_SHA256_HEX_LEN + 1];
	static const char hex[] = "0123456789abcdef";

	if (is_uuid(event_id)) {
		memcpy(out, event_id, UUID_LEN + 1);
		return;
	}
	pxd_payload_sha256_hex(event_id, strlen(event_id), h);
	h[12] = '8';
	h[16] = hex[8 + (strchr(hex, h[16]) - hex) % 4];
	snprintf(out, UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

static const char *distinct_id(const json_t *ev)
{
	const char *id = pxd_payload_str(ev, "user", "id");

	return id ? id : pxd_analytics_anon_id(ev);
}

/* The call's name and its own properties (§9.12 special events). */
static const char *call(struct pxd_dest *dest, const json_t *ev, json_t *p, int *rc)
{
	const char *name;
	json_t *set;

	switch (pxd_analytics_kind(ev)) {
	case PXD_ANALYTICS_PAGE:
		name = pxd_payload_event_name(dest, "PageView", NULL, 0, false);
		return name ? name : "$pageview";
	case PXD_ANALYTICS_IDENTIFY_CALL:
		set = pxd_analytics_identify_traits(ev);
		*rc |= !set;
		*rc |= json_object_set_new(p, "$set", set);
		if (pxd_analytics_anon_id(ev))
			*rc |= json_object_set_new(p, "$anon_distinct_id",
						   json_string(pxd_analytics_anon_id(ev)));
		return "$identify";
	case PXD_ANALYTICS_GROUP_CALL:
		*rc |= json_object_set_new(p, "$group_type",
					   json_string(pxd_analytics_group_type(ev)));
		*rc |= pxd_analytics_copy_str(p, "$group_key", ev, "props", "group_id");
		*rc |= json_object_set_new(p, "$group_set", pxd_analytics_props(ev));
		return "$groupidentify";
	case PXD_ANALYTICS_ALIAS_CALL:
		*rc |= pxd_analytics_copy_str(p, "alias", ev, "props", "previous_id");
		return "$create_alias";
	case PXD_ANALYTICS_TRACK:
	case PXD_ANALYTICS_KIND_COUNT:
		break;
	}
	return pxd_payload_event_name(dest, pxd_payload_str(ev, NULL, "event"), NULL, 0, true);
}

static json_t *event(struct pxd_dest *dest, const json_t *ev)
{
	char uuid[UUID_LEN + 1], ts[PXD_ANALYTICS_ISO_LEN];
	json_t *p = json_object();
	json_t *traits = pxd_analytics_traits(ev);
	enum pxd_analytics_kind k = pxd_analytics_kind(ev);
	const char *name = NULL;
	int rc = !p || !traits;

	/* Events carry their props; PostHog's own fields below win a clash. */
	if (!rc && (k == PXD_ANALYTICS_TRACK || k == PXD_ANALYTICS_PAGE))
		rc |= pxd_analytics_merge_props(p, ev);
	if (!rc)
		rc |= pxd_analytics_copy_str(p, "$current_url", ev, NULL, "url");
	if (!rc)
		rc |= pxd_analytics_copy_str(p, "$referrer", ev, NULL, "referrer");
	if (!rc)
		rc |= pxd_analytics_copy_str(p, "$ip", ev, NULL, "ip");
	if (!rc)
		rc |= pxd_analytics_copy_str(p, "$raw_user_agent", ev, NULL, "ua");
	/* Anonymous events make no person profile (§9.12); known users get
	 * the traits on theirs. */
	if (!rc && !pxd_payload_str(ev, "user", "id"))
		rc |= json_object_set_new(p, "$process_person_profile", json_false());
	else if (!rc && json_object_size(traits) && k != PXD_ANALYTICS_IDENTIFY_CALL)
		rc |= json_object_set(p, "$set", traits);
	if (!rc)
		name = call(dest, ev, p, &rc);
	json_decref(traits);
	if (rc) {
		json_decref(p);
		return NULL;
	}
	event_uuid(pxd_payload_str(ev, NULL, "event_id"), uuid);
	pxd_analytics_iso8601(pxd_payload_ts_ms(ev), ts);
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "event", name, "distinct_id", distinct_id(ev),
			 "uuid", uuid, "timestamp", ts, "properties", p);
}

static int posthog_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct posthog *ph = dest->priv;
	json_t *root = json_pack("{s:s, s:b, s:[]}", "api_key", ph->http.key,
				 "historical_migration", ph->historical, "batch");
	int rc = pxd_analytics_build(dest, b, root, "batch", event, ph->http.url, req);

	json_decref(root);
	return rc;
}

static enum pxd_delivery posthog_validate(struct pxd_dest *dest, const json_t *ev, char *reason,
					  size_t reason_len)
{
	(void)dest;
	return pxd_analytics_check(ev, PLATFORM, ~0u, MAX_AGE_MS, MAX_EVENT_BYTES, reason,
				   reason_len);
}

const struct pxd_adapter pxd_adapter_posthog = {
	.type = "posthog",
	/* §1: no count limit is documented; 1,000 keeps a bisection short. */
	.max_events = 1000,
	/* §1: rudder sends 10 MB chunks; 80% of that (§10.1). */
	.max_bytes = 8 * 1000 * 1000,
	.flags = PXD_ADAPTER_ANALYTICS,
	.init = posthog_init,
	.fini = pxd_analytics_keyed_fini,
	.validate = posthog_validate,
	.build = posthog_build,
	/* §2 [U]: 2xx taken; a 400 can be one event's doing, so it is bisected;
	 * 401 is the key's; 413 halved; 429 and 5xx retried. */
	.classify = pxd_analytics_classify_batch,
};
