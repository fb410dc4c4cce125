/* SPDX-License-Identifier: MIT */
/*
 * event.h - the canonical event: the record every way in fills (pixel query,
 * beacon JSON, email open), its validation, and its one
 * serialized form, the JSON line that is journaled and that every adapter
 * reads. A struct pxd_event only views bytes owned by the request; it
 * belongs to the ingest thread handling that request.
 */
#ifndef PXD_EVENT_H
#define PXD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "compiler.h"
#include "refusal.h"
#include "strview.h"
#include "uuid7.h"

/*
 * The canonical record, as pxd_event_serialize() writes it: one compact JSON
 * object on one line (no newline), UTF-8, keys always in this order, a key
 * left out when it has no value (never null, never ""):
 *
 *   "v"            1, the format version; bumped on an incompatible change
 *   "event_id"     1..64 printable ASCII; the client's, else a UUIDv7. The
 *                  dedup key towards every platform
 *   "event"        1..64 of [A-Za-z0-9_ .-]: PageView, ViewContent, Search,
 *                  AddToCart, AddToWishlist, InitiateCheckout, AddPaymentInfo,
 *                  Purchase, Lead, CompleteRegistration, Subscribe,
 *                  StartTrial, Contact, EmailOpen, or a custom name;
 *                  Identify, Group and Alias (Segment's calls of those
 *                  names) go only to destinations that are not ad platforms
 *   "ts"           integer Unix ms when the event happened (received_at when
 *                  the client sent none; client seconds are converted)
 *   "received_at"  integer Unix ms when the collector got it
 *   "source"       "pixel" | "beacon" | "s2s" | "segment" | "email"
 *   "action_source"  where it happened, set by servers (s2s, Segment): website,
 *                  app, phone_call, physical_store, system_generated, email,
 *                  chat, other; absent from browsers. Adapters map it per
 *                  platform
 *   "tenant", "host"        who it belongs to, the Host it came in on
 *   "scheme"       "https" when it came over TLS (server.tls_listen); absent for http
 *   "url", "referrer"       page and referrer, <= 2048 bytes each
 *   "ip", "ua"     client address (text) and user agent
 *   "fp_id"        first-party id cookie
 *   "user": {      never a plain email, phone, name, gender or birth date:
 *     "id", "anon_id"              as sent (not hashed)
 *     "email_sha256"               trim + lowercase          (all platforms)
 *     "email_google_sha256"        gmail dots removed, only when different
 *     "phone_sha256"               digits only, no '+'       (Meta, Snap, Pinterest)
 *     "phone_e164_sha256"          '+' and digits            (Google, TikTok)
 *     "first_name_sha256", "last_name_sha256", "gender_sha256" ("f"/"m"),
 *     "dob_sha256" (YYYYMMDD)
 *     "city", "state", "zip", "country"   normalized plain text; adapters
 *                                  that want them hashed hash them
 *   }              every *_sha256 is 64 lowercase hex digits (specs/ad-apis.md
 *                  §3-4); a value the client sent already hashed is kept as
 *                  is, and then its Google or E.164 variant is the one
 *                  sent beside it as user.email_google_sha256 /
 *                  user.phone_e164_sha256, if any
 *   "click": {"fbc", "fbp", "gclid", "wbraid", "gbraid", "ttclid", "ttp",
 *             "li_fat_id", "sccid", "epik", "rdt_cid", "msclkid"}
 *                  verbatim strings: click ids are case-sensitive
 *   "props": {...} beacon: the client's props object, validated (value >= 0,
 *                  currency 3 letters in upper case, order_id, content_ids,
 *                  contents, num_items) and otherwise free-form.
 *                  pixel: "value" (number), "currency", "order_id", then the
 *                  p.<name> custom props as strings
 *   "consent": {"ad_storage", "ad_user_data", "ad_personalization",
 *               "analytics_storage"}: "granted" | "denied", only those sent
 *   "to"           keyed APIs only (Segment's integrations with All false):
 *                  the only destination types that receive it, e.g.
 *                  ["meta","ga4"], possibly []
 *   "not_to"       (integrations with All true and some off): the types that
 *                  do not; without either key every destination does. Local
 *                  sinks (jsonl) always receive it
 *
 * Example:
 *   {"v":1,"event_id":"0193552a-...","event":"Purchase","ts":1732300000123,
 *    "received_at":1732300000456,"source":"beacon","tenant":"shop",
 *    "host":"t.shop.example","url":"https://shop.example/checkout",
 *    "ip":"203.0.113.9","ua":"Mozilla/5.0 ...","user":{"email_sha256":"973d..."},
 *    "click":{"fbc":"fb.1.1554763741205.IwAR..."},
 *    "props":{"value":99.99,"currency":"USD"},"consent":{"ad_storage":"granted"}}
 */

#define PXD_EVENT_NAME_MAX 64	   /* "event" */
#define PXD_EVENT_ID_MAX 64	   /* "event_id" */
#define PXD_EVENT_URL_MAX 2048	   /* "url", "referrer" */
#define PXD_EVENT_USER_MAX 256	   /* each user.* input */
#define PXD_EVENT_FIELD_MAX 1024   /* click ids, order_id, custom prop values */
#define PXD_EVENT_MAX_CUSTOM 32	   /* p.<name> props of a pixel */
#define PXD_EVENT_PROP_NAME_MAX 40 /* <name> of p.<name>: [A-Za-z0-9_] */
#define PXD_EVENT_FUTURE_MS (10 * 60 * 1000)
#define PXD_EVENT_MIN_TS_MS INT64_C(946684800000) /* 2000-01-01T00:00:00Z */
/* A client ts below this is seconds: read as ms it would be 1973-03-03 or
 * earlier, refused anyway, so the two readings never overlap. */
#define PXD_EVENT_TS_SECONDS_BELOW INT64_C(100000000000)

enum pxd_event_source {
	PXD_EVENT_SOURCE_PIXEL = 0,
	PXD_EVENT_SOURCE_BEACON,
	PXD_EVENT_SOURCE_S2S,
	PXD_EVENT_SOURCE_SEGMENT,
	PXD_EVENT_SOURCE_EMAIL,
	PXD_EVENT_SOURCE_COUNT, /* number of sources; keep last */
};

/* user.* as sent; the direct identifiers among them are hashed on output. */
enum pxd_user_field {
	PXD_USER_FIELD_ID = 0,
	PXD_USER_FIELD_ANON_ID,
	PXD_USER_FIELD_EMAIL,
	PXD_USER_FIELD_PHONE,
	PXD_USER_FIELD_FIRST_NAME,
	PXD_USER_FIELD_LAST_NAME,
	PXD_USER_FIELD_CITY,
	PXD_USER_FIELD_STATE,
	PXD_USER_FIELD_ZIP,
	PXD_USER_FIELD_COUNTRY,
	PXD_USER_FIELD_GENDER,
	PXD_USER_FIELD_DOB,
	/* Google's and E.164's hash of an email or phone that came already
	 * hashed (a pixeld's segment destination sends both forms): 64
	 * lowercase hex, used only beside a hashed email or phone. */
	PXD_USER_FIELD_EMAIL_GOOGLE_SHA256,
	PXD_USER_FIELD_PHONE_E164_SHA256,
	PXD_USER_FIELD_COUNT, /* number of user fields; keep last */
};

enum pxd_click_field {
	PXD_CLICK_FIELD_FBC = 0,
	PXD_CLICK_FIELD_FBP,
	PXD_CLICK_FIELD_GCLID,
	PXD_CLICK_FIELD_WBRAID,
	PXD_CLICK_FIELD_GBRAID,
	PXD_CLICK_FIELD_TTCLID,
	PXD_CLICK_FIELD_TTP,
	PXD_CLICK_FIELD_LI_FAT_ID,
	PXD_CLICK_FIELD_SCCID,
	PXD_CLICK_FIELD_EPIK,
	PXD_CLICK_FIELD_RDT_CID,
	PXD_CLICK_FIELD_MSCLKID,
	PXD_CLICK_FIELD_COUNT, /* number of click fields; keep last */
};

enum pxd_consent_field {
	PXD_CONSENT_FIELD_AD_STORAGE = 0,
	PXD_CONSENT_FIELD_AD_USER_DATA,
	PXD_CONSENT_FIELD_AD_PERSONALIZATION,
	PXD_CONSENT_FIELD_ANALYTICS_STORAGE,
	PXD_CONSENT_FIELD_COUNT, /* number of consent fields; keep last */
};

/* Destination types "to"/"not_to" may name (bit i: pxd_event_to_names[i]). */
enum pxd_event_to {
	PXD_EVENT_TO_META = 0,
	PXD_EVENT_TO_GA4,
	PXD_EVENT_TO_GOOGLE_ADS,
	PXD_EVENT_TO_TIKTOK,
	PXD_EVENT_TO_WEBHOOK,
	PXD_EVENT_TO_SEGMENT,
	PXD_EVENT_TO_AMPLITUDE,
	PXD_EVENT_TO_MIXPANEL,
	PXD_EVENT_TO_POSTHOG,
	PXD_EVENT_TO_COUNT, /* number of destination types; keep last */
};

enum pxd_consent {
	PXD_CONSENT_UNSET = 0,
	PXD_CONSENT_GRANTED,
	PXD_CONSENT_DENIED,
	PXD_CONSENT_INVALID, /* sent, but neither word: pxd_event_check refuses it */
	PXD_CONSENT_COUNT,   /* number of consent states; keep last */
};

/* Field names as the canonical JSON spells them ("email", "li_fat_id",
 * "ad_storage"), indexed by the enums above. */
extern const struct pxd_sv pxd_event_user_names[PXD_USER_FIELD_COUNT];
extern const struct pxd_sv pxd_event_click_names[PXD_CLICK_FIELD_COUNT];
extern const struct pxd_sv pxd_event_consent_names[PXD_CONSENT_FIELD_COUNT];
extern const struct pxd_sv pxd_event_to_names[PXD_EVENT_TO_COUNT];

struct pxd_event_prop {
	struct pxd_sv name;
	struct pxd_sv value;
};

/*
 * One event. A view with p == NULL is absent; one with p != NULL and n == 0
 * was sent empty (pxd_event_check refuses an empty event_id, and the other
 * empty fields are left out of the record). Parsers fill the client part,
 * the endpoint the server part, pxd_event_serialize() the defaults.
 */
struct pxd_event {
	/* client */
	struct pxd_sv event_id;
	struct pxd_sv name;
	int64_t ts; /* as sent: Unix ms, or seconds (see PXD_EVENT_TS_SECONDS_BELOW) */
	bool has_ts;
	struct pxd_sv url;
	struct pxd_sv referrer;
	struct pxd_sv action_source; /* keyed APIs only; pxd_event_check knows the words */
	struct pxd_sv user[PXD_USER_FIELD_COUNT];
	struct pxd_sv click[PXD_CLICK_FIELD_COUNT];
	enum pxd_consent consent[PXD_CONSENT_FIELD_COUNT];
	uint32_t to; /* bits of enum pxd_event_to, when <has_to> */
	bool has_to;
	bool to_except; /* <to> lists the types that do not receive it ("not_to") */

	/* props: <props_json> (beacon) wins over the rest (pixel) on output */
	double value;
	bool has_value;
	struct pxd_sv currency;
	struct pxd_sv order_id;
	struct pxd_sv props_json; /* a whole serialized JSON object, validated */
	struct pxd_event_prop custom[PXD_EVENT_MAX_CUSTOM];
	unsigned ncustom;

	/* server */
	int64_t received_at; /* Unix ms */
	enum pxd_event_source source;
	struct pxd_sv ip;
	struct pxd_sv user_agent;
	struct pxd_sv tenant;
	struct pxd_sv host;
	bool https; /* received over TLS */
	struct pxd_sv fp_id;

	char _id_buf[PXD_UUID7_LEN + 1]; /* a generated event_id lives here */
};

/* Empties <ev>: every field absent, consent unset, source pixel. */
void pxd_event_reset(struct pxd_event *ev);

/* Maps "granted"/"denied" to their enum and anything else to
 * PXD_CONSENT_INVALID. */
enum pxd_consent pxd_event_consent_parse(struct pxd_sv v);

/* Writes the printf-style <fmt> to <detail> (cut to <dlen>) and returns
 * PXD_REFUSAL_BAD_EVENT: how the event parsers word a refusal. */
enum pxd_refusal pxd_event_refuse(char *detail, size_t dlen, const char *fmt, ...) pxd_printf(3, 4);

/*
 * Checks the client part of <ev> against the record's rules (see the format
 * above and the PXD_EVENT_*_MAX limits) with the wall clock <now_ms>.
 * Returns PXD_REFUSAL_NONE, or PXD_REFUSAL_BAD_EVENT with <detail> (NUL-
 * terminated, cut to <dlen>) naming the field, what is wrong and what to
 * send, e.g. "ts: more than 10 minutes in the future; send Unix
 * milliseconds". Quotes no client value, so no PII reaches the answer.
 */
enum pxd_refusal pxd_event_check(const struct pxd_event *ev, int64_t now_ms, char *detail,
				 size_t dlen);

/*
 * Writes the record of a checked <ev> to <out> (<cap> bytes, NUL-terminated)
 * and returns its length, or -ENOSPC when it does not fit, or -EINVAL for a
 * non-finite value (which pxd_event_check refuses); <out> is then garbage.
 * First completes <ev>: received_at = <now_ms> when 0, ts =
 * received_at when absent (client seconds become ms), event_id = the next
 * id of <uuid> when absent (stored in ev->_id_buf). Hashes the direct
 * identifiers (pii.h) and never writes them in plain. No allocation.
 */
ssize_t pxd_event_serialize(struct pxd_event *ev, int64_t now_ms, struct pxd_uuid7 *uuid, char *out,
			    size_t cap);

#endif
