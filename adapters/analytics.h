/* SPDX-License-Identifier: MIT */
/*
 * analytics.h - what the four analytics destinations (segment, amplitude,
 * mixpanel, posthog; specs/ad-apis.md §9.9-9.12) share beside payload.h:
 * which call a canonical event stands for (track, page, identify, group,
 * alias), the user's ids, ISO-8601 times, the hashed identifiers as user
 * traits, the custom properties, HTTP Basic auth and the checks every one
 * of them runs before batching. No state; adapters call it from their
 * dispatcher thread. Only adapters/ includes it.
 */
#ifndef PXD_ANALYTICS_H
#define PXD_ANALYTICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"

/*
 * Canonical events with these names are not tracked events but the
 * analytics calls of the same name (README "Analytics destinations"):
 * Identify: user.id (and anon ids) with the traits in props;
 * Group: props.group_id (props.group_type, default "company") with the
 * group's traits in the other props; Alias: user.id is the new id and
 * props.previous_id the old one.
 */
#define PXD_ANALYTICS_IDENTIFY "Identify"
#define PXD_ANALYTICS_GROUP "Group"
#define PXD_ANALYTICS_ALIAS "Alias"
#define PXD_ANALYTICS_GROUP_TYPE_DEFAULT "company"
/* "2024-11-22T18:26:40.123Z" and its NUL. */
#define PXD_ANALYTICS_ISO_LEN 25

enum pxd_analytics_kind {
	PXD_ANALYTICS_TRACK = 0,
	PXD_ANALYTICS_PAGE, /* canonical PageView */
	PXD_ANALYTICS_IDENTIFY_CALL,
	PXD_ANALYTICS_GROUP_CALL,
	PXD_ANALYTICS_ALIAS_CALL,
	PXD_ANALYTICS_KIND_COUNT, /* number of kinds; keep last */
};

/* What an analytics adapter's init has in common with the others'. */
struct pxd_analytics_init {
	const char *const *keys; /* the type's keys, NULL-terminated (map.<Event> too) */
	const char *api_base;	 /* the default api_base */
	const char *path;	 /* appended to api_base for the request URL */
	const char *secret_key;	 /* the credential key; NULL: the adapter reads its own */
	const char *map_chars;	 /* characters map.<Event> values may hold beside [A-Za-z0-9_] */
};

/*
 * Refuses keys of <dest> not in <in>->keys, checks the map.<Event> values,
 * writes api_base + path to <url> and resolves the secret <in>->secret_key
 * into <secret>. Returns 0, or -EINVAL with <err> as "file:line: key: why".
 */
int pxd_analytics_init(struct pxd_dest *dest, const char *conf_path,
		       const struct pxd_analytics_init *in, char *url, size_t urllen, char *secret,
		       size_t secretlen, char *err, size_t errlen);

/* Which call <ev> stands for, from its event name. */
enum pxd_analytics_kind pxd_analytics_kind(const json_t *ev);

/* The browser's anonymous id: the first-party cookie fp_id, else
 * user.anon_id, else NULL. The string belongs to <ev>. */
const char *pxd_analytics_anon_id(const json_t *ev);

/* Writes Unix ms <ms> as ISO-8601 UTC with milliseconds to <out>. */
void pxd_analytics_iso8601(int64_t ms, char out[PXD_ANALYTICS_ISO_LEN]);

/*
 * The user traits pixeld may pass on: the SHA-256 identifiers (email_sha256,
 * phone_sha256, first_name_sha256, ...) under their canonical names and the
 * normalised address (city, state, zip, country). Returns a new object
 * (empty when the event has none), or NULL when out of memory.
 */
json_t *pxd_analytics_traits(const json_t *ev);

/* What an Identify sets on the user: pxd_analytics_traits() with the
 * props over them. A new object, or NULL when out of memory. */
json_t *pxd_analytics_identify_traits(const json_t *ev);

/* A Group call's group type: props.group_type, else
 * PXD_ANALYTICS_GROUP_TYPE_DEFAULT. The string belongs to <ev>. */
const char *pxd_analytics_group_type(const json_t *ev);

/*
 * A copy of <ev>'s props for the platform's property object: every member
 * but those a call of <ev>'s kind consumes (group_id, group_type,
 * previous_id). Returns a new object, or NULL when out of memory.
 */
json_t *pxd_analytics_props(const json_t *ev);

/* Copies the members of <ev>'s props (when it has any) into <o>, over
 * members of the same name. Returns 0 or -1 (out of memory). */
int pxd_analytics_merge_props(json_t *o, const json_t *ev);

/* Sets <o>[<field>] to the string <ev>[<obj>][<key>] when there is one.
 * Returns 0 or -1 (out of memory). */
int pxd_analytics_copy_str(json_t *o, const char *field, const json_t *ev, const char *obj,
			   const char *key);

/* Adds "Authorization: Basic base64(<user>:<pass>)" to <req>. Returns 0,
 * -ENAMETOOLONG or -ENOSPC (see pxd_payload_header()). */
int pxd_analytics_basic_auth(struct pxd_request *req, const char *user, const char *pass);

/*
 * The checks of every analytics destination, before the platform's own:
 * pxd_payload_check_common() with <max_age_ms>, then what each call needs
 * (Group a string props.group_id, Alias user.id and props.previous_id,
 * Identify user.id), a user or anonymous id for every call, and, when
 * <max_bytes> is not 0, pxd_analytics_check_size(). A kind whose bit
 * (1u << kind) is not in <kinds> is refused as one the platform cannot
 * take. Returns PXD_DELIVERY_OK or PERMANENT with <reason> prefixed by
 * <platform>.
 */
enum pxd_delivery pxd_analytics_check(const json_t *ev, const char *platform, unsigned kinds,
				      int64_t max_age_ms, size_t max_bytes, char *reason,
				      size_t reason_len);

/* What a destination keyed by one secret (segment, posthog, amplitude)
 * keeps. An adapter whose state holds more starts its struct with one, so
 * one fini wipes and frees them all. */
struct pxd_analytics_keyed {
	char url[512];
	char key[256];
};

/*
 * Allocates <size> zeroed bytes (a struct pxd_analytics_keyed first) as
 * <dest>->priv and runs pxd_analytics_init() into its url and key. Returns
 * 0, -ENOMEM, or -EINVAL with <err>.
 */
int pxd_analytics_keyed_init(struct pxd_dest *dest, size_t size, const char *conf_path,
			     const struct pxd_analytics_init *in, char *err, size_t errlen);

/* The adapter fini for pxd_analytics_keyed_init() state: wipes the key. */
void pxd_analytics_keyed_fini(struct pxd_dest *dest);

/* Builds the platform's JSON for one canonical event <ev>; NULL when out of memory. */
typedef json_t *pxd_analytics_event_fn(struct pxd_dest *dest, const json_t *ev);

/*
 * Appends <fn>'s JSON for each event of <b> to the array <out>. Returns 0,
 * -EINVAL (an item without a parsed event or an event name) or -ENOMEM.
 */
int pxd_analytics_events(struct pxd_dest *dest, const struct pxd_batch *b,
			 pxd_analytics_event_fn *fn, json_t *out);

/*
 * Appends "<sep><name>=" and the percent-encoded text of <v> (a string's
 * value, else its compact JSON) to the form body <b>. Returns 0 or -ENOMEM.
 */
int pxd_analytics_form_field(struct pxd_buf *b, const char *sep, const char *name, const json_t *v);

/* Sets <req> to a JSON POST of <root> to <url>. Returns 0 or -errno. */
int pxd_analytics_request(struct pxd_request *req, const char *url, const json_t *root);

/*
 * The whole build of a JSON-array platform: appends <fn>'s JSON for each
 * event of <b> to the array <root>[<list>] (<root> itself when <list> is
 * NULL) and POSTs <root> to <url> (pxd_analytics_request()). <root> stays
 * the caller's; NULL (out of memory) or no such array is -ENOMEM. Returns 0
 * or -errno.
 */
int pxd_analytics_build(struct pxd_dest *dest, const struct pxd_batch *b, json_t *root,
			const char *list, pxd_analytics_event_fn *fn, const char *url,
			struct pxd_request *req);

/*
 * Refuses (PERMANENT, <reason> naming <platform>) an event whose canonical
 * JSON is over <max_bytes>: the platform's message would be about as big.
 */
enum pxd_delivery pxd_analytics_check_size(const json_t *ev, const char *platform, size_t max_bytes,
					   char *reason, size_t reason_len);

/*
 * Fills the <n> outcomes for a whole-request answer that names no event:
 * when <n> > 1 and the answer is a 413, or a 400 and <bad_request_splits>
 * (the platform refuses a batch for one bad event), PERMANENT with a
 * PXD_BISECT_REASON reason so the dispatcher resends halves; otherwise
 * pxd_payload_classify_http().
 */
void pxd_analytics_classify_whole(const char *platform, const struct pxd_response *resp,
				  bool bad_request_splits, struct pxd_outcome *out, size_t n);

/* The classify hook of a platform whose answers name no event and whose 400
 * can be one event's doing (segment, posthog): pxd_analytics_classify_whole()
 * with bad_request_splits, the reasons named for <dest>'s type. */
void pxd_analytics_classify_batch(struct pxd_dest *dest, const struct pxd_batch *b,
				  const struct pxd_response *resp, struct pxd_outcome *out);

#endif
