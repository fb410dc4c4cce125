// SPDX-License-Identifier: MIT
#include "daemon/tls/tls_tickets.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>
#include <time.h>

#define NAME_LEN 16 /* OpenSSL's key_name: 8 bytes of period, 8 of tag */
#define KEY_LEN 32

struct period_keys {
	uint64_t period;
	int valid;
	unsigned char name[NAME_LEN];
	unsigned char aes[KEY_LEN];
	unsigned char hmac[KEY_LEN];
};

static unsigned char master[KEY_LEN];
static int master_ready;
static uint32_t rotation_s = 3600; /* read with relaxed loads: a stale value is harmless */

/* Each thread keeps the keys of the last two periods it needed. */
static __thread struct period_keys cache[2];

int pxd_tls_tickets_init(uint32_t rot)
{
	if (!master_ready) {
		if (RAND_bytes(master, sizeof(master)) != 1)
			return -EIO;
		master_ready = 1;
	}
	pxd_tls_tickets_set_rotation(rot);
	return 0;
}

void pxd_tls_tickets_set_rotation(uint32_t rot)
{
	__atomic_store_n(&rotation_s, rot, __ATOMIC_RELAXED);
}

/* out = HMAC-SHA256(master, label || period) */
static void derive(const char *label, uint64_t period, unsigned char out[KEY_LEN])
{
	unsigned char msg[32];
	size_t n = strlen(label);
	unsigned int len = KEY_LEN;

	memcpy(msg, label, n);
	for (int i = 0; i < 8; i++)
		msg[n + (size_t)i] = (unsigned char)(period >> (56 - 8 * i));
	HMAC(EVP_sha256(), master, sizeof(master), msg, n + 8, out, &len);
}

static const struct period_keys *keys_for(uint64_t period)
{
	struct period_keys *k = &cache[period & 1];
	unsigned char tag[KEY_LEN];

	if (k->valid && k->period == period)
		return k;
	k->period = period;
	for (int i = 0; i < 8; i++)
		k->name[i] = (unsigned char)(period >> (56 - 8 * i));
	derive("pixeld name", period, tag);
	memcpy(k->name + 8, tag, NAME_LEN - 8);
	derive("pixeld aes", period, k->aes);
	derive("pixeld hmac", period, k->hmac);
	k->valid = 1;
	return k;
}

static uint64_t current_period(void)
{
	return (uint64_t)time(NULL) / __atomic_load_n(&rotation_s, __ATOMIC_RELAXED);
}

static int set_mac_key(EVP_MAC_CTX *hctx, const struct period_keys *k)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac, KEY_LEN),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	return EVP_MAC_CTX_set_params(hctx, params) == 1;
}

/*
 * OpenSSL's contract (SSL_CTX_set_tlsext_ticket_key_evp_cb(3)): on <enc> fill
 * key_name and iv and set up both contexts, returning 1; on decrypt return
 * 0 for an unknown key (full handshake), 1 to accept, 2 to accept and issue
 * a fresh ticket, -1 on error.
 */
static int ticket_cb(SSL *s, unsigned char *key_name, unsigned char *iv, EVP_CIPHER_CTX *ctx,
		     EVP_MAC_CTX *hctx, int enc)
{
	uint64_t now = current_period();
	const struct period_keys *k;
	uint64_t period = 0;

	(void)s;
	if (enc) {
		k = keys_for(now);
		if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1)
			return -1;
		memcpy(key_name, k->name, NAME_LEN);
		if (EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, k->aes, iv) != 1 ||
		    !set_mac_key(hctx, k))
			return -1;
		return 1;
	}
	for (int i = 0; i < 8; i++)
		period = period << 8 | key_name[i];
	if (period != now && period + 1 != now)
		return 0;
	k = keys_for(period);
	if (CRYPTO_memcmp(k->name, key_name, NAME_LEN) != 0)
		return 0;
	if (!set_mac_key(hctx, k) ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, k->aes, iv) != 1)
		return -1;
	/* Always a fresh ticket: clients use each one once (RFC 8446 §C.4), and OpenSSL
	 * sends none on a resumed handshake unless asked to renew. */
	return 2;
}

void pxd_tls_tickets_attach(SSL_CTX *ctx)
{
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
	SSL_CTX_set_timeout(ctx, (long)__atomic_load_n(&rotation_s, __ATOMIC_RELAXED) * 2);
}
