// SPDX-License-Identifier: MIT
/*
 * mock_request.c - reading one request the way the emulated platforms do:
 * query and form fields, headers, credentials, hashed fields, the JSON body
 * and path segments.
 */
#include "mock_platform.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "http_parse.h"
#include "payload.h"

/* Copies query parameter <key> of <q>, percent-decoded, to <out>. */
bool pxd_mock_query_get(struct pxd_sv q, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	const char *p = q.p, *end = q.p + q.n;

	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		size_t n = 0;

		if ((size_t)(stop - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
			for (p += klen + 1; p < stop && n + 1 < outlen; p++) {
				unsigned hi, lo;

				if (*p == '%' && stop - p > 2 &&
				    sscanf(p + 1, "%1x%1x", &hi, &lo) == 2) {
					out[n++] = (char)(hi << 4 | lo);
					p += 2;
				} else {
					out[n++] = *p == '+' ? ' ' : *p;
				}
			}
			out[n] = '\0';
			return true;
		}
		p = amp ? amp + 1 : NULL;
	}
	return false;
}

/* The value of header <name> as a NUL-terminated copy in <out>, or false. */
bool pxd_mock_header(const struct pxd_http_req *req, const char *name, char *out, size_t outlen)
{
	const struct pxd_http_header *h = pxd_http_find_header(req, name);

	if (!h || h->value.n >= outlen)
		return false;
	memcpy(out, h->value.p, h->value.n);
	out[h->value.n] = '\0';
	return true;
}

bool pxd_mock_bearer(const struct pxd_http_req *req, char *out, size_t outlen)
{
	char hdr[2100];

	if (!pxd_mock_header(req, "authorization", hdr, sizeof(hdr)) ||
	    strncmp(hdr, "Bearer ", 7) != 0 || strlen(hdr + 7) >= outlen)
		return false;
	memcpy(out, hdr + 7, strlen(hdr + 7) + 1);
	return true;
}

bool pxd_mock_basic(const struct pxd_http_req *req, char *user, size_t userlen, char *pass,
		    size_t passlen)
{
	char hdr[1100];
	unsigned char plain[800];
	size_t n, pad = 0;
	char *colon;
	int len;

	if (!pxd_mock_header(req, "authorization", hdr, sizeof(hdr)) ||
	    strncmp(hdr, "Basic ", 6) != 0)
		return false;
	n = strlen(hdr + 6);
	if (n % 4 || n / 4 * 3 >= sizeof(plain))
		return false;
	len = EVP_DecodeBlock(plain, (const unsigned char *)hdr + 6, (int)n);
	/* EVP_DecodeBlock counts the bytes '=' padding stands for. */
	for (; n && hdr[6 + n - 1] == '=' && pad < 2; n--)
		pad++;
	if (len < 0 || (size_t)len < pad)
		return false;
	plain[len - (int)pad] = '\0';
	colon = strchr((char *)plain, ':');
	if (colon)
		*colon = '\0';
	if (strlen((char *)plain) >= userlen || (colon && strlen(colon + 1) >= passlen))
		return false;
	strcpy(user, (char *)plain);
	strcpy(pass, colon ? colon + 1 : "");
	return true;
}

bool pxd_mock_iso8601_ok(const char *s)
{
	int y, mo, d, h, mi, sec, pos = 0;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &pos) != 6 ||
	    pos != 19)
		return false;
	s += pos;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	return strcmp(s, "Z") == 0 || ((*s == '+' || *s == '-') && strlen(s) == 6);
}

/* An empty configured credential accepts any non-empty one. */
bool pxd_mock_cred_ok(const char *want, const char *got)
{
	return got && *got && (!*want || strcmp(want, got) == 0);
}

bool pxd_mock_hex64(const json_t *v)
{
	return json_is_string(v) && pxd_payload_is_sha256(json_string_value(v));
}

/* A hashed field: a 64-hex string, or an array of them. */
bool pxd_mock_hashed_ok(const json_t *v)
{
	const json_t *e;
	size_t i;

	if (!json_is_array(v))
		return pxd_mock_hex64(v);
	json_array_foreach(v, i, e)
	{
		if (!pxd_mock_hex64(e))
			return false;
	}
	return json_array_size(v) > 0;
}

json_t *pxd_mock_parse_body(const struct pxd_http_req *req)
{
	return json_loadb(req->body.p, req->body.n, JSON_REJECT_DUPLICATES, NULL);
}

/* Skips "/<chars of set>+" at <p>; false when it is not there. */
bool pxd_mock_path_segment(const char **p, const char *end, const char *set)
{
	const char *q = *p;

	if (q >= end || *q++ != '/')
		return false;
	while (q < end && *q && strchr(set, *q))
		q++;
	if (q == *p + 1)
		return false;
	*p = q;
	return true;
}

bool pxd_mock_path_id(struct pxd_sv path, const char *before, const char *set, const char *after)
{
	const char *p = path.p, *end = path.p + path.n;

	if (!pxd_sv_starts_with(path, before))
		return false;
	p += strlen(before);
	return pxd_mock_path_segment(&p, end, set) &&
	       pxd_sv_eq_lit(pxd_sv_make(p, (size_t)(end - p)), after);
}

bool pxd_mock_items_ok(const struct pxd_mock *m, const json_t *list, int64_t now_ms,
		       pxd_mock_item_fn *ok, const char *label, char *msg, size_t msglen)
{
	char why[160];
	const json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
	{
		if (ok(m, e, now_ms, why, sizeof(why)))
			continue;
		snprintf(msg, msglen, "%s[%zu]: %s", label, i, why);
		return false;
	}
	return true;
}

bool pxd_mock_bearer_ok(const struct pxd_mock *m, enum pxd_mock_platform p,
			const struct pxd_http_req *req)
{
	char tok[1100];

	return pxd_mock_bearer(req, tok, sizeof(tok)) &&
	       pxd_mock_cred_ok(m->conf.credential[p], tok);
}

bool pxd_mock_marked(const struct pxd_mock *m, const char *event_id, char *why, size_t whylen)
{
	if (!m->conf.reject_marker[0] || !event_id || !strstr(event_id, m->conf.reject_marker))
		return false;
	if (why)
		snprintf(why, whylen, "%.64s carries the reject marker", event_id);
	return true;
}

bool pxd_mock_currency_ok(const char *s)
{
	return s && strlen(s) == 3 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3;
}

bool pxd_mock_one_of(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}
