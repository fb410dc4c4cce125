/* SPDX-License-Identifier: MIT */
/*
 * payload.h - what every platform adapter (meta, ga4, google_ads, tiktok,
 * webhook) needs beside its own rules: reading its config keys and secrets
 * with file:line errors, SHA-256 hex, canonical-event field access, event-name
 * mapping with `map.<Canonical>` overrides, the shared validation rules (age
 * window, value/currency) and the HTTP-status fallback of specs/ad-apis.md §2.
 * No state; any thread (adapters call it from their dispatcher thread).
 */
#ifndef PXD_PAYLOAD_H
#define PXD_PAYLOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "adapter.h"
#include "compiler.h"

#define PXD_SHA256_HEX_LEN 64
/* Events stamped further ahead than this are refused (DESIGN.md "Canonical event"). */
#define PXD_PAYLOAD_MAX_FUTURE_MS (10 * 60 * 1000LL)
#define PXD_PAYLOAD_DAY_MS (24 * 3600 * 1000LL)

/* One row of an adapter's default event-name table (specs/ad-apis.md §8). */
struct pxd_payload_name {
	const char *canonical;
	const char *platform;
};

/*
 * Copies the value of <key> of <dest> into <out>. When the key is absent,
 * copies <def>, or fails when <def> is NULL. Returns 0, or -EINVAL with <err>
 * as "<conf_path>:<line>: <key>: why" (missing, or too long for <outlen>).
 */
int pxd_payload_key(const struct pxd_dest *dest, const char *conf_path, const char *key,
		    const char *def, char *out, size_t outlen, char *err, size_t errlen);

/*
 * pxd_payload_key() for a required key whose value must be <prefix> followed
 * by one or more characters of <set> (ids, versions). Returns 0, or -EINVAL
 * with <err> quoting the value and saying it is not <what>.
 */
int pxd_payload_key_shape(const struct pxd_dest *dest, const char *conf_path, const char *key,
			  const char *prefix, const char *set, const char *what, char *out,
			  size_t outlen, char *err, size_t errlen);

/*
 * Resolves the secret <key> of <dest> (literal, file:PATH or env:NAME, see
 * pxd_conf_secret()) into <out>. Returns 0, or -EINVAL with <err> naming the
 * key and what went wrong; the secret itself never reaches <err>.
 */
int pxd_payload_secret(const struct pxd_dest *dest, const char *conf_path, const char *key,
		       char *out, size_t outlen, char *err, size_t errlen);

/* Reads a "true"/"false" key (absent: <def>). Returns 0 or -EINVAL with <err>. */
int pxd_payload_bool(const struct pxd_dest *dest, const char *conf_path, const char *key, bool def,
		     bool *out, char *err, size_t errlen);

/*
 * Reads `api_base` ("http[s]://host[:port]", a trailing '/' removed) or
 * <def>. Returns 0 or -EINVAL with <err>.
 */
int pxd_payload_api_base(const struct pxd_dest *dest, const char *conf_path, const char *def,
			 char *out, size_t outlen, char *err, size_t errlen);

/*
 * Refuses a key of <dest> that is not in <known> (NULL-terminated), not
 * `map.<Canonical>` when <with_map>, and not one of pxd_http_out_conf_keys
 * (timeouts, in-flight cap, rate limit) when the adapter builds HTTP
 * requests, so a misspelt key fails at load instead of being ignored.
 * Returns 0 or -EINVAL with <err> naming the key's line and the keys the
 * type takes (values are never quoted: they may be secrets).
 */
int pxd_payload_check_keys(const struct pxd_dest *dest, const char *conf_path,
			   const char *const *known, bool with_map, char *err, size_t errlen);

/*
 * Checks that every `map.<Canonical>` key of <dest> has a value made of
 * <allowed_extra> characters plus [A-Za-z0-9_]. Returns 0 or -EINVAL with <err>.
 */
int pxd_payload_check_map(const struct pxd_dest *dest, const char *conf_path,
			  const char *allowed_extra, char *err, size_t errlen);

/* Writes the lowercase hex SHA-256 of <n> bytes at <p> and a NUL to <out>. */
void pxd_payload_sha256_hex(const void *p, size_t n, char out[PXD_SHA256_HEX_LEN + 1]);

/* Returns true when <s> is exactly 64 lowercase hex digits (a SHA-256 already). */
bool pxd_payload_is_sha256(const char *s);

/* pxd_payload_is_sha256() for <n> bytes at <s>. */
bool pxd_payload_is_sha256_n(const char *s, size_t n);

/* Returns <ev>[<obj>][<key>] (or <ev>[<key>] when <obj> is NULL) when it is a
 * non-empty string, else NULL. The string belongs to <ev>. */
const char *pxd_payload_str(const json_t *ev, const char *obj, const char *key);

/* Returns <ev>[<obj>][<key>] of any type, or NULL. */
json_t *pxd_payload_get(const json_t *ev, const char *obj, const char *key);

/* Returns the event's "ts" in Unix ms, or -1 when it is missing or not an integer. */
int64_t pxd_payload_ts_ms(const json_t *ev);

/*
 * The platform name of canonical event <canonical>: the value of
 * `map.<canonical>` when set, else the row of <tab>, else <canonical> itself
 * when <pass_custom>, else NULL. The string lives in <dest>'s config or <tab>.
 */
const char *pxd_payload_event_name(const struct pxd_dest *dest, const char *canonical,
				   const struct pxd_payload_name *tab, size_t n, bool pass_custom);

/*
 * The rules every ad platform shares (specs/ad-apis.md §7, §10.2): an
 * event_id and an integer ts, ts not older than <max_age_ms> before <now_ms>
 * nor more than PXD_PAYLOAD_MAX_FUTURE_MS ahead, a props.value only with a
 * props.currency of three capital letters. Returns PXD_DELIVERY_OK, or
 * PERMANENT with <reason> prefixed by <platform>.
 */
enum pxd_delivery pxd_payload_check_common(const json_t *ev, const char *platform, int64_t now_ms,
					   int64_t max_age_ms, char *reason, size_t reason_len);

/* What pxd_payload_check_common() looks at, read from a tree or a line. */
struct pxd_payload_facts {
	bool has_ids;	      /* a non-empty event_id and event name */
	int64_t ts_ms;	      /* -1: missing or not an integer */
	bool has_value;	      /* props.value present, of any type */
	bool value_ok;	      /* ... and a non-negative number */
	const char *currency; /* props.currency when a non-empty string, else NULL */
};

/* pxd_payload_check_common()'s rules on <f>. */
enum pxd_delivery pxd_payload_check_facts(const struct pxd_payload_facts *f, const char *platform,
					  int64_t now_ms, int64_t max_age_ms, char *reason,
					  size_t reason_len);

/* Appends the compact JSON of <root> to <b> (numbers with the fewest digits
 * that read back the same). Returns 0 or -ENOMEM. */
int pxd_payload_dump(struct pxd_buf *b, const json_t *root);

/* Appends "Name: value" to <req>'s headers. Returns 0, -ENOSPC (all slots
 * used) or -ENAMETOOLONG. */
int pxd_payload_header(struct pxd_request *req, const char *fmt, ...) pxd_printf(2, 3);

/* Sets <req>'s URL. Returns 0 or -ENAMETOOLONG. */
int pxd_payload_url(struct pxd_request *req, const char *fmt, ...) pxd_printf(2, 3);

/*
 * Percent-encodes <s> for a query string or form body (RFC 3986 unreserved
 * characters stay) into <out>. Returns the length written (without the NUL)
 * or -ENAMETOOLONG when <outlen> is too small.
 */
ssize_t pxd_payload_pct_encode(char *out, size_t outlen, const char *s);

/* Sets every one of the <n> outcomes to <d>, <retry_after_ms> and the formatted reason. */
void pxd_payload_outcomes(struct pxd_outcome *out, size_t n, enum pxd_delivery d,
			  uint32_t retry_after_ms, const char *fmt, ...) pxd_printf(5, 6);

/*
 * The HTTP fallback of specs/ad-apis.md §2 for a response with no body code
 * to go by: 2xx OK; transport errors, 408, 429 and 5xx RETRY (with the
 * response's Retry-After); anything else PERMANENT. Fills all <n> outcomes;
 * reasons start with <platform> and quote a printable excerpt of the body.
 */
void pxd_payload_classify_http(const char *platform, const struct pxd_response *resp,
			       struct pxd_outcome *out, size_t n);

/* Returns the <resp> body parsed as JSON (caller json_decref()s), or NULL. */
json_t *pxd_payload_parse_body(const struct pxd_response *resp);

#endif
