// SPDX-License-Identifier: MIT
/*
 * Segment's context and envelope: click ids from the campaign and the page
 * URL, traits (plain, or hashed by a sending pixeld) to user fields, Consent
 * preferences, and integrations to the canonical "to"/"not_to" lists. Any
 * thread; no state.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "daemon/event/pii.h"
#include "daemon/event/segment_map.h"

struct integration {
	const char *segment; /* the name in a message's integrations object */
	const char *type;    /* the pixeld destination type it stands for */
};

/* Segment's destination names (and pixeld's type names) per destination type. */
static const struct integration integrations[] = {
	{ "Facebook Conversions API", "meta" },
	{ "Facebook Conversions API (Actions)", "meta" },
	{ "Facebook Pixel", "meta" },
	{ "meta", "meta" },
	{ "Google Analytics 4", "ga4" },
	{ "Google Analytics 4 Cloud", "ga4" },
	{ "Google Analytics 4 Web", "ga4" },
	{ "ga4", "ga4" },
	{ "Google Ads Conversions", "google_ads" },
	{ "Google AdWords New", "google_ads" },
	{ "Google Ads (Gtag)", "google_ads" },
	{ "google_ads", "google_ads" },
	{ "TikTok Conversions", "tiktok" },
	{ "TikTok Pixel", "tiktok" },
	{ "tiktok", "tiktok" },
	{ "Webhooks", "webhook" },
	{ "Webhook", "webhook" },
	{ "webhook", "webhook" },
	{ "Segment.io", "segment" },
	{ "segment", "segment" },
	{ "Amplitude", "amplitude" },
	{ "Actions Amplitude", "amplitude" },
	{ "amplitude", "amplitude" },
	{ "Mixpanel", "mixpanel" },
	{ "Mixpanel (Actions)", "mixpanel" },
	{ "mixpanel", "mixpanel" },
	{ "PostHog", "posthog" },
	{ "posthog", "posthog" },
};

/* Click ids read from context.campaign and the page URL's query. */
static const char *const click_keys[] = { "gclid",   "wbraid",	  "gbraid", "ttclid",
					  "msclkid", "li_fat_id", "sccid",  "epik",
					  "rdt_cid", "fbc",	  "fbp" };

/* Traits that are user fields: they leave as hashed user.* and never as props. */
struct trait {
	const char *name;
	const char *user_field;
};

static const struct trait traits_map[] = {
	{ "email", "email" },
	{ "phone", "phone" },
	{ "firstName", "first_name" },
	{ "first_name", "first_name" },
	{ "lastName", "last_name" },
	{ "last_name", "last_name" },
	{ "gender", "gender" },
	{ "birthday", "dob" },
	{ "name", NULL },
	{ "address", NULL },
};

/*
 * Traits holding a value already normalized and hashed, as a pixeld
 * `segment` destination sends them (adapters/analytics.c). Each goes into
 * its plain user field: the canonical serializer passes a value that is 64
 * lowercase hex on unchanged (pii.h), so nothing is hashed twice. The
 * E.164 and Google forms, which cannot be derived from a hash, go into
 * their own user fields and out beside the hashed phone and email.
 */
static const struct trait hashed_traits[] = {
	{ "email_sha256", "email" },
	{ "phone_sha256", "phone" },
	{ "first_name_sha256", "first_name" },
	{ "last_name_sha256", "last_name" },
	{ "gender_sha256", "gender" },
	{ "dob_sha256", "dob" },
	{ "email_google_sha256", "email_google_sha256" },
	{ "phone_e164_sha256", "phone_e164_sha256" },
};

/* Click ids in "a=1&gclid=X" (no percent-decoding: click ids are URL-safe). */
static int clicks_from_query(json_t *click, const char *q, int64_t received_ms)
{
	char fbc[320];

	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', n);

		if (eq) {
			size_t kn = (size_t)(eq - q), vn = n - kn - 1;

			for (size_t i = 0; i < ARRAY_SIZE(click_keys) && vn; i++)
				if (strlen(click_keys[i]) == kn && !memcmp(q, click_keys[i], kn) &&
				    !json_object_get(click, click_keys[i]) &&
				    json_object_set_new(click, click_keys[i],
							json_stringn(eq + 1, vn)))
					return -ENOMEM;
			/* Meta's click cookie format: fb.1.<ms>.<fbclid> (ad-apis.md 9.1). */
			if (kn == 6 && !memcmp(q, "fbclid", 6) && vn && vn < 256 &&
			    !json_object_get(click, "fbc")) {
				snprintf(fbc, sizeof(fbc), "fb.1.%lld.%.*s", (long long)received_ms,
					 (int)vn, eq + 1);
				if (json_object_set_new(click, "fbc", json_string(fbc)))
					return -ENOMEM;
			}
		}
		q = amp ? amp + 1 : NULL;
	}
	return 0;
}

static const char *url_query(const json_t *url)
{
	const char *s = json_string_value(url);
	const char *q = s ? strchr(s, '?') : NULL;

	return q ? q + 1 : NULL;
}

int pxd_segment_map_clicks(json_t *ev, json_t *ctx, json_t *page, int64_t received_ms)
{
	json_t *click = json_object();
	json_t *campaign = json_object_get(ctx, "campaign");
	const char *search = json_string_value(json_object_get(page, "search"));
	int rc = 0;

	if (!click)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(click_keys) && !rc; i++)
		rc = pxd_segment_set_text(click, click_keys[i],
					  json_object_get(campaign, click_keys[i]));
	if (!rc)
		rc = clicks_from_query(click, search && *search == '?' ? search + 1 : search,
				       received_ms);
	if (!rc)
		rc = clicks_from_query(click, url_query(json_object_get(page, "url")), received_ms);
	if (!rc && json_object_size(click))
		return json_object_set_new(ev, "click", click);
	json_decref(click);
	return rc;
}

/* A trait holding a user field goes to user.*, never to props. */
bool pxd_segment_is_user_trait(const char *k)
{
	for (size_t i = 0; i < ARRAY_SIZE(traits_map); i++)
		if (!strcmp(traits_map[i].name, k))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(hashed_traits); i++)
		if (!strcmp(hashed_traits[i].name, k))
			return true;
	return false;
}

/* The hashed traits of <traits> into the user fields not set yet (a plain
 * trait, hashed at ingest, comes first); one that is not 64 lowercase hex
 * is left out and counted in <*dropped>, never hashed again. */
static int map_hashed_traits(json_t *user, const json_t *traits, unsigned *dropped)
{
	for (size_t i = 0; i < ARRAY_SIZE(hashed_traits); i++) {
		const json_t *v = json_object_get(traits, hashed_traits[i].name);

		if (!v)
			continue;
		if (!json_is_string(v) ||
		    !pxd_pii_is_sha256_hex(json_string_value(v), json_string_length(v))) {
			(*dropped)++;
			continue;
		}
		if (hashed_traits[i].user_field &&
		    !json_object_get(user, hashed_traits[i].user_field) &&
		    json_object_set_new(user, hashed_traits[i].user_field,
					json_stringn(json_string_value(v), PXD_PII_HEX_LEN)))
			return -ENOMEM;
	}
	return 0;
}

int pxd_segment_map_traits(json_t *user, const json_t *traits, unsigned *dropped)
{
	const json_t *addr = json_object_get(traits, "address");
	const json_t *bday = json_object_get(traits, "birthday");
	int rc = 0;

	for (size_t i = 0; i < ARRAY_SIZE(traits_map) && !rc; i++)
		if (traits_map[i].user_field && strcmp(traits_map[i].name, "birthday") &&
		    !json_object_get(user, traits_map[i].user_field))
			rc = pxd_segment_set_text(user, traits_map[i].user_field,
						  json_object_get(traits, traits_map[i].name));
	/* ISO date-times ("1990-05-01T00:00:00.000Z"): the date part is the birth date. */
	if (!rc && json_is_string(bday) && json_string_length(bday) >= 10 &&
	    !json_object_get(user, "dob"))
		rc = json_object_set_new(user, "dob", json_stringn(json_string_value(bday), 10));
	if (!rc)
		rc = pxd_segment_set_text(user, "city", json_object_get(addr, "city"));
	if (!rc)
		rc = pxd_segment_set_text(user, "state", json_object_get(addr, "state"));
	if (!rc)
		rc = pxd_segment_set_text(user, "zip", json_object_get(addr, "postalCode"));
	if (!rc)
		rc = pxd_segment_set_text(user, "zip", json_object_get(addr, "postal_code"));
	if (!rc)
		rc = pxd_segment_set_text(user, "country", json_object_get(addr, "country"));
	if (!rc)
		rc = map_hashed_traits(user, traits, dropped);
	return rc;
}

/* Segment Consent: context.consent.categoryPreferences {Advertising, Analytics}. */
int pxd_segment_map_consent(json_t *ev, json_t *ctx)
{
	json_t *prefs = json_object_get(json_object_get(ctx, "consent"), "categoryPreferences");
	json_t *ads = json_object_get(prefs, "Advertising");
	json_t *analytics = json_object_get(prefs, "Analytics");
	json_t *c;
	int rc = 0;

	if (!json_is_boolean(ads) && !json_is_boolean(analytics))
		return 0;
	c = json_object();
	if (!c)
		return -ENOMEM;
	if (json_is_boolean(ads)) {
		const char *w = json_is_true(ads) ? "granted" : "denied";

		rc |= json_object_set_new(c, "ad_storage", json_string(w));
		rc |= json_object_set_new(c, "ad_user_data", json_string(w));
		rc |= json_object_set_new(c, "ad_personalization", json_string(w));
	}
	if (json_is_boolean(analytics))
		rc |= json_object_set_new(
		    c, "analytics_storage",
		    json_string(json_is_true(analytics) ? "granted" : "denied"));
	rc |= json_object_set_new(ev, "consent", c);
	return rc ? -ENOMEM : 0;
}

/* A destination's setting in integrations: false is off, anything else
 * (true, an options object) is on. */
static bool integration_on(const json_t *v)
{
	return !json_is_false(v);
}

/*
 * integrations -> "to" or "not_to": with All false (default true) the types
 * a name turns on, else the types a name turns off; neither when no name
 * changes what All says. A type pixeld does not know follows All.
 */
int pxd_segment_map_integrations(json_t *ev, json_t *ints)
{
	static const char *const types[] = { "meta",	  "ga4",      "google_ads",
					     "tiktok",	  "webhook",  "segment",
					     "amplitude", "mixpanel", "posthog" };
	bool all = !json_is_false(json_object_get(ints, "All"));
	json_t *list;

	if (!json_is_object(ints))
		return 0;
	list = json_array();
	if (!list)
		return -ENOMEM;
	for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
		bool on = all;

		for (size_t i = 0; i < ARRAY_SIZE(integrations); i++) {
			json_t *v = json_object_get(ints, integrations[i].segment);

			if (v && !strcmp(integrations[i].type, types[t]))
				on = integration_on(v);
		}
		if (on != all && json_array_append_new(list, json_string(types[t]))) {
			json_decref(list);
			return -ENOMEM;
		}
	}
	if (all && !json_array_size(list)) {
		json_decref(list);
		return 0;
	}
	return json_object_set_new(ev, all ? "not_to" : "to", list);
}
