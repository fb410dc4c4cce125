/* SPDX-License-Identifier: MIT */
/*
 * payload_fields.h - table-driven payloads for the ad adapters (linkedin,
 * snapchat, pinterest, reddit): which canonical user field becomes which
 * platform field, sent as it is, as the SHA-256 ingest made, hashed here, or
 * normalised as an address and hashed (specs/ad-apis.md §3), and the checks
 * validate() runs on the same tables, all read from the canonical line
 * (event_line.h) and written straight into the body (payload_json.h);
 * props and contents copied by table; the bearer-token JSON POST they share; and the HTTP fallback
 * for platforms that refuse a whole batch over one event. No state; any thread (adapters call it
 * from their dispatcher thread).
 */
#ifndef PXD_PAYLOAD_FIELDS_H
#define PXD_PAYLOAD_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "adapter.h"
#include "adapters/payload_json.h"
#include "buf.h"
#include "event_line.h"

enum pxd_payload_how {
	PXD_FIELD_PLAIN = 0, /* verbatim (click ids, ip, user agent) */
	PXD_FIELD_HASHED,    /* a SHA-256 from ingest; anything else is left out */
	PXD_FIELD_HASH,	     /* hashed here unless it is a SHA-256 already (user.id) */
	PXD_FIELD_ADDRESS,   /* normalised as Meta, Snapchat and Pinterest want, then hashed */
	PXD_FIELD_HOW_COUNT, /* number of ways; keep last */
};

/* Which object of a read line (event_line.h) a row's source is in. */
enum pxd_payload_obj {
	PXD_PAYLOAD_TOP = 0, /* key: enum pxd_line_key */
	PXD_PAYLOAD_USER,    /* key: enum pxd_line_user */
	PXD_PAYLOAD_CLICK,   /* key: enum pxd_click_field */
};

/* Row sources, e.g. { PXD_USER(EMAIL_SHA256), "em", PXD_FIELD_HASHED, true }. */
#define PXD_TOP(k) PXD_PAYLOAD_TOP, PXD_LINE_##k
#define PXD_USER(k) PXD_PAYLOAD_USER, PXD_LINE_USER_##k
#define PXD_CLICK(k) PXD_PAYLOAD_CLICK, PXD_CLICK_FIELD_##k

/* One row: member <key> of <obj> in the line to <field>, written as a
 * one-element array when <array>. */
struct pxd_payload_field {
	enum pxd_payload_obj obj;
	unsigned key;
	const char *field;
	enum pxd_payload_how how;
	bool array;
};

/* The view row <f> reads in <el>. */
const struct pxd_jv *pxd_payload_field_src(const struct pxd_event_line *el,
					   const struct pxd_payload_field *f);

/* Writes every row of <tab> whose source is present in <el> as a member of
 * the object open in <o>; <scratch> as in pxd_payload_jv_text(). */
void pxd_payload_fields(struct pxd_payload_out *o, const struct pxd_event_line *el,
			const struct pxd_payload_field *tab, size_t n, struct pxd_buf *scratch);

/*
 * Refuses an event whose PXD_FIELD_HASHED sources in <tab> are present but
 * not a SHA-256 (something upstream skipped ingest's hashing). Returns
 * PXD_DELIVERY_OK, or PERMANENT with <reason> prefixed by <platform>.
 */
enum pxd_delivery pxd_payload_check_hashed(const struct pxd_event_line *el,
					   const struct pxd_payload_field *tab, size_t n,
					   const char *platform, char *reason, size_t reason_len);

/* True when <el> has the source of at least one row of <tab> (a usable one
 * for PXD_FIELD_HASHED and PXD_FIELD_ADDRESS rows). */
bool pxd_payload_has_any(const struct pxd_event_line *el, const struct pxd_payload_field *tab,
			 size_t n, struct pxd_buf *scratch);

/*
 * pxd_payload_classify_http() for platforms that refuse a whole batch over
 * one bad event without naming it: a 400 for more than one event becomes
 * PXD_BISECT_REASON outcomes, so the dispatcher pins the refusal down; a
 * 401 or 403 is the destination's credentials, and its reason leads with
 * <fix> (what the operator does) before what the platform said.
 */
void pxd_payload_classify_whole(const char *platform, const struct pxd_response *resp,
				struct pxd_outcome *out, size_t n, const char *fix);

/* What every bearer-token ad destination keeps. An adapter whose state
 * holds more starts its struct with one, so one fini frees them all. */
struct pxd_payload_bearer {
	char url[512];
	char token[1024];
	struct pxd_buf text; /* field text unescaped (pxd_payload_jv_text()), reused */
};

/*
 * Allocates <size> zeroed bytes (a struct pxd_payload_bearer first) as
 * <dest>->priv, refuses keys not in <known> (map.<Event> allowed) and reads
 * the access_token secret. Returns 0, -ENOMEM, or -EINVAL with <err>.
 */
int pxd_payload_bearer_init(struct pxd_dest *dest, size_t size, const char *conf_path,
			    const char *const *known, char *err, size_t errlen);

/* The adapter fini for pxd_payload_bearer_init() state: wipes the token
 * and frees the text buffer. */
void pxd_payload_bearer_fini(struct pxd_dest *dest);

/* How one props value is written. */
enum pxd_payload_prop_how {
	PXD_PROP_COPY = 0,  /* as it is (strings, numbers, arrays of ids) */
	PXD_PROP_REAL,	    /* a number as a JSON real (values) */
	PXD_PROP_AMOUNT,    /* a number as a decimal string (Pinterest) */
	PXD_PROP_HOW_COUNT, /* number of ways; keep last */
};

/* One row: <from>[<key>] to <field>. */
struct pxd_payload_prop {
	const char *key;
	const char *field;
	enum pxd_payload_prop_how how;
};

/* Writes every row of <tab> whose key the object <from> walks holds (not
 * null, not an object) as a member of the object open in <o>; REAL and
 * AMOUNT rows only take numbers. <from>: pxd_jv_iter_init() of an object, or
 * pxd_jv_iter_props() of a line. */
void pxd_payload_props(struct pxd_payload_out *o, const struct pxd_jv_iter *from,
		       const struct pxd_payload_prop *tab, size_t n);

/* Writes member <field>: the contents of line <el>'s props with each item
 * mapped through <items> (pxd_payload_props()); nothing when there are no
 * contents. */
void pxd_payload_contents(struct pxd_payload_out *o, const char *field,
			  const struct pxd_event_line *el, const struct pxd_payload_prop *items,
			  size_t n);

/* Writes one platform event for line <el> into <o> (an element of the list
 * open there). Returns 0, or -EINVAL when the event cannot be sent. */
typedef int pxd_payload_event_fn(struct pxd_dest *dest, struct pxd_payload_out *o,
				 const struct pxd_event_line *el);

/*
 * Writes <fn>(line) for each item of <b> into the list open in <o>, from
 * the line the dispatcher read or reading it now (pxd_payload_item_line()). Returns 0, -EINVAL (a
 * line that does not read, or one <fn> could not build) or <o>'s error (-ENOMEM).
 */
int pxd_payload_events(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_payload_out *o,
		       pxd_payload_event_fn *fn);

/* The bearer-token JSON POST the ad platforms take: <req>'s URL <url>,
 * Content-Type and "Authorization: Bearer <token>". Returns 0 or
 * -ENAMETOOLONG. */
int pxd_payload_bearer_request(struct pxd_request *req, const char *url, const char *token);

/* Writes <v> in fixed notation with the fewest decimals that read back the
 * same ("99.99", "45"), for platforms that want amounts as strings. */
void pxd_payload_amount(double v, char *out, size_t outlen);

#endif
