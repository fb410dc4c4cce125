// SPDX-License-Identifier: MIT
/*
 * The email key ring: keys added or loaded from their files (mode and length
 * checked) on the main thread before verifiers start, kept as HMAC pad blocks,
 * wiped on error or exit; then read-only lookups and tags for any thread.
 */
#include "email_keys.h"

/* For SHA256_Init() and friends: see pxd_email_key_tag(). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler.h"
#include "conf.h"
#include "email_fields.h"

#define HMAC_BLOCK 64

/*
 * HMAC-SHA256 (RFC 2104) from the key's pad blocks, first 16 bytes. This
 * uses SHA256_Init/Update/Final, deprecated in OpenSSL 3, because the other
 * ways allocate on every call: HMAC() and EVP_MAC build a context, and even
 * the one-shot SHA256() fetches the algorithm (3 allocations per call on
 * OpenSSL 3.0, counted by test_verify_allocates_nothing). The endpoint
 * verifies per request, so it may neither allocate nor take the provider lock.
 */
void pxd_email_key_tag(const struct pxd_email_key *k, const uint8_t *msg, size_t n,
		       uint8_t tag[PXD_EMAIL_TAG_LEN])
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, k->ipad, HMAC_BLOCK);
	SHA256_Update(&c, msg, n);
	SHA256_Final(md, &c);
	SHA256_Init(&c);
	SHA256_Update(&c, k->opad, HMAC_BLOCK);
	SHA256_Update(&c, md, sizeof(md));
	SHA256_Final(md, &c);
	memcpy(tag, md, PXD_EMAIL_TAG_LEN);
	OPENSSL_cleanse(&c, sizeof(c));
}

int pxd_email_keys_add(struct pxd_email_keys *ring, struct pxd_sv kid, const void *secret,
		       size_t len)
{
	struct pxd_email_key *k;
	uint8_t block[HMAC_BLOCK] = { 0 };

	if (!pxd_email_str_ok(kid, 1, PXD_EMAIL_KID_MAX, PXD_EMAIL_CHARS_ID) ||
	    len < PXD_EMAIL_SECRET_MIN || len > PXD_EMAIL_SECRET_MAX)
		return -EINVAL;
	if (pxd_email_key_find(ring, kid))
		return -EEXIST;
	if (ring->n == ARRAY_SIZE(ring->key))
		return -ENOSPC;
	k = &ring->key[ring->n++];
	memcpy(k->kid, kid.p, kid.n);
	k->kid[kid.n] = '\0';
	k->kid_len = (uint8_t)kid.n;
	/* RFC 2104 §2: a key longer than the block is hashed first. */
	if (len > HMAC_BLOCK)
		SHA256(secret, len, block);
	else
		memcpy(block, secret, len);
	for (size_t i = 0; i < HMAC_BLOCK; i++) {
		k->ipad[i] = block[i] ^ 0x36;
		k->opad[i] = block[i] ^ 0x5c;
	}
	OPENSSL_cleanse(block, sizeof(block));
	return 0;
}

void pxd_email_keys_wipe(struct pxd_email_keys *ring)
{
	OPENSSL_cleanse(ring, sizeof(*ring));
}

/* Reads key <kid>'s file with the secret reader every secret file goes through (conf.h). */
static int secret_read(const char *kid, const char *path, uint8_t *buf, size_t *len, char *err,
		       size_t errlen)
{
	char why[512];
	int ret = pxd_conf_secret_file(path, buf, PXD_EMAIL_SECRET_MAX + 1, len, why, sizeof(why));

	if (ret) {
		snprintf(err, errlen, "email.keys: key %s: %s", kid, why);
		return ret;
	}
	if (*len < PXD_EMAIL_SECRET_MIN || *len > PXD_EMAIL_SECRET_MAX) {
		snprintf(err, errlen,
			 "email.keys: key %s: %s holds %zu bytes, not %d..%d; make one with "
			 "openssl rand -hex 32 > %s",
			 kid, path, *len, PXD_EMAIL_SECRET_MIN, PXD_EMAIL_SECRET_MAX, path);
		return -EINVAL;
	}
	return 0;
}

int pxd_email_keys_load(struct pxd_email_keys *ring, const struct pxd_conf_email *conf, char *err,
			size_t errlen)
{
	uint8_t secret[PXD_EMAIL_SECRET_MAX + 2];
	size_t len = 0;
	int ret = 0;

	memset(ring, 0, sizeof(*ring));
	for (size_t i = 0; i < conf->nkeys && !ret; i++) {
		const struct pxd_conf_email_key *ck = &conf->keys[i];

		ret = secret_read(ck->kid, ck->path, secret, &len, err, errlen);
		if (ret)
			break;
		ret = pxd_email_keys_add(ring, pxd_sv_cstr(ck->kid), secret, len);
		if (ret)
			snprintf(err, errlen, "email.keys: key %s: %s; check the key id", ck->kid,
				 strerror(-ret));
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	if (ret)
		pxd_email_keys_wipe(ring);
	return ret;
}

const struct pxd_email_key *pxd_email_key_find(const struct pxd_email_keys *ring, struct pxd_sv kid)
{
	for (size_t i = 0; i < ring->n; i++) {
		if (pxd_sv_eq(kid, pxd_sv_make(ring->key[i].kid, ring->key[i].kid_len)))
			return &ring->key[i];
	}
	return NULL;
}
