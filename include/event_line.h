/* SPDX-License-Identifier: MIT */
/*
 * event_line.h - the zero-copy reader of the canonical line (event.h): one
 * pass checks the line is JSON that jansson would have loaded and records a
 * view of each canonical field, so an adapter writes a platform's event
 * straight from the line's bytes with no tree and no allocation. Views point
 * into the line and live as long as it. Any thread; no state.
 *
 * Why here: the line's format is event.h's (pxd_event_serialize() writes it
 * in daemon/event/), so its reader sits beside its writer. It reads any
 * compact or spaced JSON object, not only pxd_event_serialize()'s bytes:
 * key order does not matter, unknown keys are skipped, a key given twice
 * keeps its last value (as jansson's loader does), and members of user,
 * click and consent that are not strings read as absent.
 */
#ifndef PXD_EVENT_LINE_H
#define PXD_EVENT_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"

/* Deepest nesting the reader takes (the line's object is level 1). Ingest
 * keeps props to PXD_EVENT_JSON_MAX_DEPTH (32) below its own level. */
#define PXD_EVENT_LINE_MAX_DEPTH 40
/* Longest number token taken; pxd_event_serialize() writes at most 24. */
#define PXD_EVENT_LINE_MAX_NUMBER 64

enum pxd_jv_type {
	PXD_JV_ABSENT = 0,
	PXD_JV_STRING,
	PXD_JV_INTEGER, /* no fraction, no exponent, fits int64_t */
	PXD_JV_REAL,
	PXD_JV_TRUE,
	PXD_JV_FALSE,
	PXD_JV_NULL,
	PXD_JV_OBJECT,
	PXD_JV_ARRAY,
	PXD_JV_TYPE_COUNT, /* number of types; keep last */
};

/*
 * One JSON value inside a line. A string's view is the bytes between its
 * quotes as written (escapes still escaped; <escaped> says whether there are
 * any, so the common case copies the bytes as they are); every other value's
 * view is its whole token, brackets included for objects and arrays.
 */
struct pxd_jv {
	const char *p;
	uint32_t n;
	uint8_t type; /* enum pxd_jv_type */
	bool escaped;
};

/* Top-level keys of the line, in pxd_event_serialize()'s order. */
enum pxd_line_key {
	PXD_LINE_EVENT_ID = 0,
	PXD_LINE_EVENT,
	PXD_LINE_TS,
	PXD_LINE_RECEIVED_AT,
	PXD_LINE_SOURCE,
	PXD_LINE_ACTION_SOURCE,
	PXD_LINE_TENANT,
	PXD_LINE_HOST,
	PXD_LINE_SCHEME,
	PXD_LINE_URL,
	PXD_LINE_REFERRER,
	PXD_LINE_IP,
	PXD_LINE_UA,
	PXD_LINE_FP_ID,
	PXD_LINE_USER,
	PXD_LINE_CLICK,
	PXD_LINE_PROPS,
	PXD_LINE_CONSENT,
	PXD_LINE_TO,
	PXD_LINE_NOT_TO,
	PXD_LINE_KEY_COUNT, /* number of keys; keep last */
};

/* Members of "user" as the line spells them (hashed, not as sent). */
enum pxd_line_user {
	PXD_LINE_USER_ID = 0,
	PXD_LINE_USER_ANON_ID,
	PXD_LINE_USER_EMAIL_SHA256,
	PXD_LINE_USER_EMAIL_GOOGLE_SHA256,
	PXD_LINE_USER_PHONE_SHA256,
	PXD_LINE_USER_PHONE_E164_SHA256,
	PXD_LINE_USER_FIRST_NAME_SHA256,
	PXD_LINE_USER_LAST_NAME_SHA256,
	PXD_LINE_USER_GENDER_SHA256,
	PXD_LINE_USER_DOB_SHA256,
	PXD_LINE_USER_CITY,
	PXD_LINE_USER_STATE,
	PXD_LINE_USER_ZIP,
	PXD_LINE_USER_COUNTRY,
	PXD_LINE_USER_COUNT, /* number of user members; keep last */
};

/* Names of the keys above, indexed by their enums. */
extern const struct pxd_sv pxd_line_key_names[PXD_LINE_KEY_COUNT];
extern const struct pxd_sv pxd_line_user_names[PXD_LINE_USER_COUNT];

/* A member of an object: its key (a STRING) and its value. */
struct pxd_jv_member {
	struct pxd_jv key;
	struct pxd_jv val;
};

/*
 * The members of props a read line keeps, at most: the adapters look props
 * up by name several times per event (the checks, the standard fields, the
 * custom ones), and a walk of the text costs about 170 instructions a
 * member each time; props with more members than this are walked. Six is a
 * Purchase's standard members; each one more is 32 bytes in every record a
 * dispatcher holds, and a 1,000-event batch's records already outgrow L2.
 */
#define PXD_LINE_PROPS_MAX 6

/* A read line. click[] and consent[] are indexed by pxd_click_field and
 * pxd_consent_field (event.h); each member is absent unless it is a string.
 * props[] holds the members of top[PXD_LINE_PROPS] in their order when
 * <props_all> (it is an object of PXD_LINE_PROPS_MAX members at most);
 * walk them with pxd_jv_iter_props(). */
struct pxd_event_line {
	struct pxd_jv top[PXD_LINE_KEY_COUNT];
	struct pxd_jv user[PXD_LINE_USER_COUNT];
	struct pxd_jv click[PXD_CLICK_FIELD_COUNT];
	struct pxd_jv consent[PXD_CONSENT_FIELD_COUNT];
	struct pxd_jv_member props[PXD_LINE_PROPS_MAX];
	uint8_t nprops;
	bool props_all;
};

/* Walks the members of an object or the elements of an array: of the text,
 * or of members a read line kept (<m> up to <m_end>; NULL for the text). */
struct pxd_jv_iter {
	const char *p;
	const char *end;
	bool object;
	const struct pxd_jv_member *m;
	const struct pxd_jv_member *m_end;
};

/*
 * Reads <len> bytes of <line> (one JSON object) into <el>. Returns 0, or
 * -EINVAL when the bytes are not a JSON object jansson's json_loadb() takes
 * (bad syntax, bad UTF-8, a lone surrogate, \u0000, an integer beyond
 * int64_t, a real beyond double) or are nested deeper than
 * PXD_EVENT_LINE_MAX_DEPTH or hold a number longer than
 * PXD_EVENT_LINE_MAX_NUMBER; <el> is then all absent. No allocation.
 */
int pxd_event_line_read(struct pxd_event_line *el, const char *line, size_t len);

/* The line's "ts" in Unix ms, or -1 when it is missing or not a positive
 * integer. */
int64_t pxd_event_line_ts(const struct pxd_event_line *el);

/* Starts walking object or array <v> of a line that pxd_event_line_read()
 * took; a value of another type walks as empty. */
void pxd_jv_iter_init(struct pxd_jv_iter *it, const struct pxd_jv *v);

/* The next member (<key> a STRING; pass NULL for arrays) and its value.
 * Returns false at the end. */
bool pxd_jv_next(struct pxd_jv_iter *it, struct pxd_jv *key, struct pxd_jv *val);

/* Starts walking the members of the props of line <el>: from the members the
 * read kept, or (more of them, or not an object) as pxd_jv_iter_init(). */
void pxd_jv_iter_props(struct pxd_jv_iter *it, const struct pxd_event_line *el);

/* The member <name> of the object <it> is about to walk, the last one if
 * given twice; absent when it lacks it (or walks no object). */
struct pxd_jv pxd_jv_iter_get(struct pxd_jv_iter it, const char *name);

/* pxd_jv_iter_get() of each of the <n> <names> into <out>[i], in one walk. */
void pxd_jv_iter_members(struct pxd_jv_iter it, const char *const *names, size_t n,
			 struct pxd_jv *out);

/* pxd_jv_iter_get() and pxd_jv_iter_members() of object <obj>. */
struct pxd_jv pxd_jv_get(const struct pxd_jv *obj, const char *name);
void pxd_jv_members(const struct pxd_jv *obj, const char *const *names, size_t n,
		    struct pxd_jv *out);

/* pxd_jv_iter_members() of the props of line <el>. */
void pxd_line_props_members(const struct pxd_event_line *el, const char *const *names, size_t n,
			    struct pxd_jv *out);

/*
 * Writes string <s> unescaped to <out> (<cap> bytes, NUL-terminated; a
 * string never grows when unescaped, so <s>->n + 1 always fits). Returns its
 * length, -EINVAL when <s> is not a string, -ENOSPC when it does not fit.
 */
ssize_t pxd_jv_unescape(const struct pxd_jv *s, char *out, size_t cap);

/*
 * The code point of the escape at <p> (just after its backslash, <end>
 * bounding it) in <*cp>. Returns the bytes it takes after the backslash, or
 * -EINVAL for an unknown escape, \u0000 or a surrogate that is not half of a
 * pair (jansson's loader refuses all three). For writers that re-escape a
 * string without unescaping it into a buffer first.
 */
int pxd_jv_escape(const char *p, const char *end, unsigned *cp);

/* Whether string <s> unescaped equals the NUL-terminated <lit>. */
bool pxd_jv_eq(const struct pxd_jv *s, const char *lit);

/* pxd_jv_eq() for a name whose length is known (a table of PXD_SV()s). */
bool pxd_jv_eq_sv(const struct pxd_jv *s, struct pxd_sv lit);

/* Whether <v> is a string of at least one byte (what adapters send). */
static inline bool pxd_jv_is_str(const struct pxd_jv *v);

/* Whether <v> is an INTEGER or a REAL. */
static inline bool pxd_jv_is_number(const struct pxd_jv *v);

/* The value of an INTEGER (0 for anything else). */
int64_t pxd_jv_int(const struct pxd_jv *v);

/* The value of an INTEGER or REAL as a double (0 for anything else). */
double pxd_jv_number(const struct pxd_jv *v);

/* inline definitions */

static inline bool pxd_jv_is_str(const struct pxd_jv *v)
{
	return v->type == PXD_JV_STRING && v->n;
}

static inline bool pxd_jv_is_number(const struct pxd_jv *v)
{
	return v->type == PXD_JV_INTEGER || v->type == PXD_JV_REAL;
}

#endif
