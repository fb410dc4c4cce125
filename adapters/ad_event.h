/* SPDX-License-Identifier: MIT */
/*
 * ad_event.h - the skeleton the bearer-token ad destinations (snapchat,
 * pinterest, reddit) and Meta are built on, from the canonical line: their init (api_base, the
 * account or pixel id in the URL, test mode), the server event Snapchat and Pinterest share with
 * Meta's shape (event_source_url, user_data, custom_data by table), the checks before batching, the
 * {"data":[...]} request, and the canonical action_source with each platform's word for it (README
 * "action_source by destination"). No state; adapters call it from their dispatcher thread. Only
 * adapters/ includes it.
 */
#ifndef PXD_AD_EVENT_H
#define PXD_AD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "adapters/payload_fields.h"
#include "adapters/payload_json.h"
#include "buf.h"
#include "event_line.h"

/* The canonical action_source words (event.h); an event without one is a
 * website event (the pixel, the beacon). */
enum pxd_ad_source {
	PXD_AD_SOURCE_WEBSITE = 0,
	PXD_AD_SOURCE_APP,
	PXD_AD_SOURCE_PHONE_CALL,
	PXD_AD_SOURCE_PHYSICAL_STORE,
	PXD_AD_SOURCE_SYSTEM_GENERATED,
	PXD_AD_SOURCE_EMAIL,
	PXD_AD_SOURCE_CHAT,
	PXD_AD_SOURCE_OTHER,
	PXD_AD_SOURCE_COUNT, /* number of sources; keep last */
};

/* Where line <el> happened: its action_source, WEBSITE when it has none,
 * OTHER for a word ingest would not have let through. */
enum pxd_ad_source pxd_ad_source(const struct pxd_event_line *el);

/* The canonical word of <s> ("website", ...). */
const char *pxd_ad_source_name(enum pxd_ad_source s);

/* How a destination's init reads its keys. */
struct pxd_ad_init {
	const char *const *keys; /* the type's keys, NULL-terminated (map.<Event> too) */
	const char *api_base;	 /* the default api_base */
	const char *id_key;	 /* the account or pixel id key, required */
	const char *id_chars;	 /* the characters it may hold */
	const char *id_what;	 /* what it is, for the error ("a Pinterest ad account id") */
	const char *url_before;	 /* the URL path before the id ("/v5/ad_accounts/") */
	const char *url_after;	 /* and after it ("/events") */
	const char *test_suffix; /* appended with test_mode = true; NULL: no test_mode key */
};

/*
 * pxd_payload_bearer_init() with <size> bytes of state (a struct
 * pxd_payload_bearer first), then api_base, <in>->id_key and test_mode
 * into the state's url, and the map.<Event> values. Returns 0, -ENOMEM, or
 * -EINVAL with <err> as "file:line: key: why".
 */
int pxd_ad_init(struct pxd_dest *dest, size_t size, const char *conf_path,
		const struct pxd_ad_init *in, char *err, size_t errlen);

/* What a Meta-shaped server event holds beside its head. */
struct pxd_ad_event {
	const struct pxd_payload_field *user; /* user_data */
	size_t nuser;
	const struct pxd_payload_prop *props; /* custom_data */
	size_t nprops;
	const struct pxd_payload_prop *items; /* custom_data.contents[] */
	size_t nitems;
	bool referrer; /* referrer_url after event_source_url (Meta) */
	/* Writes custom_data's members from the props of line <el> instead
	 * of the tables (Meta's custom properties); NULL: the tables. */
	void (*custom)(struct pxd_payload_out *o, const struct pxd_event_line *el);
};

/* Opens the server event of line <el> in <o> with the members Meta and
 * Snapchat lead with: event_name <name>, event_time (seconds), event_id. */
void pxd_ad_event_head(struct pxd_payload_out *o, const char *name,
		       const struct pxd_event_line *el);

/*
 * Completes the platform's head (event name, time, id and action source,
 * already written in the platform's order into the object open in <o>)
 * with event_source_url, user_data and custom_data (when not empty) of line
 * <el> as <spec> says; <scratch> as in pxd_payload_jv_text().
 */
void pxd_ad_event_body(struct pxd_payload_out *o, const struct pxd_event_line *el,
		       const struct pxd_ad_event *spec, struct pxd_buf *scratch);

/*
 * The checks every ad destination runs first: pxd_payload_check_common_line()
 * with <max_age_ms>, then pxd_payload_check_hashed() over <user>. Returns
 * PXD_DELIVERY_OK or PERMANENT with <reason> prefixed by <platform>.
 */
enum pxd_delivery pxd_ad_check(const struct pxd_event_line *el, const char *platform,
			       int64_t max_age_ms, const struct pxd_payload_field *user,
			       size_t nuser, struct pxd_buf *scratch, char *reason,
			       size_t reason_len);

/*
 * The bearer-token POST of {"data":[<fn>(event)...]} to the url and with
 * the token of <dest>'s struct pxd_payload_bearer, written into <req>'s
 * reusable body. Returns 0 or -errno.
 */
int pxd_ad_build_data(struct pxd_dest *dest, const struct pxd_batch *b, pxd_payload_event_fn *fn,
		      struct pxd_request *req);

#endif
