// SPDX-License-Identifier: MIT
#include "daemon/console/console_auth.h"

#include <openssl/evp.h>
#include <string.h>

/* Compares <n> bytes of <a> with the NUL-terminated <key>, in time that
 * depends on the length only. */
static bool same(const char *a, size_t n, const char *key)
{
	unsigned char diff = 0;

	if (n != strlen(key))
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(a[i] ^ key[i]);
	return diff == 0;
}

bool pxd_admin_auth_ok(struct pxd_sv auth, const char *key)
{
	unsigned char plain[512];
	size_t enc;
	int n;

	if (pxd_sv_starts_with(auth, "Bearer "))
		return same(auth.p + 7, auth.n - 7, key);
	if (!pxd_sv_starts_with(auth, "Basic "))
		return false;
	/* Basic base64("user:key"): any user name, the key as the password. */
	enc = auth.n - 6;
	if (enc == 0 || enc % 4 || enc / 4 * 3 > sizeof(plain))
		return false;
	n = EVP_DecodeBlock(plain, (const unsigned char *)auth.p + 6, (int)enc);
	if (n < 0)
		return false;
	/* EVP_DecodeBlock counts the bytes the padding stands for. */
	n -= (auth.p[auth.n - 1] == '=') + (auth.p[auth.n - 2] == '=');
	for (int i = 0; i < n; i++)
		if (plain[i] == ':')
			return same((const char *)plain + i + 1, (size_t)(n - i - 1), key);
	return false;
}
