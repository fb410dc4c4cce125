// SPDX-License-Identifier: MIT
/*
 * Minting email pixel URLs: one set of claims into a URL or an <img> tag
 * (pixelctl), and the admin API's JSON requests, one object or a batch, with
 * an error that names the object and field. Cold path, allocates; the admin
 * thread or pixelctl.
 */
#include "email_token.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "conf_value.h"

int pxd_email_token_mint(const struct pxd_email_keys *ring, const struct pxd_email_claims *c,
			 const char *base_url, bool html, struct pxd_buf *out,
			 enum pxd_email_field *bad)
{
	char tok[PXD_EMAIL_TOKEN_TEXT_MAX + 1];
	ssize_t n = pxd_email_token_encode(ring, c, tok, sizeof(tok), bad);

	if (n < 0)
		return (int)n;
	if (html)
		return pxd_buf_printf(out,
				      "<img src=\"%s/o/%s.gif\" width=\"1\" height=\"1\" alt=\"\" "
				      "style=\"display:none\">",
				      base_url, tok);
	return pxd_buf_printf(out, "%s/o/%s.gif", base_url, tok);
}

/* What a mint request got wrong, for the error answer. */
struct mint_err {
	size_t index;
	const char *field;
	char detail[320];
};

static int mint_fail(struct mint_err *e, const char *field, const char *what, const char *rule)
{
	e->field = field;
	snprintf(e->detail, sizeof(e->detail), "%s%s%s", what, rule[0] ? "; " : "", rule);
	return -EINVAL;
}

static bool json_sv(const json_t *v, struct pxd_sv *out)
{
	if (!json_is_string(v))
		return false;
	*out = pxd_sv_make(json_string_value(v), json_string_length(v));
	return true;
}

static int ttl_from_json(const json_t *v, uint32_t *ttl)
{
	json_int_t i;
	uint64_t s;

	if (json_is_string(v)) {
		if (pxd_conf_value_duration_s(json_string_value(v), &s) || s == 0 ||
		    s > PXD_EMAIL_TTL_MAX_S)
			return -EINVAL;
		*ttl = (uint32_t)s;
		return 0;
	}
	if (!json_is_integer(v))
		return -EINVAL;
	i = json_integer_value(v);
	if (i < 1 || i > (json_int_t)PXD_EMAIL_TTL_MAX_S)
		return -EINVAL;
	*ttl = (uint32_t)i;
	return 0;
}

static int meta_from_json(json_t *v, struct pxd_email_claims *c, struct mint_err *e)
{
	const char *rule = pxd_email_field_rule(PXD_EMAIL_FIELD_META);

	if (!json_is_object(v))
		return mint_fail(e, "meta", "must be an object of strings", rule);
	if (json_object_size(v) > PXD_EMAIL_META_MAX)
		return mint_fail(e, "meta", "too many keys", rule);
	for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
		struct pxd_email_meta *m = &c->meta[c->nmeta++];

		m->key = pxd_sv_make(json_object_iter_key(it), json_object_iter_key_len(it));
		if (!json_sv(json_object_iter_value(it), &m->value))
			return mint_fail(e, "meta", "values must be strings", rule);
	}
	return 0;
}

/* Fills <c> from one request object <o>; on error fills <e>. */
static int claims_from_json(json_t *o, const struct pxd_email_mint *opts,
			    struct pxd_email_claims *c, struct mint_err *e)
{
	static const struct {
		const char *name;
		size_t off;
		enum pxd_email_field f;
	} strs[] = {
		{ "campaign", offsetof(struct pxd_email_claims, campaign),
		  PXD_EMAIL_FIELD_CAMPAIGN },
		{ "message", offsetof(struct pxd_email_claims, message), PXD_EMAIL_FIELD_MESSAGE },
		{ "recipient", offsetof(struct pxd_email_claims, recipient),
		  PXD_EMAIL_FIELD_RECIPIENT },
		{ "tenant", offsetof(struct pxd_email_claims, tenant), PXD_EMAIL_FIELD_TENANT },
	};
	uint32_t ttl = opts->default_ttl_s;
	int ret;

	memset(c, 0, sizeof(*c));
	c->tenant = opts->tenant;
	if (!json_is_object(o))
		return mint_fail(e, "", "each request must be a JSON object", "");
	for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
		struct pxd_sv key =
		    pxd_sv_make(json_object_iter_key(it), json_object_iter_key_len(it));
		json_t *v = json_object_iter_value(it);
		size_t i = 0;

		while (i < ARRAY_SIZE(strs) && !pxd_sv_eq_lit(key, strs[i].name))
			i++;
		if (i < ARRAY_SIZE(strs)) {
			if (!json_sv(v, (struct pxd_sv *)((char *)c + strs[i].off)))
				return mint_fail(e, strs[i].name, "must be a string",
						 pxd_email_field_rule(strs[i].f));
		} else if (pxd_sv_eq_lit(key, "ttl")) {
			if (ttl_from_json(v, &ttl))
				return mint_fail(e, "ttl", "not a lifetime",
						 pxd_email_field_rule(PXD_EMAIL_FIELD_TTL));
		} else if (pxd_sv_eq_lit(key, "meta")) {
			ret = meta_from_json(v, c, e);
			if (ret)
				return ret;
		} else {
			return mint_fail(e, json_object_iter_key(it),
					 "unknown field; the fields are campaign, message, "
					 "recipient, ttl, tenant, meta",
					 "");
		}
	}
	for (size_t i = 0; i < 3; i++) {
		if (!json_object_get(o, strs[i].name))
			return mint_fail(e, strs[i].name, "missing",
					 pxd_email_field_rule(strs[i].f));
	}
	c->issued_at = opts->now_s;
	if ((uint64_t)opts->now_s + ttl > UINT32_MAX)
		return mint_fail(e, "ttl", "ends after 2106",
				 pxd_email_field_rule(PXD_EMAIL_FIELD_TTL));
	c->expires_at = opts->now_s + ttl;
	return 0;
}

/* Mints one request object into <url> and, if wanted, <html>. */
static int mint_one(const struct pxd_email_keys *ring, json_t *o, const struct pxd_email_mint *opts,
		    struct pxd_buf *url, struct pxd_buf *html, struct mint_err *e)
{
	struct pxd_email_claims c;
	enum pxd_email_field bad = PXD_EMAIL_FIELD_NONE;
	int ret = claims_from_json(o, opts, &c, e);

	if (ret)
		return ret;
	url->len = 0;
	ret = pxd_email_token_mint(ring, &c, opts->base_url, false, url, &bad);
	if (!ret && html) {
		html->len = 0;
		ret = pxd_email_token_mint(ring, &c, opts->base_url, true, html, &bad);
	}
	if (ret == -EINVAL)
		return mint_fail(e, pxd_email_field_name(bad), "out of limits",
				 pxd_email_field_rule(bad));
	return ret;
}

static int dump_to_buf(const char *p, size_t n, void *data)
{
	return pxd_buf_append(data, p, n) ? -1 : 0;
}

int pxd_email_token_mint_json(const struct pxd_email_keys *ring, const json_t *req,
			      const struct pxd_email_mint *opts, struct pxd_buf *out)
{
	/* jansson's getters take non-const pointers but do not write. */
	json_t *in = (json_t *)req;
	struct mint_err e = { 0, "", "" };
	struct pxd_buf url = { 0 };
	struct pxd_buf html = { 0 };
	json_t *resp = NULL;
	json_t *urls = NULL;
	size_t start = out->len;
	size_t n = json_is_array(in) ? json_array_size(in) : 1;
	int ret = 0;

	if (!ring->n) {
		ret = -ENOKEY;
		goto out;
	}
	if (!opts->base_url || !opts->base_url[0]) {
		ret = -EDESTADDRREQ;
		goto out;
	}
	if (!json_is_array(in)) {
		ret = mint_one(ring, in, opts, &url, &html, &e);
		if (!ret)
			resp = json_pack("{s:s%, s:s%}", "url", url.p, url.len, "html", html.p,
					 html.len);
		goto out;
	}
	if (n == 0 || n > PXD_EMAIL_MINT_BATCH_MAX) {
		ret = n ? -E2BIG : -EINVAL;
		snprintf(e.detail, sizeof(e.detail), "send 1..%d objects per request, not %zu",
			 PXD_EMAIL_MINT_BATCH_MAX, n);
		goto out;
	}
	urls = json_array();
	if (!urls) {
		ret = -ENOMEM;
		goto out;
	}
	for (e.index = 0; e.index < n; e.index++) {
		ret = mint_one(ring, json_array_get(in, e.index), opts, &url, NULL, &e);
		if (!ret && json_array_append_new(urls, json_stringn(url.p, url.len)))
			ret = -ENOMEM;
		if (ret)
			goto out;
	}
	resp = json_pack("{s:O}", "urls", urls);
out:
	if (ret == -ENOKEY)
		resp = json_pack("{s:s, s:s}", "error", "no_signing_key", "detail",
				 "set email.keys in the configuration and restart pixeld");
	else if (ret == -EDESTADDRREQ)
		resp = json_pack("{s:s, s:s}", "error", "no_base_url", "detail",
				 "set email.base_url in the configuration and restart pixeld");
	else if (ret && ret != -ENOMEM)
		resp = json_pack("{s:s, s:I, s:s, s:s}", "error", "bad_request", "index",
				 (json_int_t)e.index, "field", e.field, "detail", e.detail);
	if (!resp || json_dump_callback(resp, dump_to_buf, out, JSON_COMPACT)) {
		ret = -ENOMEM;
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
	}
	json_decref(resp);
	json_decref(urls);
	pxd_buf_free(&url);
	pxd_buf_free(&html);
	return ret;
}
