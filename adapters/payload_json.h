/* SPDX-License-Identifier: MIT */
/*
 * payload_json.h - writing platform bodies straight into the request's
 * reusable buffer, byte for byte as jansson's compact dump wrote them before
 * (strings escaped as jansson escapes them, reals with 15 significant
 * digits), from C strings and from the canonical line's views
 * (event_line.h). No tree, no allocation beyond growing the buffer. The
 * calling destination's dispatcher thread.
 */
#ifndef PXD_PAYLOAD_JSON_H
#define PXD_PAYLOAD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event_line.h"

/*
 * A body being written: each call appends to <b>; the first failure
 * (-ENOMEM, or -EINVAL for a value that cannot be written) sticks in <err>
 * and later calls do nothing. <comma> is whether the next member or element
 * needs a ',' before it.
 */
struct pxd_payload_out {
	struct pxd_buf *b;
	int err;
	bool comma;
};

/* Starts writing at the end of <b>. */
void pxd_payload_out_init(struct pxd_payload_out *o, struct pxd_buf *b);

/* '{' or '[' (after a ',' when one is due); the next member needs none. */
void pxd_payload_out_open(struct pxd_payload_out *o, char bracket);

/* '}' or ']'; what follows needs a ','. */
void pxd_payload_out_close(struct pxd_payload_out *o, char bracket);

/* The key of the next member: ',' when due, then "<key>" (<n> bytes,
 * written as they are: a literal of the platform's field names), then ':'. */
void pxd_payload_out_keyn(struct pxd_payload_out *o, const char *key, size_t n);

/* pxd_payload_out_keyn() of NUL-terminated <key>; inline, so a literal's
 * length is known when compiling. */
static inline void pxd_payload_out_key(struct pxd_payload_out *o, const char *key)
{
	pxd_payload_out_keyn(o, key, __builtin_strlen(key));
}

/* The key of the next member from key view <k> of a line (re-escaped). */
void pxd_payload_out_jv_key(struct pxd_payload_out *o, const struct pxd_jv *k);

/* A string value of <n> bytes, escaped as jansson does. */
void pxd_payload_out_str(struct pxd_payload_out *o, const char *s, size_t n);

/* String value <s> from a line, re-escaped as jansson does (an escape-free
 * one is copied as it is). */
void pxd_payload_out_jv_str(struct pxd_payload_out *o, const struct pxd_jv *s);

/* Integer value <v>. */
void pxd_payload_out_int(struct pxd_payload_out *o, int64_t v);

/* true or false. */
void pxd_payload_out_bool(struct pxd_payload_out *o, bool v);

/* Real value <v> as jansson wrote it with JSON_REAL_PRECISION(15): "%.15g",
 * ".0" added to an integral value, no '+' or leading zeros in exponents. */
void pxd_payload_out_real(struct pxd_payload_out *o, double v);

/* Number view <v> (an INTEGER or REAL of a line) as pxd_payload_out_real()
 * writes its value, from the line's text where that gives the same bytes;
 * -EINVAL for a view that is no number. */
void pxd_payload_out_jv_real(struct pxd_payload_out *o, const struct pxd_jv *v);

/* Any value <v> from a line as jansson re-dumped its loaded form: integers
 * and reals re-formatted, strings re-escaped, objects and arrays member by
 * member. */
void pxd_payload_out_jv(struct pxd_payload_out *o, const struct pxd_jv *v);

/* The member <key>:<v> (pxd_payload_out_key() then pxd_payload_out_jv()). */
void pxd_payload_out_member(struct pxd_payload_out *o, const char *key, const struct pxd_jv *v);

/* Where <o> stood before a member that may turn out empty. */
struct pxd_payload_mark {
	size_t len;
	bool comma;
};

/* The mark of <o> now, before the member's key. */
static inline struct pxd_payload_mark pxd_payload_out_mark(const struct pxd_payload_out *o)
{
	return (struct pxd_payload_mark){ o->b->len, o->comma };
}

/* Takes back the member written since <m> when its value is an empty
 * object ({}), as a tree-built body left out an empty member. */
void pxd_payload_out_drop_empty(struct pxd_payload_out *o, const struct pxd_payload_mark *m);

#endif
