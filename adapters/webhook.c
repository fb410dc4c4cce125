// SPDX-License-Identifier: MIT
/*
 * webhook.c - the generic webhook destination: POST `url` with a JSON array
 * of the canonical events exactly as journaled, signed per webhook.h. Not an
 * ad platform: it gets every event, and the receiver applies consent.
 */
#include "webhook.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "daemon.h"
#include "payload.h"

struct webhook {
	char url[1024];
	char secret[512];
	size_t secret_len;
};

/* HMAC-SHA256 over "<t>." then <body>, without copying the body. */
static int hmac(const void *secret, size_t secret_len, const char *ts, size_t tslen,
		const void *body, size_t len, unsigned char md[32])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t mdlen = 0;
	int ok;

	ok = ctx && EVP_MAC_init(ctx, secret, secret_len, params) &&
	     EVP_MAC_update(ctx, (const unsigned char *)ts, tslen) &&
	     EVP_MAC_update(ctx, body, len) && EVP_MAC_final(ctx, md, &mdlen, 32) && mdlen == 32;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : -EIO;
}

int pxd_webhook_sign(const void *secret, size_t secret_len, int64_t t, const void *body, size_t len,
		     char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	char ts[24];
	int n;

	if (t < 0)
		return -EINVAL;
	if (outlen < PXD_WEBHOOK_SIG_MAX)
		return -ENOSPC;
	n = snprintf(ts, sizeof(ts), "%" PRId64 ".", t);
	if (hmac(secret, secret_len, ts, (size_t)n, body, len, md))
		return -EIO;
	n = snprintf(out, outlen, "t=%" PRId64 ",v1=", t);
	for (size_t i = 0; i < sizeof(md); i++) {
		out[n++] = hex[md[i] >> 4];
		out[n++] = hex[md[i] & 15];
	}
	out[n] = '\0';
	return 0;
}

int pxd_webhook_verify(const void *secret, size_t secret_len, const char *sig, const void *body,
		       size_t len, int64_t now, int64_t tolerance_s)
{
	char want[PXD_WEBHOOK_SIG_MAX];
	long long t;
	int pos = 0;

	if (!sig || sscanf(sig, "t=%lld,v1=%n", &t, &pos) != 1 || !pos || t < 0 ||
	    strlen(sig + pos) != 64)
		return -EBADMSG;
	if (pxd_webhook_sign(secret, secret_len, t, body, len, want, sizeof(want)))
		return -EBADMSG;
	if (strlen(want) != strlen(sig) || CRYPTO_memcmp(want, sig, strlen(want)) != 0)
		return -EBADMSG;
	if (t > now + tolerance_s || t < now - tolerance_s)
		return -ETIME;
	return 0;
}

static const char *const conf_keys[] = { "url", "secret", NULL };

static int webhook_init(struct pxd_dest *dest, const char *conf_path, char *err, size_t errlen)
{
	struct webhook *w = calloc(1, sizeof(*w));
	int line = dest->conf->line;
	int rc;

	if (!w)
		return -ENOMEM;
	dest->priv = w;
	rc = pxd_payload_check_keys(dest, conf_path, conf_keys, false, err, errlen);
	if (!rc)
		rc = pxd_payload_key(dest, conf_path, "url", NULL, w->url, sizeof(w->url), err,
				     errlen);
	if (!rc && strncmp(w->url, "https://", 8) != 0 && strncmp(w->url, "http://", 7) != 0) {
		pxd_conf_dest_get(dest->conf, "url", &line);
		snprintf(err, errlen, "%s:%d: url: \"%s\" is not an http(s) URL", conf_path, line,
			 w->url);
		rc = -EINVAL;
	}
	if (!rc)
		rc = pxd_payload_secret(dest, conf_path, "secret", w->secret, sizeof(w->secret),
					err, errlen);
	if (!rc)
		w->secret_len = strlen(w->secret);
	return rc;
}

static void webhook_fini(struct pxd_dest *dest)
{
	struct webhook *w = dest->priv;

	if (w)
		OPENSSL_cleanse(w->secret, sizeof(w->secret));
	free(w);
	dest->priv = NULL;
}

static int webhook_build(struct pxd_dest *dest, const struct pxd_batch *b, struct pxd_request *req)
{
	struct webhook *w = dest->priv;
	char sig[PXD_WEBHOOK_SIG_MAX];
	size_t start = req->body.len;
	int rc = pxd_buf_append(&req->body, "[", 1);

	/* The journaled lines as they are: receivers get the canonical
	 * events byte for byte, and nothing is parsed or re-serialized. */
	for (size_t i = 0; !rc && i < b->n; i++) {
		if (i)
			rc = pxd_buf_append(&req->body, ",", 1);
		if (!rc)
			rc = pxd_buf_append(&req->body, b->items[i].line, b->items[i].len);
	}
	if (!rc)
		rc = pxd_buf_append(&req->body, "]", 1);
	if (!rc)
		rc = pxd_webhook_sign(w->secret, w->secret_len, pxd_now_ms() / 1000,
				      req->body.p + start, req->body.len - start, sig, sizeof(sig));
	if (!rc)
		rc = pxd_payload_url(req, "%s", w->url);
	if (!rc)
		rc = pxd_payload_header(req, "Content-Type: application/json");
	if (!rc)
		rc = pxd_payload_header(req, PXD_WEBHOOK_HEADER ": %s", sig);
	return rc;
}

static void webhook_classify(struct pxd_dest *dest, const struct pxd_batch *b,
			     const struct pxd_response *resp, struct pxd_outcome *out)
{
	(void)dest;
	pxd_payload_classify_http("webhook", resp, out, b->n);
}

const struct pxd_adapter pxd_adapter_webhook = {
	.type = "webhook",
	.max_events = 1000,
	.max_bytes = 1000 * 1000,
	/* The body is the lines themselves: the dispatcher only reads them
	 * for consent and filters, and never parses a tree for this one. */
	.flags = PXD_ADAPTER_READS_LINE,
	.init = webhook_init,
	.fini = webhook_fini,
	.build = webhook_build,
	.classify = webhook_classify,
};
