// SPDX-License-Identifier: MIT
/*
 * payload_fields.c - table-driven user fields and props written from the
 * canonical line, and the whole-batch HTTP fallback (payload_fields.h).
 */
#include "adapters/payload_fields.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/payload_line.h"
#include "bisect.h"
#include "payload.h"

/*
 * Normalises address field <key> ("city", "state", "zip" or "country") the
 * way Meta, Snapchat and Pinterest hash it (§3): lowercase; city and state
 * without digits, whitespace or ".()-"; zip without whitespace and cut at
 * '-' (the US 5-digit part); country exactly two letters. Writes <out>;
 * returns false when nothing usable is left.
 */
static bool norm_address(const char *key, const char *in, char *out, size_t outlen)
{
	bool zip = strcmp(key, "zip") == 0;
	const char *drop = zip ? " \t\r\n" : "0123456789 \t\r\n().-";
	size_t n = 0;

	for (; *in && n + 1 < outlen; in++) {
		if (zip && *in == '-')
			break;
		if (strchr(drop, *in))
			continue;
		out[n++] = (char)tolower((unsigned char)*in);
	}
	out[n] = '\0';
	if (strcmp(key, "country") == 0)
		return n == 2 && islower((unsigned char)out[0]) && islower((unsigned char)out[1]);
	return zip ? n >= 2 : n > 0;
}

const struct pxd_jv *pxd_payload_field_src(const struct pxd_event_line *el,
					   const struct pxd_payload_field *f)
{
	if (f->obj == PXD_PAYLOAD_USER)
		return &el->user[f->key];
	return f->obj == PXD_PAYLOAD_CLICK ? &el->click[f->key] : &el->top[f->key];
}

/* The name of row <f>'s source for messages: "user.email_sha256". */
static void src_name(const struct pxd_payload_field *f, const char **obj, struct pxd_sv *key)
{
	*obj = f->obj == PXD_PAYLOAD_USER    ? "user"
	       : f->obj == PXD_PAYLOAD_CLICK ? "click"
					     : "event";
	*key = f->obj == PXD_PAYLOAD_USER    ? pxd_line_user_names[f->key]
	       : f->obj == PXD_PAYLOAD_CLICK ? pxd_event_click_names[f->key]
					     : pxd_line_key_names[f->key];
}

/*
 * What row <f> sends for <el>: its view as it is (<*v>), or an address
 * normalised into <norm> (<*v> then points at a view of it). False when it
 * sends nothing.
 */
static bool source(const struct pxd_event_line *el, const struct pxd_payload_field *f,
		   struct pxd_jv *v, char *norm, size_t normlen, struct pxd_buf *scratch)
{
	const char *text;

	*v = *pxd_payload_field_src(el, f);
	if (!pxd_jv_is_str(v))
		return false;
	if (f->how == PXD_FIELD_HASHED)
		return pxd_payload_jv_is_sha256(v);
	if (f->how != PXD_FIELD_ADDRESS || pxd_payload_jv_is_sha256(v))
		return true;
	text = pxd_payload_jv_text(v, scratch);
	if (!text || !norm_address(pxd_line_user_names[f->key].p, text, norm, normlen))
		return false;
	*v = (struct pxd_jv){ norm, (uint32_t)strlen(norm), PXD_JV_STRING, false };
	return true;
}

void pxd_payload_fields(struct pxd_payload_out *o, const struct pxd_event_line *el,
			const struct pxd_payload_field *tab, size_t n, struct pxd_buf *scratch)
{
	char norm[256];
	struct pxd_jv v;

	for (size_t i = 0; i < n; i++) {
		if (!source(el, &tab[i], &v, norm, sizeof(norm), scratch))
			continue;
		/* A HASHED source is a SHA-256 already (source() checked): it
		 * is written as it is, like a plain one. */
		if (tab[i].how != PXD_FIELD_PLAIN && tab[i].how != PXD_FIELD_HASHED) {
			pxd_payload_out_hash(o, tab[i].field, &v, tab[i].array, scratch);
			continue;
		}
		pxd_payload_out_key(o, tab[i].field);
		if (tab[i].array)
			pxd_payload_out_open(o, '[');
		pxd_payload_out_jv_str(o, &v);
		if (tab[i].array)
			pxd_payload_out_close(o, ']');
	}
}

enum pxd_delivery pxd_payload_check_hashed(const struct pxd_event_line *el,
					   const struct pxd_payload_field *tab, size_t n,
					   const char *platform, char *reason, size_t reason_len)
{
	for (size_t i = 0; i < n; i++) {
		const struct pxd_jv *v = pxd_payload_field_src(el, &tab[i]);
		struct pxd_sv key;
		const char *obj;

		if (tab[i].how == PXD_FIELD_HASHED && pxd_jv_is_str(v) &&
		    !pxd_payload_jv_is_sha256(v)) {
			src_name(&tab[i], &obj, &key);
			snprintf(reason, reason_len,
				 "%s: %s.%.*s is not 64 lowercase hex digits (SHA-256)", platform,
				 obj, (int)key.n, key.p);
			return PXD_DELIVERY_PERMANENT;
		}
	}
	return PXD_DELIVERY_OK;
}

bool pxd_payload_has_any(const struct pxd_event_line *el, const struct pxd_payload_field *tab,
			 size_t n, struct pxd_buf *scratch)
{
	char norm[256];
	struct pxd_jv v;

	for (size_t i = 0; i < n; i++)
		if (source(el, &tab[i], &v, norm, sizeof(norm), scratch))
			return true;
	return false;
}

void pxd_payload_classify_whole(const char *platform, const struct pxd_response *resp,
				struct pxd_outcome *out, size_t n, const char *fix)
{
	char reason[sizeof(out->reason)];
	bool auth = resp->status == 401 || resp->status == 403;
	/* classify_http() wrote "<platform>: HTTP <status>: <excerpt>". */
	size_t said = strlen(platform) + strlen(": HTTP 400: ");

	pxd_payload_classify_http(platform, resp, out, n);
	if (!auth && (resp->status != 400 || n < 2))
		return;
	for (size_t i = 0; i < n; i++) {
		if (auth)
			snprintf(reason, sizeof(reason), "%s: HTTP %ld: %s; it said: %s", platform,
				 resp->status, fix,
				 strlen(out[i].reason) > said ? out[i].reason + said : "");
		else
			snprintf(reason, sizeof(reason), PXD_BISECT_REASON "%s", out[i].reason);
		memcpy(out[i].reason, reason, sizeof(reason));
	}
}

int pxd_payload_bearer_init(struct pxd_dest *dest, size_t size, const char *conf_path,
			    const char *const *known, char *err, size_t errlen)
{
	struct pxd_payload_bearer *b = calloc(1, size);
	int rc;

	if (!b)
		return -ENOMEM;
	dest->priv = b;
	rc = pxd_payload_check_keys(dest, conf_path, known, true, err, errlen);
	if (!rc)
		rc = pxd_payload_secret(dest, conf_path, "access_token", b->token, sizeof(b->token),
					err, errlen);
	return rc;
}

void pxd_payload_bearer_fini(struct pxd_dest *dest)
{
	struct pxd_payload_bearer *b = dest->priv;

	if (b) {
		OPENSSL_cleanse(b->token, sizeof(b->token));
		pxd_buf_free(&b->text);
	}
	free(b);
	dest->priv = NULL;
}

void pxd_payload_props(struct pxd_payload_out *o, const struct pxd_jv_iter *from,
		       const struct pxd_payload_prop *tab, size_t n)
{
	char amount[32];

	for (size_t i = 0; i < n; i++) {
		struct pxd_jv v = pxd_jv_iter_get(*from, tab[i].key);

		if (!v.type || v.type == PXD_JV_NULL || v.type == PXD_JV_OBJECT ||
		    (tab[i].how != PXD_PROP_COPY && !pxd_jv_is_number(&v)))
			continue;
		pxd_payload_out_key(o, tab[i].field);
		if (tab[i].how == PXD_PROP_REAL) {
			pxd_payload_out_jv_real(o, &v);
		} else if (tab[i].how == PXD_PROP_AMOUNT) {
			pxd_payload_amount(pxd_jv_number(&v), amount, sizeof(amount));
			pxd_payload_out_str(o, amount, strlen(amount));
		} else {
			pxd_payload_out_jv(o, &v);
		}
	}
}

void pxd_payload_contents(struct pxd_payload_out *o, const char *field,
			  const struct pxd_event_line *el, const struct pxd_payload_prop *items,
			  size_t n)
{
	struct pxd_jv_iter it, from;
	struct pxd_jv contents, item;

	pxd_jv_iter_props(&it, el);
	contents = pxd_jv_iter_get(it, "contents");
	if (contents.type != PXD_JV_ARRAY)
		return;
	pxd_payload_out_key(o, field);
	pxd_payload_out_open(o, '[');
	pxd_jv_iter_init(&it, &contents);
	while (pxd_jv_next(&it, NULL, &item)) {
		pxd_payload_out_open(o, '{');
		pxd_jv_iter_init(&from, &item);
		pxd_payload_props(o, &from, items, n);
		pxd_payload_out_close(o, '}');
	}
	pxd_payload_out_close(o, ']');
}

int pxd_payload_events(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_payload_out *o,
		       pxd_payload_event_fn *fn)
{
	const struct pxd_event_line *el;
	struct pxd_event_line tmp;
	int rc = 0;

	for (size_t i = 0; !rc && i < b->n; i++) {
		el = pxd_payload_item_line(&b->items[i], &tmp);
		rc = el ? fn(dest, o, el) : -EINVAL;
	}
	return rc ? rc : o->err;
}

int pxd_payload_bearer_request(struct pxd_request *req, const char *url, const char *token)
{
	int rc = pxd_payload_url(req, "%s", url);

	if (!rc)
		rc = pxd_payload_header(req, "Content-Type: application/json");
	if (!rc)
		rc = pxd_payload_header(req, "Authorization: Bearer %s", token);
	return rc;
}

void pxd_payload_amount(double v, char *out, size_t outlen)
{
	for (int decimals = 0; decimals <= 15; decimals++) {
		snprintf(out, outlen, "%.*f", decimals, v);
		if (strtod(out, NULL) == v)
			return;
	}
}
