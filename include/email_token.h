/* SPDX-License-Identifier: MIT */
/*
 * email_token.h - email open-pixel tokens: the signed binary record behind
 * GET /o/<token>.gif, the key ring that signs and verifies it (rotation) and
 * the minting of pixel URLs (pixelctl, admin API). Owns no global state: a
 * loaded key ring is read-only and any thread may verify. Implemented in
 * daemon/email/: email_fields.c (field limits), email_keys.c (key ring and
 * key files), email_token.c (codec, verification), email_mint.c (minting).
 * The EmailOpen props are the endpoint's (daemon/endpoints/ep_email_open.h).
 */
#ifndef PXD_EMAIL_TOKEN_H
#define PXD_EMAIL_TOKEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "conf_email.h"
#include "strview.h"

/*
 * The token is base64url (RFC 4648 §5, no padding, canonical: the unused
 * low bits of the last character must be zero) of this record; integers are
 * big-endian. Every limit below is checked when decoding, and a token that
 * breaks any of them is forged, whatever its tag says.
 *
 *  bytes  field
 *  1      version: 1
 *  1      K: key id length, 1..8
 *  K      key id: [A-Za-z0-9_-], names a key of the ring
 *  1      T: tenant length, 0..63 (0: the collector's default tenant)
 *  T      tenant: [A-Za-z0-9._-]
 *  1      C: campaign id length, 1..64
 *  C      campaign id: printable ASCII 0x20..0x7e
 *  1      M: message id length, 1..128
 *  M      message id: printable ASCII
 *  1      R: recipient id length, 1..128
 *  R      recipient id: printable ASCII, opaque (senders often put a hash)
 *  4      issued-at: Unix seconds, >= 2020-01-01T00:00:00Z
 *  4      expires-at: Unix seconds, issued-at < expires-at <= issued-at + 3650 days
 *  1      N: metadata pairs, 0..8
 *         N times: 1 byte key length 1..32, key [A-Za-z0-9._-],
 *                  1 byte value length 0..128, value printable ASCII;
 *         keys are unique and the N pairs take at most 256 bytes in all
 *  16     tag: HMAC-SHA256(secret of the key id, every byte above), first 16 bytes
 *
 * Nothing follows the tag. The tag covers the version and key id, so neither
 * can be swapped. Unsigned 32-bit times last until 2106.
 */
#define PXD_EMAIL_TOKEN_VERSION 1
#define PXD_EMAIL_KID_MAX PXD_CONF_EMAIL_KID_MAX
#define PXD_EMAIL_TENANT_MAX PXD_CONF_EMAIL_TENANT_MAX
#define PXD_EMAIL_CAMPAIGN_MAX 64
#define PXD_EMAIL_MESSAGE_MAX 128
#define PXD_EMAIL_RECIPIENT_MAX 128
#define PXD_EMAIL_META_MAX 8
#define PXD_EMAIL_META_KEY_MAX 32
#define PXD_EMAIL_META_VALUE_MAX 128
#define PXD_EMAIL_META_BYTES_MAX 256
#define PXD_EMAIL_ISSUED_MIN 1577836800u /* 2020-01-01T00:00:00Z */
#define PXD_EMAIL_TTL_MAX_S PXD_CONF_EMAIL_TTL_MAX_S
#define PXD_EMAIL_SKEW_S 300 /* a token issued this far in the future still counts */
#define PXD_EMAIL_TAG_LEN 16
#define PXD_EMAIL_SECRET_MIN 32 /* bytes of a key file, after its trailing newline */
#define PXD_EMAIL_SECRET_MAX 1024
#define PXD_EMAIL_TOKEN_BYTES_MAX                                                                \
	(1 + 1 + PXD_EMAIL_KID_MAX + 1 + PXD_EMAIL_TENANT_MAX + 1 + PXD_EMAIL_CAMPAIGN_MAX + 1 + \
	 PXD_EMAIL_MESSAGE_MAX + 1 + PXD_EMAIL_RECIPIENT_MAX + 4 + 4 + 1 +                       \
	 PXD_EMAIL_META_BYTES_MAX + PXD_EMAIL_TAG_LEN)
/* Base64 text of the longest record (678 bytes -> 904 characters). */
#define PXD_EMAIL_TOKEN_TEXT_MAX ((PXD_EMAIL_TOKEN_BYTES_MAX * 4 + 2) / 3)
#define PXD_EMAIL_MINT_BATCH_MAX 10000 /* objects in one admin mint request */

/* Outcome of verifying a token; the names are the metric's reason labels. */
enum pxd_email_verdict {
	PXD_EMAIL_VERDICT_OK = 0,
	PXD_EMAIL_VERDICT_TOO_LONG,	 /* more than PXD_EMAIL_TOKEN_TEXT_MAX characters */
	PXD_EMAIL_VERDICT_MALFORMED,	 /* not canonical base64url, or a field breaks a limit */
	PXD_EMAIL_VERDICT_BAD_VERSION,	 /* a version this build does not read */
	PXD_EMAIL_VERDICT_UNKNOWN_KEY,	 /* key id not in the ring (retired or never ours) */
	PXD_EMAIL_VERDICT_BAD_SIGNATURE, /* the tag does not match */
	PXD_EMAIL_VERDICT_EXPIRED,	 /* now >= expires-at */
	PXD_EMAIL_VERDICT_NOT_YET_VALID, /* issued-at > now + PXD_EMAIL_SKEW_S */
	PXD_EMAIL_VERDICT_COUNT,	 /* number of verdicts; keep last */
};

/* The field a minting request got wrong, named in its error. */
enum pxd_email_field {
	PXD_EMAIL_FIELD_NONE = 0,
	PXD_EMAIL_FIELD_TENANT,
	PXD_EMAIL_FIELD_CAMPAIGN,
	PXD_EMAIL_FIELD_MESSAGE,
	PXD_EMAIL_FIELD_RECIPIENT,
	PXD_EMAIL_FIELD_TTL,
	PXD_EMAIL_FIELD_META,
	PXD_EMAIL_FIELD_COUNT, /* number of fields; keep last */
};

struct pxd_email_meta {
	struct pxd_sv key;
	struct pxd_sv value;
};

/* What a token says. The views point into memory the owner keeps alive. */
struct pxd_email_claims {
	struct pxd_sv tenant;
	struct pxd_sv campaign;
	struct pxd_sv message;
	struct pxd_sv recipient;
	uint32_t issued_at;
	uint32_t expires_at;
	struct pxd_email_meta meta[PXD_EMAIL_META_MAX];
	size_t nmeta;
};

/*
 * A decoded token. The views in <c> and <kid> point into <_raw>, so the
 * struct must not be copied or moved while they are in use. Lives on the
 * caller's stack or scratch (about 1 KiB).
 */
struct pxd_email_token {
	struct pxd_email_claims c;
	struct pxd_sv kid;
	uint8_t version;
	uint8_t _raw[PXD_EMAIL_TOKEN_BYTES_MAX];
};

/*
 * One key: its id and the HMAC key blocks (RFC 2104: the secret, padded to
 * the SHA-256 block and XORed with ipad/opad), kept instead of the secret.
 */
struct pxd_email_key {
	char kid[PXD_EMAIL_KID_MAX + 1];
	uint8_t kid_len;
	uint8_t ipad[64];
	uint8_t opad[64];
};

/* The key ring: key[0] signs, every key verifies. Read-only once loaded. */
struct pxd_email_keys {
	struct pxd_email_key key[PXD_CONF_EMAIL_MAX_KEYS];
	size_t n;
};

/* Options for minting: where URLs point and what a request may leave out. */
struct pxd_email_mint {
	const char *base_url; /* "https://t.example.com", no trailing '/' */
	struct pxd_sv tenant; /* stamped when the request names none */
	uint32_t default_ttl_s;
	uint32_t now_s; /* issued-at of every token minted */
};

/*
 * Adds the key <kid> with <len> bytes of <secret> at the end of <ring> (the
 * first key added signs). Returns 0, -EINVAL (kid not 1..8 of [A-Za-z0-9_-],
 * or secret not PXD_EMAIL_SECRET_MIN..MAX bytes), -EEXIST (kid already in the
 * ring) or -ENOSPC (ring full). Main thread, before verifiers start.
 */
int pxd_email_keys_add(struct pxd_email_keys *ring, struct pxd_sv kid, const void *secret,
		       size_t len);

/*
 * Empties <ring> and loads the keys <conf> lists, in order. Each file holds
 * the secret: its bytes less one trailing newline ("openssl rand -hex 32").
 * A file readable by group or others is refused. Returns 0, or -errno with
 * <err> naming the key id, the file and what to do (-EPERM: chmod 600;
 * -EINVAL: secret length; -ENOENT/-EACCES: the file). On error <ring> is
 * wiped. Main thread.
 */
int pxd_email_keys_load(struct pxd_email_keys *ring, const struct pxd_conf_email *conf, char *err,
			size_t errlen);

/* Overwrites every key of <ring> with zeros (OPENSSL_cleanse) and empties it. */
void pxd_email_keys_wipe(struct pxd_email_keys *ring);

/*
 * Signs <c> with the ring's first key and writes the base64url token,
 * NUL-terminated, to <out>. Returns its length, -EINVAL when a field breaks
 * a limit (<bad> names it), -ENOKEY for an empty ring, or -ENOSPC when <cap>
 * is under the token's length + 1 (PXD_EMAIL_TOKEN_TEXT_MAX + 1 always
 * fits). Any thread.
 */
ssize_t pxd_email_token_encode(const struct pxd_email_keys *ring, const struct pxd_email_claims *c,
			       char *out, size_t cap, enum pxd_email_field *bad);

/*
 * Decodes and verifies the token <text> at time <now_s> (Unix seconds) into
 * <out>. Returns PXD_EMAIL_VERDICT_OK when every limit holds, the key id is
 * in <ring>, the tag matches (compared in constant time) and the token is
 * within its validity. On UNKNOWN_KEY, BAD_SIGNATURE, EXPIRED and
 * NOT_YET_VALID <out> holds the parsed fields, untrusted, for diagnostics
 * only; on the other verdicts its content is unspecified. Allocates nothing
 * and makes no syscall: safe on the ingest hot path, any thread.
 */
enum pxd_email_verdict pxd_email_token_verify(const struct pxd_email_keys *ring, struct pxd_sv text,
					      int64_t now_s, struct pxd_email_token *out);

/* Returns the verdict's metric label ("ok", "malformed", ...); "unknown" when out of range. */
const char *pxd_email_verdict_name(enum pxd_email_verdict v);

/* Returns the field's name as requests spell it ("campaign", ...). */
const char *pxd_email_field_name(enum pxd_email_field f);

/* Returns the field's limits in words, for error messages ("1..64 printable ..."). */
const char *pxd_email_field_rule(enum pxd_email_field f);

/*
 * Finds the token in <s>: a bare token, a path "/o/<token>.gif" or a whole
 * pixel URL with query or fragment. Returns a view into <s>, empty when <s>
 * holds no "/o/" path ending in ".gif" and is not a bare token.
 */
struct pxd_sv pxd_email_token_find(struct pxd_sv s);

/*
 * Mints <c> and appends "<base_url>/o/<token>.gif" to <out>, or with <html>
 * the tag <img src="URL" width="1" height="1" alt="" style="display:none">.
 * Returns 0, -EINVAL (<bad> names the field), -ENOKEY or -ENOMEM. Cold path.
 */
int pxd_email_token_mint(const struct pxd_email_keys *ring, const struct pxd_email_claims *c,
			 const char *base_url, bool html, struct pxd_buf *out,
			 enum pxd_email_field *bad);

/*
 * The admin API's minting (POST /admin/pixel/generate). <req> is one object
 * or an array of 1..PXD_EMAIL_MINT_BATCH_MAX objects, each
 *   {"campaign": s, "message": s, "recipient": s,
 *    "ttl": "400d" | seconds (optional), "tenant": s (optional),
 *    "meta": {"k": "v", ...} (optional)}
 * and no other member. Appends to <out> {"url": U, "html": IMG} for an object,
 * {"urls": [U, ...]} in request order for an array. Returns 0; or appends
 *   {"error": "bad_request", "index": I, "field": F, "detail": D}
 * (index 0 for a lone object) and returns -EINVAL (answer 400) or -E2BIG (too
 * many objects, answer 413); or -ENOKEY with {"error": "no_signing_key", ...}
 * or -EDESTADDRREQ with {"error": "no_base_url", ...} (answer 503); or
 * -ENOMEM, with nothing appended. Admin thread (cold path: allocates).
 */
int pxd_email_token_mint_json(const struct pxd_email_keys *ring, const json_t *req,
			      const struct pxd_email_mint *opts, struct pxd_buf *out);

#endif
