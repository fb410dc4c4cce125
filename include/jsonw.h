/* SPDX-License-Identifier: MIT */
/*
 * jsonw.h - a small JSON writer into a caller's fixed buffer: compact output,
 * commas placed for the caller, errors sticky until pxd_jsonw_finish(). Used on
 * the hot path for every event, so it never allocates. A writer belongs to one
 * thread; the module has no global state.
 *
 * Strings are escaped per RFC 8259 §7 ('"', '\\', control characters; U+007F
 * and '/' go out as they are). Bytes that are not well-formed UTF-8 (RFC 3629:
 * no overlongs, no surrogates, nothing above U+10FFFF) are each replaced by
 * U+FFFD rather than refused: pixel query strings arrive in whatever charset
 * the page used, and an event with a mangled character is worth more than a
 * lost one.
 */
#ifndef PXD_JSONW_H
#define PXD_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/*
 * The writer's state. <need_comma> is true when the next value or key at the
 * current level must be preceded by ','; a key clears it so that its value
 * follows the ':' directly. That one bit is enough for any nesting depth
 * because every container starts with it false and ends by setting it.
 */
struct pxd_jsonw {
	char *p;
	size_t len;
	size_t cap;
	int err; /* 0, -ENOSPC or -EINVAL; the first error sticks */
	bool need_comma;
};

/* Starts writing into <buf> of <cap> bytes (one of them is kept for the NUL
 * that pxd_jsonw_finish() writes). */
void pxd_jsonw_init(struct pxd_jsonw *w, char *buf, size_t cap);

/* Containers: '{', '}', '[', ']' with the commas around them. Nesting is the
 * caller's to keep balanced. */
void pxd_jsonw_object_begin(struct pxd_jsonw *w);
void pxd_jsonw_object_end(struct pxd_jsonw *w);
void pxd_jsonw_array_begin(struct pxd_jsonw *w);
void pxd_jsonw_array_end(struct pxd_jsonw *w);

/* An object member name <k> of <n> bytes, escaped like a string, then ':'. */
void pxd_jsonw_key(struct pxd_jsonw *w, const char *k, size_t n);

/* A member name the program spells, already quoted and with its ':'
 * (<n> bytes of "\"ts\":"): copied, not scanned for escapes. */
void pxd_jsonw_key_quoted(struct pxd_jsonw *w, const char *qk, size_t n);

/* A string value: <n> bytes of <s> (may hold NUL bytes, written as \u0000). */
void pxd_jsonw_string(struct pxd_jsonw *w, const char *s, size_t n);

/*
 * A string value or member name in pieces: _open, a _part per piece (each
 * ending on a UTF-8 character boundary), then _close (with <key>, the ':'
 * of a member name follows). For text decoded a bit at a time.
 */
void pxd_jsonw_str_open(struct pxd_jsonw *w);
void pxd_jsonw_str_part(struct pxd_jsonw *w, const char *s, size_t n);
void pxd_jsonw_str_close(struct pxd_jsonw *w, bool key);

void pxd_jsonw_int(struct pxd_jsonw *w, int64_t v);

/*
 * A number with the fewest significant digits (15, 16 or 17) that read back
 * as the same double, so 99.99 is written "99.99". NaN and infinities have no
 * JSON form: they set -EINVAL. Formats with "%g", which assumes the "C"
 * LC_NUMERIC locale (the daemon never calls setlocale()).
 */
void pxd_jsonw_double(struct pxd_jsonw *w, double v);

void pxd_jsonw_bool(struct pxd_jsonw *w, bool v);
void pxd_jsonw_null(struct pxd_jsonw *w);

/* <n> bytes of already serialized JSON, copied as they are (not checked). */
void pxd_jsonw_raw(struct pxd_jsonw *w, const char *json, size_t n);

/*
 * Returns the length of the well-formed UTF-8 sequence at <s> (<n> bytes
 * left; RFC 3629 §4: no overlongs, surrogates or code points above
 * U+10FFFF), or 0 when the lead byte or a continuation byte is wrong. The
 * JSON readers (event_beacon.c) hold input to the same rule.
 */
size_t pxd_jsonw_utf8_len(const unsigned char *s, size_t n);

/*
 * NUL-terminates the output. Returns its length (without the NUL), or the
 * first error: -ENOSPC when it did not fit in the buffer, -EINVAL for a
 * non-finite number. On error the buffer content is unspecified.
 */
ssize_t pxd_jsonw_finish(struct pxd_jsonw *w);

#endif
