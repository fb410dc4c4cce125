// SPDX-License-Identifier: MIT
/*
 * Helpers every adapter shares: config keys and secrets with file:line
 * errors, key and map checks, SHA-256 hex, canonical-event field access and
 * event age. No state; the dispatcher thread of the calling destination.
 */
#include "payload.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "conf.h"
#include "http_out.h"

/* specs/ad-apis.md §2 quotes bodies in reasons; this much is enough to tell
 * one platform message from another without filling the 192-byte reason. */
#define EXCERPT_MAX 96

static int key_line(const struct pxd_dest *dest, const char *key)
{
	int line = dest->conf->line;

	pxd_conf_dest_get(dest->conf, key, &line);
	return line;
}

int pxd_payload_key(const struct pxd_dest *dest, const char *conf_path, const char *key,
		    const char *def, char *out, size_t outlen, char *err, size_t errlen)
{
	int line = dest->conf->line;
	const char *v = pxd_conf_dest_get(dest->conf, key, &line);

	if (!v || !*v)
		v = def;
	if (!v) {
		snprintf(err, errlen,
			 "%s:%d: %s: missing in [destination \"%s\"]; type %s needs it", conf_path,
			 dest->conf->line, key, dest->conf->name, dest->conf->type);
		return -EINVAL;
	}
	if (strlen(v) >= outlen) {
		snprintf(err, errlen, "%s:%d: %s: value longer than %zu bytes", conf_path, line,
			 key, outlen - 1);
		return -EINVAL;
	}
	strcpy(out, v);
	return 0;
}

int pxd_payload_key_shape(const struct pxd_dest *dest, const char *conf_path, const char *key,
			  const char *prefix, const char *set, const char *what, char *out,
			  size_t outlen, char *err, size_t errlen)
{
	size_t pre = strlen(prefix);
	int rc = pxd_payload_key(dest, conf_path, key, NULL, out, outlen, err, errlen);

	if (rc)
		return rc;
	if (strncmp(out, prefix, pre) == 0 && out[pre] && !out[pre + strspn(out + pre, set)])
		return 0;
	snprintf(err, errlen, "%s:%d: %s: \"%s\" is not %s", conf_path, key_line(dest, key), key,
		 out, what);
	return -EINVAL;
}

int pxd_payload_secret(const struct pxd_dest *dest, const char *conf_path, const char *key,
		       char *out, size_t outlen, char *err, size_t errlen)
{
	char why[256];
	int line = dest->conf->line;
	const char *v = pxd_conf_dest_get(dest->conf, key, &line);
	int rc;

	if (!v || !*v) {
		snprintf(err, errlen,
			 "%s:%d: %s: missing in [destination \"%s\"]; set it to the value, "
			 "file:PATH or env:NAME",
			 conf_path, dest->conf->line, key, dest->conf->name);
		return -EINVAL;
	}
	why[0] = '\0';
	rc = pxd_conf_secret(v, out, outlen, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "%s:%d: %s: %s", conf_path, line, key,
			 why[0] ? why : strerror(-rc));
		return -EINVAL;
	}
	if (!out[0]) {
		snprintf(err, errlen, "%s:%d: %s: the secret is empty", conf_path, line, key);
		return -EINVAL;
	}
	return 0;
}

int pxd_payload_bool(const struct pxd_dest *dest, const char *conf_path, const char *key, bool def,
		     bool *out, char *err, size_t errlen)
{
	int line = dest->conf->line;
	const char *v = pxd_conf_dest_get(dest->conf, key, &line);

	if (!v) {
		*out = def;
		return 0;
	}
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
		*out = v[0] == 't';
		return 0;
	}
	snprintf(err, errlen, "%s:%d: %s: \"%s\" is not a boolean; write true or false", conf_path,
		 line, key, v);
	return -EINVAL;
}

int pxd_payload_api_base(const struct pxd_dest *dest, const char *conf_path, const char *def,
			 char *out, size_t outlen, char *err, size_t errlen)
{
	const char *host;
	size_t n;
	int rc = pxd_payload_key(dest, conf_path, "api_base", def, out, outlen, err, errlen);

	if (rc)
		return rc;
	if (strncmp(out, "https://", 8) == 0)
		host = out + 8;
	else if (strncmp(out, "http://", 7) == 0)
		host = out + 7;
	else
		host = NULL;
	n = strlen(out);
	while (n && out[n - 1] == '/')
		out[--n] = '\0';
	if (!host || !*host || strpbrk(out, " ?#")) {
		snprintf(err, errlen,
			 "%s:%d: api_base: \"%s\" is not scheme://host[:port] (http or https)",
			 conf_path, key_line(dest, "api_base"), out);
		return -EINVAL;
	}
	return 0;
}

static bool key_in(const char *const *keys, const char *k)
{
	for (size_t j = 0; keys && keys[j]; j++)
		if (strcmp(keys[j], k) == 0)
			return true;
	return false;
}

static size_t key_list(char *list, size_t len, size_t off, const char *const *keys)
{
	for (size_t j = 0; keys && keys[j] && off < len; j++)
		off += (size_t)snprintf(list + off, len - off, "%s%s", off ? ", " : "", keys[j]);
	return off;
}

int pxd_payload_check_keys(const struct pxd_dest *dest, const char *conf_path,
			   const char *const *known, bool with_map, char *err, size_t errlen)
{
	const struct pxd_conf_dest *c = dest->conf;
	/* Adapters that send HTTP (they build requests) go through http_out.c,
	 * which reads its transport keys from the same section. */
	const char *const *transport =
	    dest->adapter && dest->adapter->build ? pxd_http_out_conf_keys : NULL;
	char list[512];

	for (size_t i = 0; i < c->nkv; i++) {
		const char *k = c->kv[i].key;

		if ((with_map && strncmp(k, "map.", 4) == 0) || key_in(known, k) ||
		    key_in(transport, k))
			continue;
		list[0] = '\0';
		key_list(list, sizeof(list), key_list(list, sizeof(list), 0, known), transport);
		snprintf(err, errlen, "%s:%d: %s: unknown key for type %s; it takes %s%s",
			 conf_path, c->kv[i].line, k, c->type, list,
			 with_map ? ", map.<Event>" : "");
		return -EINVAL;
	}
	return 0;
}

static bool name_ok(const char *v, const char *allowed_extra)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && *v != '_' && !strchr(allowed_extra, *v))
			return false;
	return true;
}

int pxd_payload_check_map(const struct pxd_dest *dest, const char *conf_path,
			  const char *allowed_extra, char *err, size_t errlen)
{
	const struct pxd_conf_dest *c = dest->conf;

	for (size_t i = 0; i < c->nkv; i++) {
		const struct pxd_conf_kv *kv = &c->kv[i];

		if (strncmp(kv->key, "map.", 4) != 0)
			continue;
		if (kv->key[4] && name_ok(kv->value, allowed_extra))
			continue;
		snprintf(err, errlen,
			 "%s:%d: %s: \"%s\" is not a %s name (letters, digits, '_'%s%s)", conf_path,
			 kv->line, kv->key, kv->value, c->type, allowed_extra[0] ? ", " : "",
			 allowed_extra);
		return -EINVAL;
	}
	return 0;
}

void pxd_payload_sha256_hex(const void *p, size_t n, char out[PXD_SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(p, n, md);
	for (size_t i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[PXD_SHA256_HEX_LEN] = '\0';
}

bool pxd_payload_is_sha256_n(const char *s, size_t n)
{
	const uint64_t highs = 0x8080808080808080ull;
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t bad = 0;

	if (n != PXD_SHA256_HEX_LEN)
		return false;
	/*
	 * Eight bytes at a time, as this runs for each hashed field of each
	 * event sent. With every byte below 0x80 (checked: <bad> takes the
	 * high bits), adding 0x80 - c to a byte sets its high bit exactly when
	 * the byte is >= c, and no carry crosses into the next byte: a digit
	 * is >= '0' and not >= '9' + 1, a hex letter >= 'a' and not >= 'f' + 1.
	 */
	for (size_t i = 0; i < PXD_SHA256_HEX_LEN; i += 8) {
		uint64_t x, digit, letter;

		memcpy(&x, s + i, 8);
		bad |= x & highs;
		x &= ~highs;
		digit = (x + ones * (0x80 - '0')) & ~(x + ones * (0x80 - '9' - 1));
		letter = (x + ones * (0x80 - 'a')) & ~(x + ones * (0x80 - 'f' - 1));
		bad |= ~(digit | letter) & highs;
	}
	return !bad;
}

bool pxd_payload_is_sha256(const char *s)
{
	return pxd_payload_is_sha256_n(s, strnlen(s, PXD_SHA256_HEX_LEN + 1));
}

json_t *pxd_payload_get(const json_t *ev, const char *obj, const char *key)
{
	const json_t *o = obj ? json_object_get(ev, obj) : ev;

	return json_is_object(o) ? json_object_get(o, key) : NULL;
}

const char *pxd_payload_str(const json_t *ev, const char *obj, const char *key)
{
	const char *s = json_string_value(pxd_payload_get(ev, obj, key));

	return s && *s ? s : NULL;
}

int64_t pxd_payload_ts_ms(const json_t *ev)
{
	const json_t *ts = json_object_get(ev, "ts");

	return json_is_integer(ts) && json_integer_value(ts) > 0 ? json_integer_value(ts) : -1;
}

const char *pxd_payload_event_name(const struct pxd_dest *dest, const char *canonical,
				   const struct pxd_payload_name *tab, size_t n, bool pass_custom)
{
	const struct pxd_conf_dest *c = dest->conf;
	bool fits = strlen(canonical) + 4 < PXD_CONF_NAME_MAX;

	/* map.<canonical>, the first such key as pxd_conf_dest_get() finds
	 * it, without formatting the key for each event. */
	for (size_t i = 0; fits && i < c->nkv; i++) {
		if (strncmp(c->kv[i].key, "map.", 4) || strcmp(c->kv[i].key + 4, canonical))
			continue;
		if (*c->kv[i].value)
			return c->kv[i].value;
		break;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(tab[i].canonical, canonical) == 0)
			return tab[i].platform;
	return pass_custom ? canonical : NULL;
}

static bool is_currency(const char *s)
{
	return s && strlen(s) == 3 && isupper((unsigned char)s[0]) &&
	       isupper((unsigned char)s[1]) && isupper((unsigned char)s[2]);
}

enum pxd_delivery pxd_payload_check_facts(const struct pxd_payload_facts *f, const char *platform,
					  int64_t now_ms, int64_t max_age_ms, char *reason,
					  size_t reason_len)
{
	int64_t ts = f->ts_ms;

	if (!f->has_ids) {
		snprintf(reason, reason_len, "%s: event without event_id or event name", platform);
		return PXD_DELIVERY_PERMANENT;
	}
	if (ts < 0) {
		snprintf(reason, reason_len, "%s: event without an integer ts (Unix ms)", platform);
		return PXD_DELIVERY_PERMANENT;
	}
	if (now_ms - ts > max_age_ms) {
		snprintf(reason, reason_len,
			 "%s: event is %" PRId64 " h old; the platform accepts at most %" PRId64
			 " h (specs/ad-apis.md §7)",
			 platform, (now_ms - ts) / 3600000, max_age_ms / 3600000);
		return PXD_DELIVERY_PERMANENT;
	}
	if (ts - now_ms > PXD_PAYLOAD_MAX_FUTURE_MS) {
		snprintf(reason, reason_len,
			 "%s: event ts is %" PRId64 " s in the future; fix the sender's clock",
			 platform, (ts - now_ms) / 1000);
		return PXD_DELIVERY_PERMANENT;
	}
	if (f->has_value && !f->value_ok) {
		snprintf(reason, reason_len, "%s: props.value is not a non-negative number",
			 platform);
		return PXD_DELIVERY_PERMANENT;
	}
	if (f->has_value && !is_currency(f->currency)) {
		snprintf(reason, reason_len,
			 "%s: props.value needs props.currency as an ISO 4217 code such as \"USD\"",
			 platform);
		return PXD_DELIVERY_PERMANENT;
	}
	if (f->currency && !is_currency(f->currency)) {
		snprintf(reason, reason_len,
			 "%s: props.currency \"%.8s\" is not an ISO 4217 code such as \"USD\"",
			 platform, f->currency);
		return PXD_DELIVERY_PERMANENT;
	}
	return PXD_DELIVERY_OK;
}

enum pxd_delivery pxd_payload_check_common(const json_t *ev, const char *platform, int64_t now_ms,
					   int64_t max_age_ms, char *reason, size_t reason_len)
{
	const json_t *value = pxd_payload_get(ev, "props", "value");
	struct pxd_payload_facts f = {
		.has_ids =
		    pxd_payload_str(ev, NULL, "event_id") && pxd_payload_str(ev, NULL, "event"),
		.ts_ms = pxd_payload_ts_ms(ev),
		.has_value = value != NULL,
		.value_ok = json_is_number(value) && json_number_value(value) >= 0,
		.currency = pxd_payload_str(ev, "props", "currency"),
	};

	return pxd_payload_check_facts(&f, platform, now_ms, max_age_ms, reason, reason_len);
}

static int dump_cb(const char *p, size_t n, void *data)
{
	return pxd_buf_append(data, p, n) ? -1 : 0;
}

int pxd_payload_dump(struct pxd_buf *b, const json_t *root)
{
	/* 15 digits print 99.99 as "99.99" where jansson's default 17 gives
	 * "99.989999999999995"; platforms compare values to the cent. */
	return json_dump_callback(root, dump_cb, b, JSON_COMPACT | JSON_REAL_PRECISION(15))
		   ? -ENOMEM
		   : 0;
}

int pxd_payload_header(struct pxd_request *req, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (req->nheaders >= PXD_REQ_MAX_HEADERS)
		return -ENOSPC;
	va_start(ap, fmt);
	n = vsnprintf(req->headers[req->nheaders], sizeof(req->headers[0]), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(req->headers[0]))
		return -ENAMETOOLONG;
	req->nheaders++;
	return 0;
}

int pxd_payload_url(struct pxd_request *req, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(req->url, sizeof(req->url), fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= sizeof(req->url) ? -ENAMETOOLONG : 0;
}

ssize_t pxd_payload_pct_encode(char *out, size_t outlen, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			if (o + 1 >= outlen)
				return -ENAMETOOLONG;
			out[o++] = (char)c;
			continue;
		}
		if (o + 3 >= outlen)
			return -ENAMETOOLONG;
		out[o++] = '%';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	if (o >= outlen)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return (ssize_t)o;
}

void pxd_payload_outcomes(struct pxd_outcome *out, size_t n, enum pxd_delivery d,
			  uint32_t retry_after_ms, const char *fmt, ...)
{
	char reason[sizeof(out->reason)];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	/* The text and its NUL, not the whole array, for each of up to a
	 * batch of events. */
	len = len < 0 ? 0 : PXD_MIN(len, (int)sizeof(reason) - 1);
	reason[len] = '\0';
	for (size_t i = 0; i < n; i++) {
		out[i].delivery = d;
		out[i].retry_after_ms = d == PXD_DELIVERY_RETRY ? retry_after_ms : 0;
		memcpy(out[i].reason, reason, (size_t)len + 1);
	}
}

/* A one-line, printable excerpt of <resp>'s body for a reason string. */
static void excerpt(const struct pxd_response *resp, char *out, size_t outlen)
{
	size_t n = 0;

	for (size_t i = 0; resp->body && i < resp->len && n + 1 < outlen && n < EXCERPT_MAX; i++) {
		unsigned char c = (unsigned char)resp->body[i];

		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
	}
	out[n] = '\0';
}

void pxd_payload_classify_http(const char *platform, const struct pxd_response *resp,
			       struct pxd_outcome *out, size_t n)
{
	char body[EXCERPT_MAX + 1];
	long s = resp->status;

	if (s == 0) {
		pxd_payload_outcomes(out, n, PXD_DELIVERY_RETRY, 0, "%s: transport: %s", platform,
				     resp->transport_error ? resp->transport_error : "failed");
		return;
	}
	if (s >= 200 && s < 300) {
		pxd_payload_outcomes(out, n, PXD_DELIVERY_OK, 0, "%s: HTTP %ld", platform, s);
		return;
	}
	excerpt(resp, body, sizeof(body));
	pxd_payload_outcomes(
	    out, n, s == 408 || s == 429 || s >= 500 ? PXD_DELIVERY_RETRY : PXD_DELIVERY_PERMANENT,
	    resp->retry_after_ms, "%s: HTTP %ld: %s", platform, s, body);
}

json_t *pxd_payload_parse_body(const struct pxd_response *resp)
{
	if (!resp->body || !resp->len)
		return NULL;
	return json_loadb(resp->body, resp->len, JSON_REJECT_DUPLICATES, NULL);
}
